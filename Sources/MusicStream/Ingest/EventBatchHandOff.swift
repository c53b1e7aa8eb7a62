import Synchronization

/// The consumer thread's batches on their way to the loop thread, and back: the loop returns
/// each batch it emptied for the consumer to fill again. Without the way back, a catch-up
/// allocated, grew (64 events doubling to 4,096, each step a copy) and freed a buffer for every
/// poll, and at 4,096 events (~1 MB) each was a fresh mapping: page faults on the consumer
/// thread, an munmap on whichever thread let go last.
final class EventBatchHandOff: Sendable {
    private let queue = HandOffQueue<EventBatch>()
    private let spare = Mutex<[EventBatch]>([])
    /// Emptied batches kept for reuse (each keeps its capacity, ~1 MB when grown to a full
    /// poll); any more are freed, and all of them once a burst has settled (`dropSpares`).
    let spareLimit: Int

    init(spareLimit: Int = 4) {
        self.spareLimit = spareLimit
    }

    /// Batches waiting to be filled again.
    var spareCount: Int { spare.withLock { $0.count } }

    /// An empty batch to fill: one the loop gave back, or a new one. Consumer thread.
    func emptyBatch() -> EventBatch {
        spare.withLock { $0.popLast() } ?? EventBatch()
    }

    /// Frees the batches kept for reuse: once a burst has settled, along with the rest of what
    /// it freed (`FreedMemory.release`), so a megabyte each is not held while the stream trickles.
    func dropSpares() {
        let dropped = spare.withLock { kept in
            var taken: [EventBatch] = []
            swap(&taken, &kept)
            return taken
        }
        _ = dropped   // freed here, outside the lock
    }

    /// Queues a batch for the loop; true when the queue was empty, i.e. the loop needs a wake-up.
    func push(_ batch: EventBatch) -> Bool {
        queue.push(batch)
    }

    /// Hands every queued batch to `body`, oldest first, then keeps the ones it emptied for
    /// reuse. Loop thread. A batch someone still holds, or one with events left, is not reused.
    func deliver(_ body: ([EventBatch]) -> Void) {
        var batches = queue.takeAll()
        guard !batches.isEmpty else { return }
        body(batches)
        var emptied: [EventBatch] = []
        while var batch = batches.popLast() {
            if isKnownUniquelyReferenced(&batch) && batch.isEmpty {
                batch.reset()
                emptied.append(batch)
            }
        }
        guard !emptied.isEmpty else { return }
        spare.withLock { kept in
            kept.append(contentsOf: emptied.prefix(max(0, spareLimit - kept.count)))
        }
    }
}
