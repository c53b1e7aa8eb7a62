import Logging
internal import CRdKafka

/// A Kafka-protocol broker inside this process (librdkafka's mock cluster) on a loopback port.
/// Clients reach it through `bootstrapServers` like any remote cluster, and so can kcat.
///
/// `@unchecked Sendable`: its pointers are set once in init and only freed in deinit; the mock
/// cluster runs on its own librdkafka thread and is safe to reach from any thread.
public final class EmbeddedCluster: @unchecked Sendable {
    public let bootstrapServers: String
    private let host: OpaquePointer
    private let cluster: OpaquePointer

    /// Starts `brokers` mock brokers and creates each topic with its partition count.
    public init(
        brokers: Int = 1, topics: [(name: String, partitions: Int)], logger: Logger = KafkaConfig.defaultLogger
    ) throws(KafkaError) {
        let state = ClientState(name: "embedded", logger: logger, quietFacilities: ["CONFWARN"])
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(message: "rd_kafka_conf_new failed") }
        state.install(on: conf)
        // The hosting handle never connects anywhere; the mock cluster only needs it to exist.
        let host = try makeNativeHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(host, Int32(brokers)) else {
            rd_kafka_destroy(host)
            throw KafkaError(message: "cannot start the embedded Kafka broker")
        }
        for cap in Self.versionCaps {
            let result = rd_kafka_mock_set_apiversion(cluster, cap.apiKey, 0, cap.newest)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                rd_kafka_mock_cluster_destroy(cluster)
                rd_kafka_destroy(host)
                throw kafkaError(result, context: "limit the embedded broker's \(cap.name) versions")
            }
        }
        for topic in topics {
            let result = rd_kafka_mock_topic_create(cluster, topic.name, Int32(topic.partitions), 1)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                rd_kafka_mock_cluster_destroy(cluster)
                rd_kafka_destroy(host)
                throw kafkaError(result, context: "create topic \(topic.name)")
            }
        }
        self.host = host
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        withExtendedLifetime(state) {}
        retainedState = state
    }

    /// Group requests the mock cluster advertises at versions its handlers misread (librdkafka
    /// 2.8.0; 2.0.2 advertised exactly these newest versions, and librdkafka's own client sends
    /// no newer ones). Clients that pick the newest advertised version, kafka-python among them,
    /// otherwise fail: JoinGroup v6's compact protocol array is read as a 4-byte count (the
    /// broker drops the connection), SyncGroup v4's likewise (a parse failure), LeaveGroup v3+'s
    /// member list is read as a member id (no answer). docs/EMBEDDED_BROKER.md has the evidence.
    static let versionCaps: [(name: String, apiKey: Int16, newest: Int16)] = [
        ("JoinGroup", 11, 5),
        ("LeaveGroup", 13, 1),
        ("SyncGroup", 14, 3),
    ]

    // The log callback reads the state through the handle's opaque for the handle's whole life.
    private var retainedState: ClientState?

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }
}
