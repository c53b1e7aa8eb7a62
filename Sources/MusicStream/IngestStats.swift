import Synchronization
import MusicModel

/// Counts what the consumer saw: accepted events and rejected messages by reason. Written by the
/// consumer thread, read by the HTTP loop.
public final class IngestStats: Sendable {
    private let accepted = Atomic<Int>(0)
    private let rejectedByReason = Mutex<[RejectionReason: Int]>([:])

    public init() {}

    func recordAccepted(_ count: Int) { accepted.add(count, ordering: .relaxed) }
    func recordRejected(_ reason: RejectionReason) { rejectedByReason.withLock { $0[reason, default: 0] += 1 } }

    public var consumed: Int { accepted.load(ordering: .relaxed) }
    public var rejected: Int { rejectedByReason.withLock { $0.values.reduce(0, +) } }
    public var rejectedByReasonSnapshot: [RejectionReason: Int] { rejectedByReason.withLock { $0 } }
}
