import Synchronization

/// Hands items from a worker thread (the consumer, a producer's poll thread) to the HTTP loop:
/// the worker appends and wakes the loop only when the queue was empty (a wake-up is already on
/// its way otherwise); the loop takes everything queued in one swap. The consumer's items are
/// whole `EventBatch`es, one per poll (inside `EventBatchHandOff`, which also returns them).
final class HandOffQueue<Item: Sendable>: Sendable {
    private let pending = Mutex<[Item]>([])

    /// Appends an item; returns true when the queue was empty, i.e. the loop needs a wake-up.
    func push(_ item: consuming Item) -> Bool {
        let item = item
        return pending.withLock { queue in
            let wasEmpty = queue.isEmpty
            queue.append(item)
            return wasEmpty
        }
    }

    /// Every queued item, oldest first.
    func takeAll() -> [Item] {
        pending.withLock { queue in
            var taken: [Item] = []
            swap(&taken, &queue)
            return taken
        }
    }
}
