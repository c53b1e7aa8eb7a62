import Logging
import Foundation
import Synchronization
import KafkaClient
import MusicModel

/// Produces simulated listens on its own thread at the pace a `TrafficPlan` gives (steady, spikes,
/// diurnal). Pacing is by elapsed time, not by sleeping per event, so high rates (tens of
/// thousands per second) keep up.
final class SimulatorRunner: Sendable {
    private let producer: KafkaProducer
    private let topic: String
    private let plan: TrafficPlan
    private let seed: UInt64
    private let backfill: Int
    private let running = Atomic<Bool>(true)
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let failureLog: RateLimitedLog
    private let logger: Logger

    init(producer: KafkaProducer, topic: String, plan: TrafficPlan, seed: UInt64, backfill: Int, logger: Logger) {
        failureLog = RateLimitedLog(interval: .seconds(5), logger: logger)
        self.logger = logger
        self.producer = producer
        self.topic = topic
        self.plan = plan
        self.seed = seed
        self.backfill = backfill
    }

    /// Starts producing; later calls do nothing.
    func start() {
        guard running.load(ordering: .acquiring), !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "simulator"
        thread.start()
    }

    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if started.load(ordering: .acquiring) { finished.wait() }
    }

    private func run() {
        var simulator = Simulator(seed: seed)
        let now = currentMilliseconds()
        // Backfilled listens are spread over the recent past at the configured pace.
        let spacing = Int64(max(1, min(2000, 1000 / max(plan.rate, 0.001))))
        for index in 0..<backfill where running.load(ordering: .relaxed) {
            send(simulator.next(timestamp: now - Int64(backfill - index) * spacing))
        }
        guard plan.rate > 0 else { return }
        let start = ContinuousClock.now
        var produced = 0
        var pace = plan.rate
        while running.load(ordering: .relaxed) {
            let seconds = (ContinuousClock.now - start).inSeconds
            announceBursts(at: seconds, pace: &pace)
            let due = Int(plan.expectedEvents(by: seconds)) + 1
            while produced < due && running.load(ordering: .relaxed) {
                send(simulator.next(timestamp: currentMilliseconds()))
                produced += 1
            }
            // Sleep until the next event is due at the current pace, but wake often enough to stop
            // promptly and to follow the pace as it changes.
            let untilNext = (Double(produced) - plan.expectedEvents(by: seconds)) / max(plan.rate(at: seconds), 0.001)
            Thread.sleep(forTimeInterval: min(0.1, max(0.001, untilNext)))
        }
    }

    /// Says when a burst starts and ends, so whoever watches the page (or a test) knows why the
    /// pace jumped.
    private func announceBursts(at seconds: Double, pace: inout Double) {
        guard plan.shape == .spikes else { return }
        let now = plan.rate(at: seconds)
        guard now != pace else { return }
        if now > pace {
            logger.info("simulator: burst of \(Int(now)) listens/s for \(Int(TrafficPlan.burstSeconds)) s")
        } else {
            logger.info("simulator: burst over, back to \(Int(now)) listens/s")
        }
        pace = now
    }

    private func send(_ event: ListenEvent) {
        do {
            try producer.send(topic: topic, key: Array(event.userID.utf8), value: event.canonicalJSON())
        } catch {
            failureLog.warning("simulator: \(error)")
        }
    }
}

func currentMilliseconds() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded())
}
