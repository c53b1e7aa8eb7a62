import KafkaClient

/// What `/api/status`, `/readyz` and `/metrics` report about the Kafka side, read live from the
/// consumer and the producers (the closures are called on the loop thread when asked).
struct KafkaStatus {
    var mode: String            // "embedded" | "external"
    var bootstrapServers: String
    var topic: String
    var partitions: () -> Int
    var health: () -> KafkaHealth
    /// Whether the latest metadata round trip to the cluster succeeded.
    var reachable: () -> Bool = { true }
    /// Unconsumed records per partition.
    var lag: () -> [Int32: Int64] = { [:] }
    /// Records our producers failed to deliver, since start.
    var deliveryFailures: () -> Int = { 0 }
}

extension KafkaStatus: MetricsSource {
    func writeMetrics(to output: inout PrometheusText) {
        output.family("musicstream_kafka_reachable", "gauge", "1 while the latest metadata request to the cluster succeeded.")
        output.sample("musicstream_kafka_reachable", reachable() ? 1 : 0)
        output.family("musicstream_kafka_consumer_lag", "gauge", "Records not yet consumed, by partition.")
        for (partition, lag) in lag().sorted(by: { $0.key < $1.key }) {
            output.sample("musicstream_kafka_consumer_lag", labels: [("topic", topic), ("partition", String(partition))], Int(lag))
        }
        output.family("musicstream_producer_delivery_failures_total", "counter", "Records our producers could not deliver.")
        output.sample("musicstream_producer_delivery_failures_total", deliveryFailures())
    }
}
