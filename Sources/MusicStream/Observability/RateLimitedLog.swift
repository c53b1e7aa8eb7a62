import Logging
import Synchronization

/// Logs at most one line per interval and says how many it held back, so a flood of bad messages
/// cannot flood the log.
public final class RateLimitedLog: Sendable {
    private struct State {
        var nextAllowed: ContinuousClock.Instant
        var suppressed = 0
    }
    private let interval: Duration
    private let logger: Logger
    private let state: Mutex<State>

    public init(interval: Duration = .seconds(1), logger: Logger) {
        self.interval = interval
        self.logger = logger
        self.state = Mutex(State(nextAllowed: .now))
    }

    /// Logs `message()` as a warning unless a line went out less than `interval` ago.
    public func warning(_ message: @autoclosure () -> String) {
        let now = ContinuousClock.now
        let held: Int? = state.withLock { state in
            guard now >= state.nextAllowed else {
                state.suppressed += 1
                return nil
            }
            defer { state.suppressed = 0 }
            state.nextAllowed = now.advanced(by: interval)
            return state.suppressed
        }
        guard let held else { return }
        logger.warning("\(held > 0 ? "\(message()) (\(held) similar lines suppressed)" : message())")
    }
}
