internal import CRdKafka

extension KafkaConfig {
    /// Builds an `rd_kafka_conf_t` with the given defaults, then `bootstrapServers`, then `properties`.
    /// The caller owns the result until it hands it to `rd_kafka_new`.
    func makeNativeConfig(defaults: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(message: "rd_kafka_conf_new failed")
        }
        var settings = defaults
        settings["bootstrap.servers"] = bootstrapServers
        for (key, value) in properties { settings[key] = value }
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            var errorText = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let detail = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(message: "invalid Kafka setting \(key): \(detail)")
            }
        }
        return conf
    }
}
