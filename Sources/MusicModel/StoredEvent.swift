/// What the window stores: the event, its one-time serialisation (reused by every response and
/// SSE subscriber), and its sequence number (the SSE id).
public struct StoredEvent: Sendable {
    public let sequence: UInt64
    public let event: ListenEvent
    public let json: [UInt8]
    /// Ids of the text values in the window's tables (meaningless outside a window).
    let keys: FacetKeys
    let id: EventIDKey

    public init(sequence: UInt64, event: ListenEvent, json: [UInt8]) {
        self.init(sequence: sequence, event: event, json: json, keys: FacetKeys(), id: EventIDKey(event.eventID))
    }

    init(sequence: UInt64, event: ListenEvent, json: [UInt8], keys: FacetKeys, id: EventIDKey) {
        self.sequence = sequence
        self.event = event
        self.json = json
        self.keys = keys
        self.id = id
    }
}
