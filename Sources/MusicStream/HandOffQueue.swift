import Synchronization

/// Hands items from a worker thread (the consumer, a producer's poll thread) to the HTTP loop:
/// the worker appends and wakes the loop only when the queue was empty (a wake-up is already on
/// its way otherwise); the loop takes everything queued in one swap.
final class HandOffQueue<Item: Sendable>: Sendable {
    private let pending = Mutex<[Item]>([])

    /// Appends items; returns true when the queue was empty, i.e. the loop needs a wake-up.
    func push(contentsOf items: [Item]) -> Bool {
        pending.withLock { queue in
            let wasEmpty = queue.isEmpty
            queue.append(contentsOf: items)
            return wasEmpty
        }
    }

    func push(_ item: Item) -> Bool { push(contentsOf: [item]) }

    func takeAll() -> [Item] {
        pending.withLock { queue in
            var taken: [Item] = []
            swap(&taken, &queue)
            return taken
        }
    }
}
