import Synchronization
import MusicModel

/// Counts what the consumer saw: accepted events and rejected messages by reason. Written by the
/// consumer thread, read by the HTTP loop.
public final class IngestStats: Sendable {
    private let accepted = Atomic<Int>(0)
    private let rejectedByReason = Mutex<[RejectionReason: Int]>([:])
    private let memoryReleases = Atomic<Int>(0)
    private let memoryReleaseNanoseconds = Atomic<Int>(0)

    public init() {}

    func recordAccepted(_ count: Int) { accepted.add(count, ordering: .relaxed) }
    func recordRejected(_ reason: RejectionReason) { rejectedByReason.withLock { $0[reason, default: 0] += 1 } }

    func recordMemoryRelease(took duration: Duration) {
        let (seconds, attoseconds) = duration.components
        memoryReleaseNanoseconds.add(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000), ordering: .relaxed)
        memoryReleases.add(1, ordering: .relaxed)
    }

    public var consumed: Int { accepted.load(ordering: .relaxed) }
    /// Times the ingest thread handed freed memory back (see `MemoryReleaseSchedule`), and the
    /// time it spent doing so.
    public var memoryReleaseCount: Int { memoryReleases.load(ordering: .relaxed) }
    public var memoryReleaseSeconds: Double { Double(memoryReleaseNanoseconds.load(ordering: .relaxed)) / 1e9 }
    public var rejected: Int { rejectedByReason.withLock { $0.values.reduce(0, +) } }
    public var rejectedByReasonSnapshot: [RejectionReason: Int] { rejectedByReason.withLock { $0 } }
}

extension IngestStats: MetricsSource {
    func writeMetrics(to output: inout PrometheusText) {
        output.family("musicstream_events_consumed_total", "counter", "Valid listen events consumed from Kafka.")
        output.sample("musicstream_events_consumed_total", consumed)
        output.family("musicstream_events_rejected_total", "counter", "Kafka messages rejected as invalid, by reason.")
        let rejected = rejectedByReasonSnapshot
        for reason in RejectionReason.allCases {
            output.sample("musicstream_events_rejected_total", labels: [("reason", reason.rawValue)], rejected[reason] ?? 0)
        }
        output.family("musicstream_memory_releases_total", "counter",
                      "Times the ingest thread or the history sink handed memory freed by a burst back to the system (malloc_trim).")
        output.sample("musicstream_memory_releases_total", memoryReleaseCount)
        output.family("musicstream_memory_release_seconds_total", "counter", "Time spent in those releases.")
        output.sample("musicstream_memory_release_seconds_total", memoryReleaseSeconds)
    }
}
