internal import CLibEvent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cancellable handle for a timer or signal watcher; the watcher lives exactly as
/// long as this object (or until cancel()), so forgetting it cannot leak callbacks.
public final class LoopTimer {
    enum Kind {
        case timer(seconds: Double, repeating: Bool)
        case signal(Int32)
    }

    private let loop: EventLoop   // keeps the base alive while the event exists
    private var event: OpaquePointer?
    private var box: UnsafeMutableRawPointer?

    init(loop: EventLoop, kind: Kind, callback: @escaping () -> Void) {
        self.loop = loop
        let box = Unmanaged.passRetained(CallbackBox(callback)).toOpaque()
        self.box = box
        switch kind {
        case let .timer(seconds, repeating):
            let flags = repeating ? Int16(EV_PERSIST) : 0
            let event = event_new(loop.base, -1, flags, eventCallbackTrampoline, box)!
            var tv = LoopTimer.makeTimeval(seconds: seconds)
            event_add(event, &tv)
            self.event = event
        case let .signal(number):
            let event = event_new(loop.base, number, Int16(EV_SIGNAL | EV_PERSIST), eventCallbackTrampoline, box)!
            event_add(event, nil)
            self.event = event
        }
    }

    deinit { cancel() }

    /// Stops the timer; safe to call twice or from inside its own callback.
    public func cancel() {
        if let event {
            event_del(event)
            event_free(event)
            self.event = nil
        }
        if let box {
            Unmanaged<CallbackBox>.fromOpaque(box).release()
            self.box = nil
        }
    }

    static func makeTimeval(seconds: Double) -> timeval {
        let clamped = max(0, seconds)
        let whole = clamped.rounded(.down)
        var tv = timeval()
        tv.tv_sec = .init(whole)
        tv.tv_usec = .init((clamped - whole) * 1_000_000)
        return tv
    }
}
