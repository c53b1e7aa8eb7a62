import KafkaClient

/// The librdkafka settings the service picks for each of its clients, typed and each with its
/// reason, in one place. The wrapper's own defaults (idempotent producer, the window consumer's
/// catch-up prefetch) live with the wrapper; properties given with `--kafka-config` are applied
/// over both, so an operator can still override anything here.
struct KafkaTuning {
    /// How long the API's producer tries to deliver a published event: the API promises an
    /// answer (202, or 503) within `EventPublisher.acknowledgementDeadline`.
    var apiDeliveryTimeout: Duration = .milliseconds(Int64(EventPublisher.acknowledgementDeadline * 1000))
    /// The API's producer sends at once: a person is waiting, and one event is no batch.
    var apiLinger: Duration = .zero
    /// How long the embedded broker holds a fetch for new records. librdkafka's mock cluster
    /// answers a fetch only when this wait runs out, even when records arrive meanwhile, so the
    /// consumer's 100 ms became ~100 ms of latency per event (POST -> /stream p50 82 ms; with
    /// 5 ms, 3.7 ms). In-process, a short wait costs little. Real Kafka answers as soon as
    /// records arrive, so there the wrapper's default stays.
    var embeddedFetchWait: Duration = .milliseconds(5)

    /// Settings of the producer behind POST /api/events.
    func apiProducer(_ base: KafkaConfig) -> KafkaConfig {
        base.withDefaults([
            "message.timeout.ms": String(apiDeliveryTimeout.milliseconds),
            "linger.ms": String(apiLinger.milliseconds),
        ])
    }

    /// Settings of the simulator's producer, which may batch and wait: the wrapper's defaults.
    func simulatorProducer(_ base: KafkaConfig) -> KafkaConfig { base }

    /// Settings of the consumer that feeds the window.
    func windowConsumer(_ base: KafkaConfig, embeddedBroker: Bool) -> KafkaConfig {
        embeddedBroker ? base.withDefaults(["fetch.wait.max.ms": String(embeddedFetchWait.milliseconds)]) : base
    }
}

extension KafkaConfig {
    /// This configuration with `defaults` added under the properties it already has, which win.
    func withDefaults(_ defaults: [String: String]) -> KafkaConfig {
        KafkaConfig(bootstrapServers: bootstrapServers, properties: defaults.merging(properties) { $1 })
    }
}
