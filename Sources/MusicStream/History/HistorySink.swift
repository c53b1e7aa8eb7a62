import Foundation
import History
import KafkaClient
import Logging
import MusicModel
import Synchronization

/// Reads the topic with its own consumer (never the loop's) and writes every listen to the
/// history store in batches, each batch together with the partitions' next offsets in one
/// transaction: after a crash the sink resumes exactly where the store left off, so every
/// listen is stored once (the store's unique (timestamp, event_id) is the second guard). Two
/// threads of its own: "history-read" polls and decodes, "history-sink" writes
/// (`HistoryBatchHandOff` between them). When the store fails, the writer holds its batch and
/// retries with backoff while the reader waits, polling nothing; the window and the stream
/// never wait for either, nor (with a real cluster) share the CPU with them on equal terms:
/// both run at a lower priority (`BackgroundPriority`).
final class HistorySink: Sendable {
    /// A batch is written once it holds this many listens... Large, for catching up: a commit
    /// rewrites every index page it touched, and a user's index is touched all over, so fewer,
    /// larger commits write far less (SQLite, 300,000 listens: batches of 2,000 stored ~36,000 a
    /// second, of 20,000 ~80,000). Holds ~20 MB at most; at a live pace the interval decides.
    static let batchSize = 20_000
    /// ...or its first listen has waited this long.
    static let flushInterval: Duration = .milliseconds(250)
    /// Rows deleted per retention transaction: short, so readers never wait long.
    static let retentionBatch = 2_000

    private let store: any HistoryStore
    private let consumer: PartitionConsumer
    /// False with the embedded broker: its log is new on every start, so offsets stored by an
    /// earlier run name records that no longer exist (or, worse, other records); the sink then
    /// reads the new log from its start.
    private let resume: Bool
    /// Whether the thread yields the CPU to the live path. Not with the embedded broker: it keeps
    /// only about 10,000 records a partition, so a sink that falls behind in a burst would find
    /// the records it has not read gone; a real cluster keeps them for days.
    private let background: Bool
    private let retention: Duration?
    /// Set when replicas share the store: the sink is one member of a consumer group and
    /// stores only the partitions the group gives it.
    let share: HistoryGroupShare?
    /// Records the window's consumer has yet to read: while it catches up (a start from the
    /// beginning, a cluster back after an outage) the sink, which runs in the background, waits
    /// (`LiveYield`), so the window and the stream get the cores first.
    private let liveLag: (@Sendable () -> Int64)?
    /// The window's lag past which the sink waits, and how long it waits at most before reading
    /// one batch anyway. 20,000 records is well under a second of the window's catching up.
    static let yieldsToLiveAbove: Int64 = 20_000
    static let longestYield: Duration = .seconds(30)
    /// Told each time the reading thread hands freed memory back (counted with the window's).
    private let onMemoryRelease: (@Sendable (Duration) -> Void)?
    let stats = HistorySinkStats()
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger
    private let errorLog: RateLimitedLog
    private let rejectionLog: RateLimitedLog
    private let gapLog: RateLimitedLog
    /// Partition count once assigned; 0 before.
    let partitions = Atomic<Int>(0)
    /// Listens in the batch being read, and in batches handed to the writing thread.
    private let filling = Atomic<Int>(0)
    private let queued = Atomic<Int>(0)

    /// Listens dated further ahead of their record are skipped, as the window skips them.
    private let futureBound: FutureDateBound

    init(store: any HistoryStore, consumer: PartitionConsumer, embeddedBroker: Bool, retention: Duration?,
         share: HistoryGroupShare? = nil, futureBound: FutureDateBound,
         liveLag: (@Sendable () -> Int64)? = nil, onMemoryRelease: (@Sendable (Duration) -> Void)? = nil, logger: Logger) {
        self.share = share
        self.futureBound = futureBound
        self.liveLag = liveLag
        self.onMemoryRelease = onMemoryRelease
        self.store = store
        self.consumer = consumer
        resume = !embeddedBroker
        background = !embeddedBroker
        self.retention = retention
        self.logger = logger
        errorLog = RateLimitedLog(interval: .seconds(5), logger: logger)
        rejectionLog = RateLimitedLog(interval: .seconds(5), logger: logger)
        gapLog = RateLimitedLog(interval: .seconds(5), logger: logger)
    }

    var topic: String { consumer.topic }

    /// Whether the store's offsets name records of a log that outlives this process (not the
    /// embedded broker's).
    var resumesLog: Bool { resume }

    /// Records of the topic not yet read by the sink, per partition.
    func lag() -> [Int32: Int64] { consumer.lag(partitions: partitions.load(ordering: .acquiring)) }

    func start() {
        let thread = Thread { [self] in
            if background { BackgroundPriority.lowerCurrentThread() }
            run()
            stats.set(.stopped)
            finished.signal()
        }
        thread.name = "history-sink"
        thread.start()
    }

    /// Stops both threads (writing what they hold, if the store takes it) and closes the consumer.
    func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
        consumer.close()
    }

    private var isRunning: Bool { running.load(ordering: .acquiring) }

    private func run() {
        guard let writer = openWriter(), let count = waitForPartitions() else { return }
        let log = logName()
        stats.setLog(log)
        var next: [Int32: Int64]
        do {
            next = resume ? try writer.nextOffsets(topic: log) : [:]
        } catch {
            stats.set(.failing, error: error.message)
            logger.error("history: cannot read the stored offsets: \(error)")
            return
        }
        do {
            if let share {
                // The group decides which partitions, and each starts at its stored offset then.
                share.setLog(log)
                next = [:]
                try consumer.subscribe()
            } else {
                try consumer.assign(partitions: count, startingAt: next)
            }
        } catch {
            stats.set(.failing, error: "\(error)")
            logger.error("history: cannot assign \(topic): \(error)")
            return
        }
        partitions.store(count, ordering: .releasing)
        stats.set(.running)
        if let share {
            logger.info("history: storing \(topic) in \(store.description) as a member of consumer group \(share.group)")
        } else {
            let from = next.isEmpty ? "from the start of each partition" : "resuming at \(Self.describe(next))"
            logger.info("history: storing \(topic) in \(store.description), \(from)")
        }

        // This thread writes; another reads and decodes, so catching up uses two cores.
        let handOff = HistoryBatchHandOff()
        let preparer = writer.makePreparer()
        let reading = Thread { [self, next] in
            if background { BackgroundPriority.lowerCurrentThread() }
            read(startingAt: next, into: handOff, preparing: preparer)
        }
        reading.name = "history-read"
        reading.start()
        var nextRetention = ContinuousClock.now
        while true {
            switch handOff.take(timeout: .milliseconds(100)) {
            case .batch(let batch):
                write(batch.listens, next: batch.next, log: log, with: writer)
                queued.subtract(batch.listens.records.count, ordering: .relaxed)
                updateHeld()
            case .idle:
                break
            case .finished:
                return
            }
            if let retention, isRunning, ContinuousClock.now >= nextRetention {
                removeExpired(olderThan: retention, with: writer)
                nextRetention = ContinuousClock.now.advanced(by: .seconds(60))
            }
        }
    }

    /// The reading thread: polls and decodes into batches and hands each to the writing thread
    /// once full or old enough (prepared by the store's `preparer`, when it has one); on stop,
    /// hands over what it holds and closes the hand-off.
    private func read(
        startingAt start: [Int32: Int64], into handOff: HistoryBatchHandOff, preparing preparer: (any HistoryBatchPreparer)?
    ) {
        var next = start
        var records: [HistoryRecord] = []
        records.reserveCapacity(Self.batchSize)
        // Offsets moved since the last batch (by listens, or by rejected records alone).
        var unsaved = false
        var batchStarted = ContinuousClock.now
        var nextProbe = ContinuousClock.now.advanced(by: .seconds(5))
        func handOver(keepWaiting: () -> Bool) -> Bool {
            queued.add(records.count, ordering: .relaxed)
            let listens = preparer?.prepare(records) ?? PreparedHistoryBatch(records: records)
            guard handOff.put(.init(listens: listens, next: next), keepWaiting: keepWaiting) else {
                queued.subtract(records.count, ordering: .relaxed)
                return false
            }
            records = []
            records.reserveCapacity(Self.batchSize)
            unsaved = false
            return true
        }
        // A rebalance (inside a poll) changes which partitions this sink stores: new ones
        // continue from their stored offsets, revoked ones are no longer this sink's to save.
        func takeRebalance() {
            guard let changes = share?.takeChanges() else { return }
            for partition in changes.revoked { next[partition] = nil }
            for (partition, start) in changes.assigned { next[partition] = start }
        }
        var yield = LiveYield(threshold: Self.yieldsToLiveAbove, longest: Self.longestYield)
        // As the window's consumer does: once a burst the sink read (a backlog, a catch-up) has
        // been stored and the polls stay small, what its batches freed goes back to the system.
        var memoryRelease = MemoryReleaseSchedule()
        while isRunning {
            // Between batches only, so a batch's first listen never waits long.
            if background, records.isEmpty, let liveLag {
                let lag = liveLag()
                let waiting = yield.since != nil
                if yield.shouldWait(lag: lag, now: .now) {
                    if !waiting { logger.info("history: waiting while the window catches up (\(lag) records behind)") }
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
            }
            let limit = Self.batchSize - records.count
            let polledAt = currentMilliseconds()
            let polled = consumer.pollBorrowing(
                timeout: .milliseconds(100), limit: limit,
                onError: { error in errorLog.warning("history: kafka: \(error)") }
            ) { partition, offset, timestamp, value in
                takeRebalance()
                if !unsaved {
                    unsaved = true
                    batchStarted = .now
                }
                // Records the sink never saw (the broker removed them before it got there, or
                // transaction markers): counted and logged, never silent.
                if let expected = next[partition], offset > expected {
                    stats.recordGap(offset - expected)
                    gapLog.warning("history: \(topic)[\(partition)] jumped from offset \(expected) to \(offset): "
                        + "\(offset - expected) records were gone before the sink read them")
                }
                // Every record moves its partition on, the rejected ones too: they are skipped for good.
                next[partition] = offset + 1
                do throws(EventRejection) {
                    // The window's rule, judged on the record's own time: both keep the same listens.
                    let event = try EventDecoder.decode(
                        value, origin: EventOrigin(topic: topic, partition: partition, offset: offset),
                        latest: futureBound.latest(recordTimestamp: timestamp, now: polledAt))
                    records.append(HistoryRecord(event: event, partition: partition, offset: offset))
                } catch {
                    stats.recordRejected()
                    rejectionLog.warning("history: skipped \(topic)[\(partition)]@\(offset): \(error.reason.rawValue)")
                }
            }
            takeRebalance()
            if memoryRelease.shouldRelease(polled: polled, limit: limit, now: .now) {
                let started = ContinuousClock.now
                FreedMemory.release()
                onMemoryRelease?(ContinuousClock.now - started)
            }
            filling.store(records.count, ordering: .relaxed)
            if unsaved && (records.count >= Self.batchSize || ContinuousClock.now - batchStarted >= Self.flushInterval) {
                // Waits while the writer is behind (polling nothing, so memory stays bounded).
                _ = handOver(keepWaiting: { isRunning })
                filling.store(records.count, ordering: .relaxed)
            }
            updateHeld()
            let now = ContinuousClock.now
            if now >= nextProbe {
                if share == nil { growIfNeeded() }   // a group member's group sees new partitions itself
                nextProbe = now.advanced(by: .seconds(5))
            }
        }
        // Stopping: the writer makes one attempt at what is held, then finishes.
        if unsaved { _ = handOver(keepWaiting: { true }) }
        filling.store(0, ordering: .relaxed)
        handOff.close()
    }

    /// Listens read but not stored: the batch being filled and those handed over.
    private func updateHeld() {
        stats.setHeld(filling.load(ordering: .relaxed) + queued.load(ordering: .relaxed))
    }

    /// Writes the batch, retrying with backoff while the store refuses it (the reading thread
    /// waits meanwhile, so memory stays bounded). Gives up only when stopping.
    private func write(_ batch: PreparedHistoryBatch, next: [Int32: Int64], log: String,
                       with writer: any HistoryWriter, retrying: Bool = true) {
        let records = batch.records
        var delay: Duration = .milliseconds(100)
        while true {
            let started = ContinuousClock.now
            do {
                let added = try writer.write(batch, topic: log, nextOffsets: next)
                let seconds = (ContinuousClock.now - started).inSeconds
                if stats.current.state == .failing { logger.info("history: the store takes writes again") }
                stats.recordWrite(records: records.count, added: added, seconds: seconds,
                                  newest: records.lazy.map(\.event.timestamp).max())
                return
            } catch {
                stats.recordWriteFailure(error.message)
                errorLog.warning("history: cannot write \(records.count) listens to \(store.description): \(error); retrying")
            }
            guard retrying, isRunning else { return }
            sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }

    /// The log the stored offsets belong to: the cluster's id and the topic. Offsets stored
    /// while reading another cluster (a store moved, a cluster rebuilt with a new id) name
    /// records of a different log: under this name they are simply not found, and the sink
    /// reads this log from its start (the unique (timestamp, event_id) skipping what the store holds).
    /// A cluster that does not tell its id keys by the topic alone.
    private func logName() -> String {
        guard let cluster = consumer.clusterID(timeout: .seconds(5)) else { return topic }
        return cluster + "/" + topic
    }

    /// Retention: deletes what is older than `age` in short transactions, between batches.
    private func removeExpired(olderThan age: Duration, with writer: any HistoryWriter) {
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - Int64(age.components.seconds) * 1000
        var total = 0
        while isRunning {
            do {
                let deleted = try writer.deleteListens(before: cutoff, limit: Self.retentionBatch)
                total += deleted
                if deleted < Self.retentionBatch { break }
            } catch {
                errorLog.warning("history: retention: \(error)")
                break
            }
        }
        if total > 0 {
            stats.recordRetention(deleted: total)
            logger.info("history: retention removed \(total) listens older than \(Self.describeAge(age))")
        }
    }

    private func openWriter() -> (any HistoryWriter)? {
        var delay: Duration = .milliseconds(200)
        while isRunning {
            do {
                return try store.openWriter()
            } catch {
                stats.set(.failing, error: error.message)
                errorLog.warning("history: cannot open \(store.description): \(error); retrying")
            }
            sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        return nil
    }

    /// The topic's partition count, once the cluster knows the topic (the window's consumer
    /// creates it when missing).
    private func waitForPartitions() -> Int? {
        while isRunning {
            if let count = (try? consumer.partitionCount(timeout: .seconds(1))) ?? nil, count > 0 { return count }
            sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// New partitions of a grown topic are stored from their start.
    private func growIfNeeded() {
        let assigned = partitions.load(ordering: .relaxed)
        guard let count = (try? consumer.partitionCount(timeout: .seconds(1))) ?? nil, count > assigned else { return }
        do {
            try consumer.addPartitions(from: assigned, to: count)
            partitions.store(count, ordering: .releasing)
        } catch {
            errorLog.warning("history: kafka: \(error)")
        }
    }

    /// Sleeps in short steps so `stop` is not held up.
    private func sleep(for duration: Duration) {
        let end = ContinuousClock.now.advanced(by: duration)
        while isRunning, ContinuousClock.now < end { Thread.sleep(forTimeInterval: 0.02) }
    }

    private static func describe(_ offsets: [Int32: Int64]) -> String {
        offsets.sorted { $0.key < $1.key }.map { "[\($0.key)]@\($0.value)" }.joined(separator: " ")
    }

    static func describeAge(_ age: Duration) -> String {
        let seconds = age.components.seconds
        if seconds % 86_400 == 0 { return "\(seconds / 86_400) d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600) h" }
        return "\(seconds) s"
    }
}
