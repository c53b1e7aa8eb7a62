import EventHTTP
import EventHTTPTesting
import Foundation
import Synchronization

/// Mutable state shared between the loop thread and the test thread.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// What configure() gets on the loop thread.
final class LoopContext {
    let loop: EventLoop
    let router: Router
    /// The application's middleware and error pages; configure() may replace them.
    var middleware: [any HTTPMiddleware] = [DefaultHeaders()]
    var errorPage: (HTTPRefusal) -> HTTPResponse = HTTPRefusal.defaultPage
    var retained: [AnyObject] = []
    /// Set right after configure() returns, before any request arrives.
    weak var server: HTTPServer?
    init(loop: EventLoop, router: Router) {
        self.loop = loop
        self.router = router
    }
    /// Keeps timers and streams alive until the loop exits.
    func keep(_ object: AnyObject) { retained.append(object) }
}

/// Runs an EventLoop + HTTPServer on a background Thread, bound to an ephemeral port.
final class TestServer: Sendable {
    let port: Int
    private let stopWaker: LoopWaker
    private let finished: DispatchSemaphore

    private struct Startup: @unchecked Sendable {   // @unchecked: written once before `ready` is signalled
        var port = 0
        var waker: LoopWaker?
        var error: String?
    }

    init(
        options: HTTPServerOptions = .init(),
        configure: @escaping @Sendable (LoopContext) -> Void = { _ in }
    ) throws {
        let ready = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let startup = Shared(Startup())
        let thread = Thread {
            do {
                let loop = try EventLoop()
                let context = LoopContext(loop: loop, router: Router())
                configure(context)
                let application = HTTPApplication(
                    router: context.router, middleware: context.middleware, errorPage: context.errorPage)
                let server = try HTTPServer(loop: loop, application: application, options: options)
                context.server = server
                let port = try server.bind(host: "127.0.0.1", port: 0)
                let waker = loop.makeWaker {
                    server.shutdown()
                    loop.stop()
                }
                startup.update { $0.port = port; $0.waker = waker }
                ready.signal()
                loop.run()
                server.shutdown()
                context.retained.removeAll()
            } catch {
                startup.update { $0.error = "\(error)" }
                ready.signal()
            }
            finished.signal()
        }
        thread.start()
        guard ready.wait(timeout: .now() + 5) == .success else { throw TestClientError("server did not start") }
        let state = startup.value
        if let error = state.error { throw TestClientError(error) }
        port = state.port
        stopWaker = state.waker!
        self.finished = finished
    }

    /// Stops the loop; true when run() returned in time.
    @discardableResult
    func stop() -> Bool {
        stopWaker.wake()
        return finished.wait(timeout: .now() + 5) == .success
    }
}

/// Polls `condition` until it holds or `timeout` passes; keeps tests from hanging.
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}
