/// What the window stores: the event and its sequence number (the SSE id).
///
/// The window keeps no serialisation: while catching up, nearly every event is evicted before
/// anyone asks for it, and encoding them all was a fifth of the loop thread's share of ingest.
/// Responses and stream frames encode the events they send straight into their own buffers
/// (`ListenEvent.write(to:)`); the response cache and the hub's one frame per event for all
/// subscribers keep that to once per event per answer.
public struct StoredEvent: Sendable {
    public let sequence: UInt64
    public let event: ListenEvent
    /// Ids of the text values in the window's tables (meaningless outside a window).
    let keys: FacetKeys
    /// The Kafka partition, -1 when unknown. Kept as two plain fields rather than a
    /// `KafkaPosition?`: the partition fills the padding after `keys`, so the pair adds only
    /// 8 bytes to each slot of the ring (the window is memory-bound; see the layout test).
    private let partition: Int32
    private let offset: Int64
    let id: EventIDKey

    init(sequence: UInt64, event: ListenEvent, keys: FacetKeys, id: EventIDKey, position: KafkaPosition?) {
        self.sequence = sequence
        self.event = event
        self.keys = keys
        self.partition = position?.partition ?? -1
        self.offset = position?.offset ?? -1
        self.id = id
    }

    /// The partition, -1 when the event did not come from a consumer.
    var partitionIndex: Int32 { partition }
    /// The offset, -1 when the event did not come from a consumer.
    var offsetValue: Int64 { offset }

    /// Whether it was read from Kafka after `position` (never, for an event not read from Kafka).
    @inline(__always)
    public func isRead(after position: StreamPosition) -> Bool {
        partition >= 0 && position.isAfter(partition: partition, offset: offset)
    }

    /// Where the event was read in Kafka; nil for an event that did not come from a consumer
    /// (one appended in code).
    public var position: KafkaPosition? {
        partition < 0 ? nil : KafkaPosition(partition: partition, offset: offset)
    }
}
