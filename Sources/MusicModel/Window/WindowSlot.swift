/// How the window holds one listen: numbers as they are, every text field as the id of its
/// value in one of the window's tables, and the event_id as its 128 bits.
///
/// A `ListenEvent` is twelve `String`s (192 bytes inline, plus a 36-character event_id on the
/// heap) although nearly all of its text repeats from listen to listen. A slot is 104 bytes and
/// allocates nothing, which is what lets a window of a million listens fit in a few hundred
/// megabytes. Scans read the slot in place; `EventWindow` builds a `ListenEvent` back from it
/// only for the events a request returns.
struct WindowSlot {
    var timestamp: Int64
    /// -1 for an event that did not come from a consumer.
    var offset: Int64
    var idHigh: UInt64
    var idLow: UInt64
    var duration: Int64
    var listenPosition: Int64
    /// -1 for an event that did not come from a consumer.
    var partition: Int32
    /// The decoder admits 0...5; an event built in code with a rating beyond 32 bits is held
    /// clamped to them.
    var rating: Int32
    var facetKeys: FacetKeys
    var detailKeys: DetailKeys
    /// The id bits are a hash of non-UUID text (part of the id's identity).
    var hashedID: Bool
    /// The id's text is not a lowercase UUID, so the window keeps it beside the ring.
    var textHeld: Bool

    @inline(__always)
    var id: EventIDKey { EventIDKey(high: idHigh, low: idLow, hashed: hashedID) }

    @inline(__always)
    var isCompleted: Bool {
        ListenEvent.isCompleted(position: Int(truncatingIfNeeded: listenPosition), duration: Int(truncatingIfNeeded: duration))
    }

    /// Whether it was read from Kafka after `position` (never, for an event not read from Kafka).
    @inline(__always)
    func isRead(after position: StreamPosition) -> Bool {
        partition >= 0 && position.isAfter(partition: partition, offset: offset)
    }
}
