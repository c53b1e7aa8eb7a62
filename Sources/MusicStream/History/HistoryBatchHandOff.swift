import Dispatch
import History
import Synchronization

/// Batches from the history sink's reading thread to its writing thread, at most one waiting:
/// the reader decodes the next batch while the store writes the last, and waits when the store
/// is slower. So catching up uses two cores, and the sink holds at most three batches (one
/// filling, one waiting, one being written) however far behind it is.
final class HistoryBatchHandOff: Sendable {
    /// Listens and, per partition, the offset after the last record read into them (rejected
    /// records move it too): written in one transaction.
    struct Batch: Sendable {
        /// Prepared by the store's preparer, if it has one, on the reading thread.
        var listens: PreparedHistoryBatch
        var next: [Int32: Int64]
    }

    enum Taken {
        case batch(Batch)
        /// Nothing arrived in the time given.
        case idle
        /// Closed, and every batch taken.
        case finished
    }

    private struct State {
        var waiting: Batch?
        var closed = false
    }

    private let state = Mutex(State())
    private let space = DispatchSemaphore(value: 1)
    private let filled = DispatchSemaphore(value: 0)

    /// Hands `batch` over, waiting while another waits. Gives up (false) when `keepWaiting`
    /// says so, checked every 100 ms.
    func put(_ batch: Batch, keepWaiting: () -> Bool) -> Bool {
        while space.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if !keepWaiting() { return false }
        }
        state.withLock { $0.waiting = batch }
        filled.signal()
        return true
    }

    /// No batch will follow: `take` says `finished` once the waiting one is taken.
    func close() {
        state.withLock { $0.closed = true }
        filled.signal()
    }

    /// The waiting batch, waiting up to `timeout` for one.
    func take(timeout: Duration) -> Taken {
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        if filled.wait(timeout: .now() + .milliseconds(milliseconds)) == .timedOut { return .idle }
        let (batch, closed) = state.withLock { state -> (Batch?, Bool) in
            defer { state.waiting = nil }
            return (state.waiting, state.closed)
        }
        if let batch {
            space.signal()
            return .batch(batch)
        }
        return closed ? .finished : .idle
    }
}
