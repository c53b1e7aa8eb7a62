import Synchronization
import MusicModel

/// Hands decoded events from the consumer thread to the HTTP loop: the consumer appends a batch
/// and wakes the loop; the loop takes everything queued in one swap.
final class IngestQueue: Sendable {
    private let pending = Mutex<[ListenEvent]>([])

    /// Appends a batch; returns true when the queue was empty, i.e. the loop needs a wake-up.
    func push(_ events: [ListenEvent]) -> Bool {
        pending.withLock { queue in
            let wasEmpty = queue.isEmpty
            queue.append(contentsOf: events)
            return wasEmpty
        }
    }

    func takeAll() -> [ListenEvent] {
        pending.withLock { queue in
            var taken: [ListenEvent] = []
            swap(&taken, &queue)
            return taken
        }
    }
}
