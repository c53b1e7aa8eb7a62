import Synchronization

/// Hands items from a worker thread (the consumer, a producer's poll thread) to the HTTP loop:
/// the worker appends and wakes the loop only when the queue was empty (a wake-up is already on
/// its way otherwise); the loop takes everything queued in one swap.
///
/// Batches travel as whole arrays: the consumer hands over thousands of events a second, and
/// appending them to a shared array would copy each one (a retain per string) only to release
/// the originals straight after.
final class HandOffQueue<Item: Sendable>: Sendable {
    private let pending = Mutex<[[Item]]>([])

    /// Queues a batch; returns true when the queue was empty, i.e. the loop needs a wake-up.
    func push(batch items: consuming [Item]) -> Bool {
        guard !items.isEmpty else { return false }
        let batch = items
        return pending.withLock { queue in
            let wasEmpty = queue.isEmpty
            queue.append(batch)
            return wasEmpty
        }
    }

    func push(_ item: Item) -> Bool { push(batch: [item]) }

    /// Every queued batch, oldest first.
    func takeBatches() -> [[Item]] {
        pending.withLock { queue in
            var taken: [[Item]] = []
            swap(&taken, &queue)
            return taken
        }
    }

    /// Every queued item, oldest first.
    func takeAll() -> [Item] { takeBatches().flatMap { $0 } }
}
