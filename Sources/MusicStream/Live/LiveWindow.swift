import MusicModel
#if canImport(Glibc)
import Glibc
#endif

/// The events the server currently holds, and where new ones go: into the window, then out to
/// stream subscribers. Lives on the HTTP loop thread, so it needs no locks.
final class LiveWindow {
    private(set) var window: EventWindow
    let hub: SSEHub
    /// Records skipped because their event_id was already in the window (redelivery).
    private(set) var duplicatesSkipped = 0

    /// `sequenceBase` (see `EventWindow.init`) is the server's start time in microseconds: stream
    /// ids stay below 2^53, exact in JavaScript, and grow across restarts unless a process
    /// averaged more than a million events a second.
    init(capacity: Int, hub: SSEHub, sequenceBase: UInt64 = 0) {
        self.window = EventWindow(capacity: capacity, startingAbove: sequenceBase)
        self.hub = hub
    }

    /// Microseconds since the Unix epoch, the `sequenceBase` a server starts with.
    static func clockSequenceBase() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec / 1_000)
    }

    /// Appends the consumer's batches, oldest first, skipping events already held, and publishes
    /// them to the stream at once. Each event is moved, not copied, from
    /// its batch into the window (see `EventBatch`), and the events are collected for the
    /// stream only when someone is subscribed.
    func ingest(batches: [EventBatch]) {
        let publishing = hub.count > 0
        var added: [UInt64] = []
        for batch in batches {
            if let assignment = batch.assignment {
                window.log = assignment.log
                for (partition, start) in assignment.starts { window.noteStart(partition: partition, offset: start) }
            }
            batch.takeEach { event, position in
                if let sequence = window.insertIfNew(event, from: position) {
                    if publishing { added.append(sequence) }
                } else {
                    duplicatesSkipped += 1
                }
            }
        }
        // A batch longer than the window evicts some of its own events: those are not sent.
        if publishing { hub.publish(added.compactMap { window.event(withSequence: $0) }, at: position) }
    }

    /// Where the window is in the log: the stream id of everything published so far.
    var position: StreamPosition { window.position }

    /// The position, once the consumer has said which log it reads (nil before: no ids then).
    var knownPosition: StreamPosition? { window.log == 0 ? nil : position }
}

extension LiveWindow: MetricsSource {
    func writeMetrics(to output: inout PrometheusText) {
        output.family("musicstream_events_duplicate_total", "counter", "Records skipped because their event_id was already in the window.")
        output.sample("musicstream_events_duplicate_total", duplicatesSkipped)
        output.family("musicstream_window_events", "gauge", "Events held in the window.")
        output.sample("musicstream_window_events", window.count)
        output.family("musicstream_window_capacity", "gauge", "Most events the window holds.")
        output.sample("musicstream_window_capacity", window.capacity)
    }
}
