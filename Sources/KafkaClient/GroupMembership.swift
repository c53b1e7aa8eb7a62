/// A `PartitionConsumer` that joins a consumer group: the group's members split the topic's
/// partitions, and each rebalance asks the member where to read the partitions it is given.
/// Offsets are not committed to Kafka: the member says where to start (e.g. from offsets stored
/// with the data it wrote), so what it stored and where it resumes cannot disagree.
/// Both closures run on the thread that polls, inside the poll.
public struct GroupMembership: Sendable {
    public let group: String
    /// Where to start each newly assigned partition; a partition left out starts at its oldest record.
    public let starts: @Sendable (_ assigned: [Int32]) -> [Int32: Int64]
    /// The partitions taken away (another member reads them from now on).
    public let revoked: @Sendable (_ partitions: [Int32]) -> Void

    public init(group: String, starts: @escaping @Sendable ([Int32]) -> [Int32: Int64],
                revoked: @escaping @Sendable ([Int32]) -> Void) {
        self.group = group
        self.starts = starts
        self.revoked = revoked
    }
}
