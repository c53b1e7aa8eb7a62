import Logging
import Foundation
import Synchronization
import KafkaClient
import MusicModel

/// The consumer thread: assigns every partition of the topic, rewinds far enough to refill the
/// window (or to the oldest kept record with `fromBeginning`), then decodes and validates each record and hands batches to the HTTP loop.
/// Bad records are counted by reason, logged (rate-limited) and skipped.
final class KafkaIngest: Sendable {
    private let consumer: PartitionConsumer
    private let handOff: EventBatchHandOff
    private let stats: IngestStats
    private let windowCapacity: Int
    private let fromBeginning: Bool
    /// Added to the cluster's id in the log's tag. The embedded broker's log is new on every
    /// start, possibly under the same id, so there it is the process's start time: a stream
    /// position from before a restart then names another log and gets a reset.
    private let logSalt: String
    /// Listens dated further ahead of their record are rejected (`--max-clock-skew`).
    private let futureBound: FutureDateBound
    private let wake: @Sendable () -> Void
    /// Runs on this thread once the partitions are assigned.
    private let onAssigned: @Sendable () -> Void
    /// Creates the topic when the cluster does not have it.
    private let createTopic: @Sendable () throws -> Void
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger
    private let rejectionLog: RateLimitedLog
    private let errorLog: RateLimitedLog
    /// Partition count once assigned; 0 while waiting for the topic.
    let partitions = Atomic<Int>(0)
    /// The log's tag (`StreamPosition.log`), once assigned.
    let log = Atomic<UInt32>(0)
    /// Result of the latest metadata round trip to the cluster, made every `probeInterval`.
    let reachable = Atomic<Bool>(false)
    private let probeInterval: Duration = .seconds(1)

    init(consumer: PartitionConsumer, handOff: EventBatchHandOff, stats: IngestStats, windowCapacity: Int,
         fromBeginning: Bool = false, logSalt: String = "", futureBound: FutureDateBound,
         wake: @escaping @Sendable () -> Void, onAssigned: @escaping @Sendable () -> Void,
         createTopic: @escaping @Sendable () throws -> Void, logger: Logger) {
        self.logger = logger
        rejectionLog = RateLimitedLog(interval: .seconds(1), logger: logger)
        errorLog = RateLimitedLog(interval: .seconds(5), logger: logger)
        self.onAssigned = onAssigned
        self.createTopic = createTopic
        self.consumer = consumer
        self.handOff = handOff
        self.stats = stats
        self.windowCapacity = windowCapacity
        self.fromBeginning = fromBeginning
        self.logSalt = logSalt
        self.futureBound = futureBound
        self.wake = wake
    }

    var health: KafkaHealth { consumer.health }

    func lag() -> [Int32: Int64] { consumer.lag(partitions: partitions.load(ordering: .acquiring)) }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "kafka-ingest"
        thread.start()
    }

    /// Stops the thread and closes the consumer; returns once both are done.
    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
        consumer.close()
    }

    private var isRunning: Bool { running.load(ordering: .acquiring) }

    private func run() {
        guard let partitionCount = waitForTopic() else { return }
        let starts: [Int64]
        do {
            // The topic's newest records, as many as the window holds, shared between the
            // partitions; from the beginning, every partition from its oldest record.
            starts = try consumer.assignAll(partitions: partitionCount, newest: fromBeginning ? .max : Int64(windowCapacity))
        } catch {
            logger.error("cannot assign \(consumer.topic): \(error)")
            return
        }
        partitions.store(partitionCount, ordering: .releasing)
        let log = StreamPosition.logTag((consumer.clusterID() ?? "") + "/" + consumer.topic + "/" + logSalt)
        self.log.store(log, ordering: .releasing)
        announce(EventBatch.Assignment(
            log: log, starts: Dictionary(uniqueKeysWithValues: starts.enumerated().map { (Int32($0.offset), $0.element) })))
        logger.info("consuming \(consumer.topic), \(partitionCount) partitions")
        onAssigned()
        var batch = handOff.emptyBatch()
        let interner = TextInterner()   // this thread's own
        var nextProbe = ContinuousClock.now.advanced(by: probeInterval)
        var memoryRelease = MemoryReleaseSchedule()
        let pollLimit = 4096
        while isRunning {
            if ContinuousClock.now >= nextProbe {
                probe()
                nextProbe = ContinuousClock.now.advanced(by: probeInterval)
            }
            let now = currentMilliseconds()
            // A constant for the closure: capturing the variable cost a retain and a release per record.
            let filling = batch
            let polled = consumer.pollBorrowing(timeout: .milliseconds(100), limit: pollLimit, onError: { error in
                errorLog.warning("kafka: \(error)")
            }) { partition, offset, timestamp, value in
                decode(value, partition: partition, offset: offset, latest: futureBound.latest(recordTimestamp: timestamp, now: now),
                       into: filling, interner: interner)
            }
            if memoryRelease.shouldRelease(polled: polled, limit: pollLimit, now: .now) {
                let started = ContinuousClock.now
                handOff.dropSpares()
                FreedMemory.release()   // ~15 ms after a 100,000-record refill, well under 1 ms otherwise
                stats.recordMemoryRelease(took: ContinuousClock.now - started)
            }
            guard !batch.isEmpty else { continue }
            stats.recordAccepted(batch.count)
            // The batch itself goes to the loop thread; the next poll fills another, one the
            // loop emptied and gave back when there is one.
            if handOff.push(batch) { wake() }
            batch = handOff.emptyBatch()
        }
    }

    /// Tells the loop where reading starts, ahead of any record read there.
    private func announce(_ assignment: EventBatch.Assignment) {
        let batch = EventBatch(capacity: 1)
        batch.assignment = assignment
        if handOff.push(batch) { wake() }
    }

    /// Decodes and validates here, the larger share of ingest; the loop thread only files the
    /// batch into the window.
    private func decode(
        _ value: UnsafeRawBufferPointer, partition: Int32, offset: Int64, latest: Int64, into batch: EventBatch,
        interner: TextInterner
    ) {
        let origin = EventOrigin(topic: consumer.topic, partition: partition, offset: offset)
        do {
            try batch.append(from: KafkaPosition(origin)) { slot throws(EventRejection) in
                try EventDecoder.decode(value, origin: origin, interner: interner, latest: latest, into: slot)
            }
        } catch {
            stats.recordRejected(error.reason)
            rejectionLog.warning(
                "rejected \(consumer.topic)[\(partition)]@\(offset): \(error.reason.rawValue): \(error.detail)")
        }
    }

    /// Asks the cluster for the topic's metadata with a short deadline: the readiness signal.
    /// (librdkafka's own "all brokers down" report has no matching "back up" report.)
    /// The same answer also tells when the topic grew: new partitions are added from their start.
    private func probe() {
        let wasReachable = reachable.load(ordering: .relaxed)
        let count = (try? consumer.partitionCount(timeout: .milliseconds(1500))) ?? nil
        let nowReachable = count != nil
        reachable.store(nowReachable, ordering: .releasing)
        let assigned = partitions.load(ordering: .relaxed)
        if let count, count > assigned {
            do {
                try consumer.addPartitions(from: assigned, to: count)
                partitions.store(count, ordering: .releasing)
                // New partitions are read from their start: nothing before it to miss.
                announce(EventBatch.Assignment(
                    log: log.load(ordering: .acquiring),
                    starts: Dictionary(uniqueKeysWithValues: (assigned..<count).map { (Int32($0), 0) })))
                logger.info("\(consumer.topic) grew to \(count) partitions; consuming the new ones too")
            } catch {
                errorLog.warning("kafka: \(error)")
            }
        }
        if wasReachable && !nowReachable { logger.warning("kafka: cluster unreachable; serving the window as it is") }
        if !wasReachable && nowReachable { logger.info("kafka: cluster reachable again") }
    }

    /// Polls the cluster until the topic exists, creating it through the admin API when missing.
    private func waitForTopic() -> Int? {
        var announced = false
        while isRunning {
            let count: Int?
            do {
                count = try consumer.partitionCount(timeout: .seconds(2))
                reachable.store(true, ordering: .releasing)
            } catch {
                reachable.store(false, ordering: .releasing)
                errorLog.warning("waiting for Kafka: \(error)")
                Thread.sleep(forTimeInterval: 0.5)
                continue
            }
            if let count { return count }
            if !announced {
                logger.info("topic \(consumer.topic) does not exist; creating it")
                announced = true
            }
            do {
                try createTopic()
            } catch {
                errorLog.warning("cannot create topic \(consumer.topic): \(error)")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return nil
    }
}
