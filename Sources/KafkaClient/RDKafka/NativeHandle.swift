internal import CRdKafka

/// Creates an rd_kafka_t of the given type, turning librdkafka's error text into a KafkaError.
func makeNativeHandle(type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        // rd_kafka_new only takes ownership of conf on success.
        rd_kafka_conf_destroy(conf)
        let detail = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw KafkaError(message: "cannot create Kafka client: \(detail)")
    }
    return handle
}

func kafkaError(_ code: rd_kafka_resp_err_t, context: String) -> KafkaError {
    KafkaError(code: code.rawValue, message: "\(context): \(String(cString: rd_kafka_err2str(code)))")
}

/// Number of partitions of `topic`, from a metadata request; nil when the broker does not know it.
func partitionCount(handle: OpaquePointer, topic: String, timeoutMilliseconds: Int32) throws(KafkaError) -> Int? {
    guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else {
        throw KafkaError(message: "cannot create topic handle for \(topic)")
    }
    defer { rd_kafka_topic_destroy(topicHandle) }
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let result = rd_kafka_metadata(handle, 0, topicHandle, &metadata, timeoutMilliseconds)
    guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw kafkaError(result, context: "metadata request for \(topic) failed")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    for index in 0..<Int(metadata.pointee.topic_cnt) {
        let entry = metadata.pointee.topics[index]
        guard String(cString: entry.topic) == topic else { continue }
        if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR || entry.partition_cnt == 0 { return nil }
        return Int(entry.partition_cnt)
    }
    return nil
}
