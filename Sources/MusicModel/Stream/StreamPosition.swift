/// Where a `/stream` subscriber is in the topic: for each partition, the offset of the newest
/// record the server had read when it last wrote to the subscriber (its SSE id). Offsets are the
/// log's own, so every replica reading the same log, and the same replica after a restart, can
/// resume the subscriber from it: events of partition p after `offsets[p]`, and nothing before.
///
/// The id is opaque to clients: `p<log>.<offset 0>.<offset 1>...`, the log tag and the offsets in
/// base 36 (-1: nothing read from that partition). One id per written batch of frames is enough,
/// since a browser keeps the last id it saw, so its length does not weigh on each event.
public struct StreamPosition: Sendable, Equatable {
    /// A tag of the log (cluster and topic): offsets of another log mean other records.
    public var log: UInt32
    /// By partition; partitions past the end have read nothing (-1).
    public var offsets: [Int64]

    /// Ids carry at most this many partitions; anything longer is not one of ours.
    public static let maxPartitions = 4_096

    public init(log: UInt32, offsets: [Int64]) {
        self.log = log
        self.offsets = offsets
    }

    /// The offset of the newest record of `partition` this position has seen, -1 for none.
    public func offset(of partition: Int32) -> Int64 {
        partition >= 0 && Int(partition) < offsets.count ? offsets[Int(partition)] : -1
    }

    /// Whether a record at `offset` of `partition` comes after this position.
    @inline(__always)
    public func isAfter(partition: Int32, offset: Int64) -> Bool {
        offset > self.offset(of: partition)
    }

    /// Whether this position has seen everything `other` has (same log, no partition behind).
    public func covers(_ other: StreamPosition) -> Bool {
        guard log == other.log else { return false }
        for (partition, offset) in other.offsets.enumerated() where self.offset(of: Int32(partition)) < offset {
            return false
        }
        return true
    }

    /// The later of the two offsets in each partition (same log assumed).
    public func merged(with other: StreamPosition) -> StreamPosition {
        var offsets = self.offsets
        if other.offsets.count > offsets.count { offsets += repeatElement(-1, count: other.offsets.count - offsets.count) }
        for (partition, offset) in other.offsets.enumerated() where offset > offsets[partition] { offsets[partition] = offset }
        return StreamPosition(log: log, offsets: offsets)
    }

    /// The SSE id.
    public var id: String {
        var text = "p" + String(log, radix: 36)
        for offset in offsets {
            text += "."
            text += String(offset, radix: 36)
        }
        return text
    }

    /// What a client's last id says.
    public enum Parsed: Equatable, Sendable {
        case position(StreamPosition)
        /// A number: an id from before stream positions came from Kafka (the process's own
        /// sequence numbers). Such a client is told to reset.
        case legacy
        /// Neither: not an id this service ever gave.
        case malformed
    }

    public static func parse(_ text: some StringProtocol) -> Parsed {
        if !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return .legacy
        }
        guard text.utf8.first == UInt8(ascii: "p"), text.utf8.count <= 16 * (maxPartitions + 1) else { return .malformed }
        let fields = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count <= maxPartitions + 1,
              fields[0].utf8.count <= 7, let log = UInt32(fields[0], radix: 36)
        else { return .malformed }
        var offsets: [Int64] = []
        offsets.reserveCapacity(fields.count - 1)
        for field in fields.dropFirst() {
            guard field.utf8.count <= 13, field.utf8.first != UInt8(ascii: "+"),
                  let offset = Int64(field, radix: 36), offset >= -1
            else { return .malformed }
            offsets.append(offset)
        }
        return .position(StreamPosition(log: log, offsets: offsets))
    }

    /// The tag of a log named by its cluster's id and topic (stable across processes).
    public static func logTag(_ name: String) -> UInt32 {
        var hash = StableHash()
        hash.add(name)
        return UInt32(truncatingIfNeeded: hash.finish().1)
    }
}
