internal import CLibEvent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The only loop object other threads may use: wake() schedules the callback on the
/// loop thread (Kafka consumer thread -> SSE fan-out). Calls may coalesce.
public final class LoopWaker: Sendable {
    /// The event and its callback box, guarded by a pthread mutex so that teardown
    /// (waker deinit, loop deinit) and wake() from other threads never race on a freed event.
    ///
    /// @unchecked Sendable: `event` and `box` are only read or written with `lock` held,
    /// and event_active is thread-safe because evthread_use_pthreads() ran before the base
    /// existed. A pthread mutex rather than Synchronization.Mutex: the last release of a
    /// loop can happen in a thread's TLS destructors, where Mutex's owner check misfires.
    final class State: @unchecked Sendable {
        private let lock: UnsafeMutablePointer<pthread_mutex_t>
        private var event: OpaquePointer?
        private var box: UnsafeMutableRawPointer?

        init(event: OpaquePointer, box: UnsafeMutableRawPointer) {
            lock = .allocate(capacity: 1)
            lock.initialize(to: pthread_mutex_t())
            pthread_mutex_init(lock, nil)
            self.event = event
            self.box = box
        }

        deinit {
            invalidate()
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }

        private func locked<R>(_ body: () -> R) -> R {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return body()
        }

        var isValid: Bool { locked { event != nil } }

        func activate() {
            locked {
                if let event { event_active(event, Int32(EV_READ), 0) }
            }
        }

        /// Frees the event; event_free waits for a callback running on the loop thread.
        /// The handles are taken under the lock but freed outside it: releasing the box
        /// may release the last reference to the loop, whose deinit invalidates again.
        func invalidate() {
            let (event, box) = locked {
                defer { self.event = nil; self.box = nil }
                return (self.event, self.box)
            }
            if let event { event_free(event) }
            if let box { Unmanaged<CallbackBox>.fromOpaque(box).release() }
        }
    }

    let state: State

    init(base: OpaquePointer, callback: @escaping () -> Void) {
        let box = Unmanaged.passRetained(CallbackBox(callback)).toOpaque()
        // Never added: it only runs when activated by wake().
        let event = event_new(base, -1, 0, eventCallbackTrampoline, box)!
        state = State(event: event, box: box)
    }

    deinit { state.invalidate() }

    /// Callable from any thread; a no-op once the loop is gone.
    public func wake() { state.activate() }
}
