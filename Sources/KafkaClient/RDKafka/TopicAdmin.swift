import Logging
internal import CRdKafka

/// Creates topics through Kafka's admin API, so a server pointed at a fresh cluster does not need
/// an operator to prepare it first.
public enum TopicAdmin {
    /// Creates `name` unless it exists. Returns true when this call created it.
    @discardableResult
    public static func createTopic(
        config: KafkaConfig, name: String, partitions: Int, replicationFactor: Int, timeout: Duration = .seconds(10),
        logger: Logger = KafkaConfig.defaultLogger
    ) throws(KafkaError) -> Bool {
        let state = ClientState(name: "admin", logger: logger)
        let conf = try config.makeNativeConfig(defaults: [:])
        state.install(on: conf)
        let handle = try makeNativeHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        defer { withExtendedLifetime(state) { rd_kafka_destroy(handle) } }

        var errorText = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(name, Int32(partitions), Int32(replicationFactor), &errorText, errorText.count) else {
            let detail = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(message: "cannot describe topic \(name): \(detail)")
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError(message: "cannot create an admin queue") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        let milliseconds = Int32(clamping: timeout.milliseconds)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, &errorText, errorText.count)

        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(handle, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, milliseconds + 1000) else {
            throw KafkaError(message: "creating topic \(name) timed out")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw kafkaError(eventError, context: "create topic \(name)")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(message: "create topic \(name): unexpected admin result")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0, let first = results[0] else {
            throw KafkaError(message: "create topic \(name): empty admin result")
        }
        let code = rd_kafka_topic_result_error(first)
        if code == RD_KAFKA_RESP_ERR_NO_ERROR { return true }
        if code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { return false }
        let detail = rd_kafka_topic_result_error_string(first).map { String(cString: $0) } ?? ""
        throw KafkaError(code: code.rawValue, message: "create topic \(name): \(String(cString: rd_kafka_err2str(code))) \(detail)")
    }
}
