/// What the window stores: the event, its one-time serialisation (reused by every response and
/// SSE subscriber), and its sequence number (the SSE id).
public struct StoredEvent: Sendable {
    public let sequence: UInt64
    public let event: ListenEvent
    public let json: [UInt8]

    public init(sequence: UInt64, event: ListenEvent, json: [UInt8]) {
        self.sequence = sequence
        self.event = event
        self.json = json
    }
}
