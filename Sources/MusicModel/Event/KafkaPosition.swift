/// Where a held event was read in Kafka: its partition and offset, without the topic (the window
/// holds one topic's events, and a string per event would cost a retain and 16 bytes each).
/// The window keeps it so that someone looking into one odd listen can find its record.
public struct KafkaPosition: Sendable, Equatable, Hashable {
    public var partition: Int32
    public var offset: Int64

    public init(partition: Int32, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }

    public init(_ origin: EventOrigin) {
        self.init(partition: origin.partition, offset: origin.offset)
    }
}
