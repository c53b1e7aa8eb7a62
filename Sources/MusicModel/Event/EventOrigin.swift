/// Where a Kafka message came from; a message without event_id gets an id derived from this,
/// so redelivery of the same message yields the same id.
public struct EventOrigin: Sendable, Equatable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// The stable UUID-formatted id (version 8, RFC 9562 variant) for this message.
    public var derivedEventID: String {
        var hash = StableHash()
        hash.add(topic)
        hash.add(UInt64(UInt32(bitPattern: partition)))
        hash.add(UInt64(bitPattern: offset))
        return UUIDText.string(hash.finish(), version: 8)
    }
}
