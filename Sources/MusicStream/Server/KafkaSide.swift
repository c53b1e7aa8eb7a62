import History
import KafkaClient
import Logging
import MusicModel

/// The service's Kafka side: the broker (embedded, or the cluster given), the producer behind
/// POST /api/events, the simulator and its producer, and the consumer thread that feeds the
/// window. Built before the loop runs; `stopProducing` and `close` after it returns.
final class KafkaSide {
    /// Where outside clients bootstrap (printed at start, in `/api/status`): the cluster given, or
    /// the embedded broker's front (`BootstrapForwarder`, which mends the ApiVersions answer some
    /// clients cannot read). The server's own clients use the embedded broker's address directly.
    let bootstrapServers: String
    /// Set with the embedded broker; it lives as long as this does.
    private let cluster: EmbeddedCluster?
    private let front: BootstrapForwarder?
    let apiProducer: KafkaProducer
    private let simulatorProducer: KafkaProducer?
    private let simulator: SimulatorRunner?
    let ingest: KafkaIngest
    let stats = IngestStats()
    private let logger: Logger
    /// The consumers' settings (the window's, and the history sink's).
    private let consumerConfig: KafkaConfig
    private let topic: String
    /// `--max-clock-skew`, which the window's consumer and the history sink both apply.
    private let futureBound: FutureDateBound

    var mode: String { cluster == nil ? "external" : "embedded" }

    /// `deliver` is called (on the consumer thread) whenever batches wait in `handOff`.
    init(config: ServiceConfig, handOff: EventBatchHandOff, deliver: @escaping @Sendable () -> Void,
         tuning: KafkaTuning = KafkaTuning(), logger: Logger) throws {
        self.logger = logger
        let ownBootstrap: String
        if let brokers = config.brokers {
            cluster = nil
            front = nil
            bootstrapServers = brokers
            ownBootstrap = brokers
            if let warning = Librdkafka.outdatedWarning { logger.warning("\(warning)") }
        } else {
            let embedded = try EmbeddedCluster(topics: [(config.topic, config.partitions)], logger: logger)
            let front = try BootstrapForwarder(port: 0, to: embedded.bootstrapServers)
            front.start()
            cluster = embedded
            self.front = front
            bootstrapServers = front.address
            ownBootstrap = embedded.bootstrapServers
        }
        let base = KafkaConfig(bootstrapServers: ownBootstrap, properties: config.kafkaProperties)
        consumerConfig = tuning.windowConsumer(base, embeddedBroker: cluster != nil)
        topic = config.topic
        futureBound = FutureDateBound(maxSkewSeconds: config.maxClockSkew)
        let apiProducer = try KafkaProducer(config: tuning.apiProducer(base), name: "api", logger: logger)
        self.apiProducer = apiProducer
        simulatorProducer = config.simulate
            ? try KafkaProducer(config: tuning.simulatorProducer(base), name: "simulator", logger: logger) : nil
        let seed = config.seed ?? UInt64.random(in: 0...UInt64.max)
        let simulator = simulatorProducer.map {
            SimulatorRunner(producer: $0, topic: config.topic, plan: TrafficPlan(shape: config.traffic, rate: config.rate, seed: seed, burstGap: config.spikeGap),
                            seed: seed, backfill: config.backfill, logger: logger)
        }
        self.simulator = simulator
        ingest = KafkaIngest(
            consumer: try PartitionConsumer(
                config: tuning.windowConsumer(base, embeddedBroker: cluster != nil), topic: config.topic, logger: logger),
            handOff: handOff, stats: stats, windowCapacity: config.windowCapacity,
            fromBeginning: config.fromBeginning,
            // The embedded broker's log is new on every start: its positions must not outlive it.
            logSalt: cluster == nil ? "" : String(LiveWindow.clockSequenceBase()),
            futureBound: futureBound,
            wake: deliver,
            // The first POST should not wait for the API producer's connection and metadata, and
            // simulated events start once the topic exists: a producer's metadata request may
            // auto-create it otherwise, with the broker's defaults instead of --partitions.
            onAssigned: { [topic = config.topic] in
                apiProducer.prepare(topic: topic)
                simulator?.start()
            },
            createTopic: { [config, logger] in
                let created = try TopicAdmin.createTopic(
                    config: base, name: config.topic, partitions: config.partitions,
                    replicationFactor: config.replicationFactor, logger: logger)
                if created {
                    logger.info("created topic \(config.topic) (\(config.partitions) partitions, replication factor \(config.replicationFactor))")
                }
            },
            logger: logger)
    }

    /// The history sink: its own consumer of the topic, writing to `store`. With the embedded
    /// broker the log is new on every start, so the sink reads it from its start instead of
    /// resuming at offsets an earlier run stored.
    /// With `group` (a store replicas share, an external cluster) the sink is a member of that
    /// consumer group and stores the partitions the group gives it (`HistoryGroupShare`).
    func makeHistorySink(store: any HistoryStore, retention: RetentionPeriod, group: String?) throws -> HistorySink {
        let share = group.flatMap { cluster == nil ? HistoryGroupShare(group: $0, store: store, logger: logger) : nil }
        let consumer = try PartitionConsumer(
            config: consumerConfig.withDefaults(["group.id": "musicstream-history"]), topic: topic,
            name: "history", logger: logger, membership: share?.membership)
        let ingest = self.ingest
        return HistorySink(store: store, consumer: consumer, embeddedBroker: cluster != nil,
                           retention: retention.duration, share: share, futureBound: futureBound, liveLag: { ingest.lag().values.reduce(0, +) },
                           onMemoryRelease: { [stats] in stats.recordMemoryRelease(took: $0) }, logger: logger)
    }

    /// What `/api/status`, `/readyz` and `/metrics` report about Kafka.
    func status(topic: String) -> KafkaStatus {
        let ingest = self.ingest
        let producers = [apiProducer, simulatorProducer].compactMap { $0 }
        return KafkaStatus(
            mode: mode, bootstrapServers: bootstrapServers, topic: topic,
            partitions: { ingest.partitions.load(ordering: .acquiring) },
            health: { ingest.health },
            reachable: { ingest.reachable.load(ordering: .acquiring) },
            lag: { ingest.lag() },
            deliveryFailures: { producers.reduce(0) { $0 + $1.failedCount } })
    }

    /// Stops the simulator and flushes both producers, logging the account an operator (and the
    /// shutdown test) checks against the topic.
    func stopProducing() {
        simulator?.stop()
        for producer in [apiProducer, simulatorProducer].compactMap({ $0 }) {
            let undelivered = producer.close(timeout: .seconds(5))
            if undelivered > 0 { logger.warning("\(undelivered) events were not delivered to Kafka") }
            logger.info("""
                producer \(producer.name): \(producer.queuedCount) queued, \(producer.deliveredCount) delivered, \
                \(producer.failedCount) failed, \(undelivered) undelivered at exit
                """)
        }
    }

    /// Stops the consumer thread and the front; the embedded broker goes when this does.
    func close() {
        ingest.stop()
        front?.stop()
    }

    /// A start that failed after this was built never calls `close`; the front must not outlive it.
    deinit {
        front?.stop()
    }
}
