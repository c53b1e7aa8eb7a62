import Synchronization

/// What the history sink has done, for /api/status and /metrics. Written by the sink's thread,
/// read by the loop's.
final class HistorySinkStats: Sendable {
    /// Where the sink is in its life: an operator's first question when the store falls behind.
    enum State: String, Sendable {
        case starting, running, failing, stopped
    }

    struct Snapshot: Sendable {
        var state: State = .starting
        var stored = 0
        var duplicates = 0
        var rejected = 0
        var batches = 0
        var writeFailures = 0
        var retentionDeleted = 0
        var writeSeconds = 0.0
        var lastError: String?
        /// Newest timestamp stored (ms), for "how far behind is the history".
        var newestStored: Int64?
        /// The log whose offsets the sink stores: "cluster id/topic".
        var log: String?
        /// Listens read from Kafka but not yet stored (the batch being filled, or being retried).
        var held = 0
        /// Offsets the sink found missing: records the broker removed before the sink read them.
        var gaps: Int64 = 0
    }

    private let snapshot = Mutex(Snapshot())

    var current: Snapshot { snapshot.withLock { $0 } }

    func set(_ state: State, error: String? = nil) {
        snapshot.withLock {
            $0.state = state
            if let error { $0.lastError = error }
        }
    }

    func recordWrite(records: Int, added: Int, seconds: Double, newest: Int64?) {
        snapshot.withLock {
            $0.state = .running
            $0.stored += added
            $0.duplicates += records - added
            $0.held = 0
            $0.batches += 1
            $0.writeSeconds += seconds
            if let newest { $0.newestStored = max($0.newestStored ?? newest, newest) }
        }
    }

    func recordWriteFailure(_ error: String) {
        snapshot.withLock {
            $0.state = .failing
            $0.writeFailures += 1
            $0.lastError = error
        }
    }

    func setLog(_ log: String) { snapshot.withLock { $0.log = log } }

    func recordGap(_ records: Int64) { snapshot.withLock { $0.gaps += records } }

    func setHeld(_ count: Int) { snapshot.withLock { $0.held = count } }

    func recordRejected() { snapshot.withLock { $0.rejected += 1 } }

    func recordRetention(deleted: Int) { snapshot.withLock { $0.retentionDeleted += deleted } }
}
