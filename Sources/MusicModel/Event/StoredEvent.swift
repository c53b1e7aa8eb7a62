/// A held event as the window hands it out: the listen, its sequence number (the SSE id) and
/// where it was read in Kafka.
///
/// The window itself keeps listens compactly (`WindowSlot`: text as ids, no serialisation) and
/// builds a `StoredEvent` only for the events an answer returns. Responses and stream frames
/// encode them straight into their own buffers (`ListenEvent.write(to:)`); the response cache
/// and the hub's one frame per event for all subscribers keep that to once per event per answer.
public struct StoredEvent: Sendable {
    public let sequence: UInt64
    public let event: ListenEvent
    /// The Kafka partition, -1 when unknown (two plain fields rather than a `KafkaPosition?`).
    private let partition: Int32
    private let offset: Int64

    init(sequence: UInt64, event: ListenEvent, partition: Int32, offset: Int64) {
        self.sequence = sequence
        self.event = event
        self.partition = partition
        self.offset = offset
    }

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
