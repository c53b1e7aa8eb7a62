import Logging
import Foundation
internal import CRdKafka

/// A classic consumer-group member: the group shares the topic's partitions and commits offsets,
/// like the original consumer.py. Used by `musicstream consume`.
///
/// `@unchecked Sendable`: polled from one thread at a time; the rd_kafka_t handle is thread-safe.
public final class GroupConsumer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let state: ClientState
    private var isClosed = false

    public init(config: KafkaConfig, group: String, topics: [String], fromBeginning: Bool = false,
                name: String = "group-consumer", logger: Logger = KafkaConfig.defaultLogger) throws(KafkaError) {
        let state = ClientState(name: name, logger: logger)
        let conf = try config.makeNativeConfig(defaults: [
            "group.id": group,
            "auto.offset.reset": fromBeginning ? "earliest" : "latest",
            "enable.auto.commit": "true",
        ])
        state.install(on: conf)
        let handle = try makeNativeHandle(type: RD_KAFKA_CONSUMER, conf: conf)
        rd_kafka_poll_set_consumer(handle)
        guard let list = rd_kafka_topic_partition_list_new(Int32(topics.count)) else {
            rd_kafka_destroy(handle)
            throw KafkaError(message: "cannot allocate topic list")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let result = rd_kafka_subscribe(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(handle)
            throw kafkaError(result, context: "subscribe")
        }
        self.handle = handle
        self.state = state
    }

    deinit { close() }

    /// Returns the next record, or nil when none arrived within `timeout`.
    public func next(timeout: Duration, onError: (KafkaError) -> Void = { _ in }) -> KafkaMessage? {
        guard let message = rd_kafka_consumer_poll(handle, Int32(clamping: timeout.milliseconds)) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if message.pointee.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                onError(kafkaError(message.pointee.err, context: "consume"))
            }
            return nil
        }
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        return copyMessage(message, topic: topic)
    }

    /// Leaves the group cleanly (commits offsets, hands partitions back).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }
}
