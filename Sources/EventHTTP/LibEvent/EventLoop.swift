internal import CLibEvent
import Logging

/// Owns the libevent `event_base`: the single thread that calls `run()` owns every
/// HTTP request, response, stream and timer created from this loop.
public final class EventLoop {
    let base: OpaquePointer
    /// Waker states handed out so far; invalidated when the loop goes away so a
    /// waker that outlives the loop never touches a freed base.
    private var wakerStates: [LoopWaker.State] = []

    /// Threads must be enabled before the first base exists, so that `event_active`
    /// from another thread (LoopWaker) and loopbreak are safe.
    private static let threadsEnabled: Bool = evthread_use_pthreads() == 0

    /// `logger` receives libevent's own log lines (process-wide: see `LibEventLog`); without one
    /// they go where they went before, to standard error.
    public init(logger: Logger? = nil) throws(HTTPServerError) {
        if let logger { LibEventLog.install(logger) }
        guard EventLoop.threadsEnabled else {
            throw HTTPServerError("cannot enable libevent pthreads support")
        }
        // epoll's change list: the read/write interest changes a request makes within one loop
        // pass (evhttp turns reading off and writing on for every response, then back) are
        // merged into one epoll_ctl per descriptor at the next dispatch. Safe here because no
        // descriptor is ever dup()ed (libevent's stated condition for this flag).
        guard let config = event_config_new() else {
            throw HTTPServerError("cannot create libevent event_config")
        }
        defer { event_config_free(config) }
        _ = event_config_set_flag(config, Int32(EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST.rawValue))
        guard let base = event_base_new_with_config(config) else {
            throw HTTPServerError("cannot create libevent event_base")
        }
        self.base = base
    }

    deinit {
        for state in wakerStates { state.invalidate() }
        event_base_free(base)
    }

    /// Blocks the calling thread, dispatching events until `stop()` is called.
    /// Returns immediately when nothing (no listener, timer, signal) is pending.
    public func run() {
        _ = event_base_dispatch(base)
    }

    /// Makes `run()` return after the current callback; safe from loop callbacks.
    public func stop() {
        _ = event_base_loopbreak(base)
    }

    /// Lets other threads hand work to the loop thread; many wake() calls before
    /// the loop gets to it may coalesce into one callback.
    public func makeWaker(_ callback: @escaping () -> Void) -> LoopWaker {
        wakerStates.removeAll { !$0.isValid }
        let waker = LoopWaker(base: base, callback: callback)
        wakerStates.append(waker.state)
        return waker
    }

    /// Periodic work on the loop thread (window ticks, SSE heartbeats).
    /// Keep the returned handle alive; cancel() or deinit stops it.
    public func repeatingTimer(every seconds: Double, _ callback: @escaping () -> Void) -> LoopTimer {
        LoopTimer(loop: self, kind: .timer(seconds: seconds, repeating: true), callback: callback)
    }

    /// One-shot delayed work on the loop thread.
    public func after(seconds: Double, _ callback: @escaping () -> Void) -> LoopTimer {
        LoopTimer(loop: self, kind: .timer(seconds: seconds, repeating: false), callback: callback)
    }

    /// Handles SIGINT/SIGTERM on the loop thread instead of in a signal handler.
    /// libevent delivers signals to only one event_base per process at a time.
    public func onSignal(_ signal: Int32, _ callback: @escaping () -> Void) -> LoopTimer {
        LoopTimer(loop: self, kind: .signal(signal), callback: callback)
    }
}

/// Heap box for a Swift closure passed through libevent's `void *` argument.
final class CallbackBox {
    let callback: () -> Void
    init(_ callback: @escaping () -> Void) { self.callback = callback }
}

/// The one C entry point for timers, signals and wakers: `arg` is a retained CallbackBox.
let eventCallbackTrampoline: @convention(c) (Int32, Int16, UnsafeMutableRawPointer?) -> Void = { _, _, arg in
    guard let arg else { return }
    let box = Unmanaged<CallbackBox>.fromOpaque(arg).takeUnretainedValue()
    // The handle may be cancelled (and release its box) from inside the callback.
    withExtendedLifetime(box) { box.callback() }
}
