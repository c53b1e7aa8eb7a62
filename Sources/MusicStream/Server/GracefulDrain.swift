import Logging
import EventHTTP

/// Shutdown in two steps, so nothing a client was promised is lost: first stop taking new work
/// (close the listener, end the streams), then keep the loop running until the work in flight is
/// answered (a POST waits for Kafka's acknowledgement) or a deadline passes; only then stop the
/// loop. A second signal stops at once. Loop thread only.
final class GracefulDrain {
    private let loop: EventLoop
    private let deadline: Double
    private let quiesce: () -> Void
    private let isIdle: () -> Bool
    private var poll: LoopTimer?
    private var started: ContinuousClock.Instant?

    private let logger: Logger

    /// `quiesce` stops new work; `isIdle` says when nothing is left in flight.
    init(loop: EventLoop, deadline seconds: Double, logger: Logger, quiesce: @escaping () -> Void, isIdle: @escaping () -> Bool) {
        self.logger = logger
        self.loop = loop
        self.deadline = seconds
        self.quiesce = quiesce
        self.isIdle = isIdle
    }

    func begin() {
        guard started == nil else {
            logger.warning("second stop request: stopping without waiting")
            finish()
            return
        }
        started = .now
        logger.info("stopping: no new connections; finishing requests in flight")
        quiesce()
        if isIdle() {
            finish()
            return
        }
        poll = loop.repeatingTimer(every: 0.02) { [weak self] in self?.check() }
    }

    private func check() {
        guard let started else { return }
        if isIdle() {
            finish()
        } else if ContinuousClock.now - started > .seconds(deadline) {
            logger.warning("requests still in flight after \(deadline) s; stopping anyway")
            finish()
        }
    }

    private func finish() {
        poll?.cancel()
        poll = nil
        loop.stop()
    }
}
