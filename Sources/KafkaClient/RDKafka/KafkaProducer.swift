import Logging
import Foundation
import Synchronization
internal import CRdKafka

/// Produces records through librdkafka. A background thread serves delivery reports, so `send`
/// never blocks on the network; `close` flushes what is queued. The poll thread keeps the producer
/// alive until `close` is called, so every producer must be closed.
///
/// `@unchecked Sendable`: the only mutable state is the rd_kafka_t handle, and librdkafka documents
/// its producer API (produce, poll, flush) as thread-safe; Swift-side counters are atomics.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let state: ClientState
    private let polling = Atomic<Bool>(true)
    private let pollerDone = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)

    /// Settings every producer gets unless the caller overrides them: no record is acknowledged
    /// before all in-sync replicas have it, and retries cannot reorder or duplicate.
    public static let defaultProperties: [String: String] = [
        "acks": "all",
        "enable.idempotence": "true",
        "linger.ms": "5",
        "queue.buffering.max.messages": "200000",
        "message.timeout.ms": "30000",
    ]

    public init(config: KafkaConfig, name: String = "producer", logger: Logger = KafkaConfig.defaultLogger) throws(KafkaError) {
        let state = ClientState(name: name, logger: logger)
        let conf = try config.makeNativeConfig(defaults: Self.defaultProperties)
        state.install(on: conf)
        rd_kafka_conf_set_dr_msg_cb(conf, producerDeliveryCallback)
        self.handle = try makeNativeHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        self.state = state
        let thread = Thread { [self] in
            while polling.load(ordering: .acquiring) { rd_kafka_poll(handle, 100) }
            pollerDone.signal()
        }
        thread.name = "kafka-\(name)-poll"
        thread.start()
    }

    /// Queues one record. With a full local queue it waits up to `queueWait` for space before failing.
    /// `onDelivery` runs on the producer's poll thread once the broker acknowledges (or gives up).
    public func send(
        topic: String,
        key: [UInt8]?,
        value: [UInt8],
        queueWait: Duration = .seconds(2),
        onDelivery: (@Sendable (Result<DeliveryReport, KafkaError>) -> Void)? = nil
    ) throws(KafkaError) {
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(message: "producer is closed") }
        let box = onDelivery.map { Unmanaged.passRetained(DeliveryCallbackBox($0)).toOpaque() }
        let deadline = ContinuousClock.now.advanced(by: queueWait)
        while true {
            let code = produceOnce(topic: topic, key: key, value: value, opaque: box)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR {
                state.queued.add(1, ordering: .relaxed)
                return
            }
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.001)
                continue
            }
            if let box { Unmanaged<DeliveryCallbackBox>.fromOpaque(box).release() }
            state.deliveryFailures.add(1, ordering: .relaxed)
            throw kafkaError(code, context: "produce to \(topic) failed")
        }
    }

    private func produceOnce(topic: String, key: [UInt8]?, value: [UInt8], opaque: UnsafeMutableRawPointer?) -> rd_kafka_resp_err_t {
        topic.withCString { topicName in
            value.withUnsafeBytes { valueBytes in
                withOptionalBytes(key) { keyBytes in
                    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 5)
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topicName
                    fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    fields[1].u.mem.size = valueBytes.count
                    fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[2].u.i = RD_KAFKA_MSG_F_COPY
                    fields[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                    fields[3].u.ptr = opaque
                    var count = 4
                    if let keyBytes {
                        fields[4].vtype = RD_KAFKA_VTYPE_KEY
                        fields[4].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                        fields[4].u.mem.size = keyBytes.count
                        count = 5
                    }
                    guard let error = rd_kafka_produceva(handle, &fields, count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                    defer { rd_kafka_error_destroy(error) }
                    return rd_kafka_error_code(error)
                }
            }
        }
    }

    /// Connects and learns the topic's partitions ahead of the first record, so the first send
    /// does not pay for the connection and metadata round trips. Returns false when the cluster
    /// did not answer in time (sending still works later).
    @discardableResult
    public func prepare(topic: String, timeout: Duration = .seconds(5)) -> Bool {
        ((try? partitionCount(handle: handle, topic: topic, timeoutMilliseconds: Int32(clamping: timeout.milliseconds))) ?? nil) != nil
    }

    /// Waits until every queued record is delivered or failed; returns how many are still queued.
    @discardableResult
    public func flush(timeout: Duration) -> Int {
        _ = rd_kafka_flush(handle, Int32(clamping: timeout.milliseconds))
        return Int(rd_kafka_outq_len(handle))
    }

    /// The name given at creation, for logs.
    public var name: String { state.name }
    /// Records accepted into librdkafka's queue since start.
    public var queuedCount: Int { state.queued.load(ordering: .relaxed) }
    /// Records acknowledged by the broker / failed for good, since start.
    public var deliveredCount: Int { state.delivered.load(ordering: .relaxed) }
    public var failedCount: Int { state.deliveryFailures.load(ordering: .relaxed) }
    public var health: KafkaHealth { state.health.withLock { $0 } }

    /// Flushes, stops the poll thread and destroys the handle. Returns records left undelivered.
    @discardableResult
    public func close(timeout: Duration) -> Int {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return 0 }
        let remaining = flush(timeout: timeout)
        polling.store(false, ordering: .releasing)
        pollerDone.wait()
        rd_kafka_destroy(handle)
        return remaining
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

private func producerDeliveryCallback(
    _ handle: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let message else { return }
    let state = ClientState.from(opaque)
    let error = message.pointee.err
    let result: Result<DeliveryReport, KafkaError>
    if error == RD_KAFKA_RESP_ERR_NO_ERROR {
        state?.delivered.add(1, ordering: .relaxed)
        state?.markHealthy()
        result = .success(DeliveryReport(partition: message.pointee.partition, offset: message.pointee.offset))
    } else {
        state?.deliveryFailures.add(1, ordering: .relaxed)
        let failure = kafkaError(error, context: "delivery failed")
        state?.logDeliveryFailure(failure)
        result = .failure(failure)
    }
    if let boxPointer = message.pointee._private {
        Unmanaged<DeliveryCallbackBox>.fromOpaque(boxPointer).takeRetainedValue().callback(result)
    }
}
