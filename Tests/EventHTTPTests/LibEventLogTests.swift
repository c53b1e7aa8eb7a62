import CLibEvent
import Logging
import Synchronization
import Testing
@testable import EventHTTP

/// libevent's own warnings reach the logger the loop was given, not standard error.
@Suite struct LibEventLogTests {
    @Test func libeventWarningsGoThroughTheLoopsLogger() throws {
        let lines = Mutex<[(Logger.Level, String)]>([])
        let logger = Logger(label: "test") { _ in CapturingHandler { level, text in lines.withLock { $0.append((level, text)) } } }
        let loop = try EventLoop(logger: logger)
        // A libevent call that fails and says so: fcntl on a descriptor that does not exist.
        _ = evutil_make_socket_nonblocking(-1)
        let logged = lines.withLock { $0 }
        #expect(logged.contains { $0.0 == .warning && $0.1.hasPrefix("libevent: fcntl(-1") }, "\(logged)")
        withExtendedLifetime(loop) {}
    }

    @Test func severitiesMapToLoggerLevels() {
        #expect(LibEventLog.level(severity: EVENT_LOG_DEBUG) == .debug)
        #expect(LibEventLog.level(severity: EVENT_LOG_MSG) == .info)
        #expect(LibEventLog.level(severity: EVENT_LOG_WARN) == .warning)
        #expect(LibEventLog.level(severity: EVENT_LOG_ERR) == .error)
    }
}

/// Hands each entry to `record`.
private struct CapturingHandler: LogHandler {
    let record: @Sendable (Logger.Level, String) -> Void
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { record(event.level, "\(event.message)") }
}
