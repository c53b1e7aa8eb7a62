internal import CLibEvent
import Logging
import Synchronization

/// libevent's own warnings ("evhttp: ...", epoll errors) go to a Logger rather than straight to
/// standard error. libevent has one log callback per process and it carries no context, so the
/// logger sits in a process-wide slot: the latest loop created with a logger sets it.
enum LibEventLog {
    private static let current = Mutex<Logger?>(nil)

    static func install(_ logger: Logger) {
        current.withLock { $0 = logger }
        event_set_log_callback { severity, message in
            guard let logger = LibEventLog.current.withLock({ $0 }) else { return }
            let text = message.map { String(cString: $0) } ?? ""
            logger.log(level: LibEventLog.level(severity: severity), "libevent: \(text)")
        }
    }

    /// libevent's severities: debug, msg, warn, err.
    static func level(severity: Int32) -> Logger.Level {
        switch severity {
        case EVENT_LOG_DEBUG: .debug
        case EVENT_LOG_MSG: .info
        case EVENT_LOG_WARN: .warning
        default: .error
        }
    }
}
