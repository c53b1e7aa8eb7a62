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
    let id: EventIDKey

    init(sequence: UInt64, event: ListenEvent, keys: FacetKeys, id: EventIDKey) {
        self.sequence = sequence
        self.event = event
        self.keys = keys
        self.id = id
    }
}
