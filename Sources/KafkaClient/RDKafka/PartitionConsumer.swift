import Logging
import Foundation
internal import CRdKafka

/// Reads every partition of one topic by assigning them directly, with no consumer group, so each
/// server instance sees every event. On start it rewinds far enough to refill a window.
///
/// `@unchecked Sendable`: created on one thread and then polled from exactly one consumer thread;
/// the rd_kafka_t handle itself is thread-safe, and the Swift fields are immutable after `assign`.
public final class PartitionConsumer: @unchecked Sendable {
    public let topic: String
    private let handle: OpaquePointer
    /// The consumer queue every assigned partition feeds, for taking ready records in slices.
    private let queue: OpaquePointer
    private let state: ClientState
    private var isClosed = false

    /// Set when the consumer is a group member (`subscribe`), not assigned partitions directly.
    public let membership: GroupMembership?

    public init(
        config: KafkaConfig, topic: String, name: String = "consumer", logger: Logger = KafkaConfig.defaultLogger,
        membership: GroupMembership? = nil
    ) throws(KafkaError) {
        let state = ClientState(name: name, logger: logger, membership: membership)
        var groupSettings: [String: String] = [:]
        if let membership {
            groupSettings = [
                "group.id": membership.group,
                // A member that died (kill -9) hands its partitions on after this long, not
                // librdkafka's default 45 s.
                "session.timeout.ms": "6000",
                "heartbeat.interval.ms": "1000",
            ]
        }
        let conf = try config.makeNativeConfig(defaults: [
            // Required by the consumer type, though assign() never joins the group.
            "group.id": "musicstream-window",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "false",
            // A live dashboard wants records as they land: when a partition is idle the broker
            // answers a fetch after at most this long (librdkafka's default is 500 ms).
            "fetch.wait.max.ms": "100",
            // A position the broker no longer has (a broker that came back empty, retention)
            // restarts from the oldest record kept; the window drops any event it already holds.
            "auto.offset.reset": "earliest",
        ].merging(Self.catchUpSettings) { $1 }.merging(groupSettings) { $1 })
        state.install(on: conf)
        let handle = try makeNativeHandle(type: RD_KAFKA_CONSUMER, conf: conf)
        rd_kafka_poll_set_consumer(handle)
        guard let queue = rd_kafka_queue_get_consumer(handle) else {
            rd_kafka_destroy(handle)
            throw KafkaError(message: "librdkafka gave no consumer queue")
        }
        self.queue = queue
        self.handle = handle
        self.state = state
        self.topic = topic
        self.membership = membership
    }

    /// Joins the group (`membership`): the group assigns partitions, the membership says where
    /// each starts.
    public func subscribe() throws(KafkaError) {
        guard membership != nil else { throw KafkaError(message: "subscribe needs a group membership") }
        guard let list = rd_kafka_topic_partition_list_new(1) else { throw KafkaError(message: "cannot allocate topic list") }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        let result = rd_kafka_subscribe(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError(result, context: "subscribe to \(topic)") }
    }

    /// The partitions this consumer reads now.
    public func assignedPartitions() -> [Int32] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return (0..<Int(list.pointee.cnt)).map { list.pointee.elems[$0].partition }
    }

    deinit { close() }

    /// Catching up (a refill, a backlog): with assign() every partition feeds the one consumer
    /// queue, and librdkafka compares that whole queue with the per-partition
    /// `queued.min.messages`, so each partition stops fetching once the queue holds that many and
    /// looks again only after `fetch.queue.backoff.ms` (1 s by default). The queue ran dry in
    /// every such pause: 1,000,000 records from Tansu took 8.2 s with the defaults and 5.6 s with
    /// these (time the ingest thread spent in empty polls: 3 s -> 0). The smaller prefetch also
    /// lowers the refill's memory peak. The backoff setting exists from librdkafka 2.2.0 on.
    static var catchUpSettings: [String: String] {
        guard Librdkafka.versionNumber >= 0x0202_0000 else { return [:] }
        return ["queued.min.messages": "50000", "fetch.queue.backoff.ms": "10"]
    }

    /// Partition count of the topic, or nil while the cluster does not know the topic yet.
    public func partitionCount(timeout: Duration = .seconds(5)) throws(KafkaError) -> Int? {
        try KafkaClient.partitionCount(handle: handle, topic: topic, timeoutMilliseconds: Int32(clamping: timeout.milliseconds))
    }

    /// Assigns partitions `0..<partitions` where the newest `newest` records of the topic begin,
    /// shared between the partitions (`NewestRecords`), so they fill the window; `Int64.max`
    /// starts every partition at its oldest kept record. Returns the start offsets.
    @discardableResult
    public func assignAll(partitions: Int, newest: Int64, timeout: Duration = .seconds(5)) throws(KafkaError) -> [Int64] {
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions)) else {
            throw KafkaError(message: "cannot allocate partition list")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var lows: [Int64] = []
        var highs: [Int64] = []
        for partition in 0..<Int32(partitions) {
            var low: Int64 = 0
            var high: Int64 = 0
            let result = rd_kafka_query_watermark_offsets(
                handle, topic, partition, &low, &high, Int32(clamping: timeout.milliseconds))
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw kafkaError(result, context: "watermarks of \(topic)[\(partition)]")
            }
            lows.append(low)
            highs.append(high)
        }
        let starts = NewestRecords.starts(low: lows, high: highs, total: newest)
        for (partition, start) in starts.enumerated() {
            rd_kafka_topic_partition_list_add(list, topic, Int32(partition)).pointee.offset = start
        }
        let result = rd_kafka_assign(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError(result, context: "assign \(topic)") }
        return starts
    }

    /// The cluster's id (from its metadata), or nil when it does not say within `timeout`:
    /// offsets mean something only within one cluster's log.
    public func clusterID(timeout: Duration = .seconds(5)) -> String? {
        guard let id = rd_kafka_clusterid(handle, Int32(clamping: timeout.milliseconds)) else { return nil }
        defer { rd_kafka_mem_free(handle, id) }
        let text = String(cString: id)
        return text.isEmpty ? nil : text
    }

    /// Assigns partitions `0..<partitions`, each at `offsets[partition]` (the next record a
    /// store still needs) or, when absent, at its oldest kept record. A stored offset the broker
    /// no longer has (retention) starts at the oldest kept record (`auto.offset.reset`).
    public func assign(partitions: Int, startingAt offsets: [Int32: Int64]) throws(KafkaError) {
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions)) else {
            throw KafkaError(message: "cannot allocate partition list")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in 0..<Int32(partitions) {
            rd_kafka_topic_partition_list_add(list, topic, partition).pointee.offset =
                offsets[partition].map { max($0, 0) } ?? Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        let result = rd_kafka_assign(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw kafkaError(result, context: "assign \(topic)") }
    }

    /// Adds partitions `from..<to` (new ones after the topic grew) from their first record,
    /// leaving the partitions already assigned where they are.
    public func addPartitions(from first: Int, to end: Int) throws(KafkaError) {
        guard end > first, let list = rd_kafka_topic_partition_list_new(Int32(end - first)) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in Int32(first)..<Int32(end) {
            rd_kafka_topic_partition_list_add(list, topic, partition).pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        guard let error = rd_kafka_incremental_assign(handle, list) else { return }
        defer { rd_kafka_error_destroy(error) }
        throw KafkaError(code: rd_kafka_error_code(error).rawValue, message: "add partitions of \(topic): \(String(cString: rd_kafka_error_string(error)))")
    }

    /// Waits up to `timeout` for the first record, then takes whatever else is ready, up to `limit`,
    /// handing over each record's payload where librdkafka holds it, valid only during the call:
    /// the ingest path decodes in place instead of copying every payload first. Errors that are
    /// not records (broker down, partition problems) go to `onError`. `timestamp` is the
    /// record's own (ms since the epoch), nil when it has none.
    public func pollBorrowing(
        timeout: Duration, limit: Int, onError: (KafkaError) -> Void = { _ in },
        _ body: (_ partition: Int32, _ offset: Int64, _ timestamp: Int64?, _ value: UnsafeRawBufferPointer) -> Void
    ) -> Int {
        drain(timeout: timeout, limit: limit, onError: onError) { message in
            let record = message.pointee
            var kind = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &kind)
            body(record.partition, record.offset, timestamp >= 0 ? timestamp : nil,
                 UnsafeRawBufferPointer(start: record.payload, count: record.len))
        }
    }

    /// Up to `limit` records (waiting at most `timeout` for the first), errors reported, each
    /// message destroyed after `body` saw it. The first record is waited for with
    /// rd_kafka_consumer_poll; the rest of what is ready is taken in slices, because
    /// rd_kafka_consumer_poll costs a queue lock and clock readings per record (8 % of the
    /// consumer thread while catching up).
    private func drain(
        timeout: Duration, limit: Int, onError: (KafkaError) -> Void,
        _ body: (UnsafeMutablePointer<rd_kafka_message_t>) -> Void
    ) -> Int {
        var count = 0
        func take(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
            defer { rd_kafka_message_destroy(message) }
            let record = message.pointee
            if record.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if record.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    onError(kafkaError(record.err, context: "consume \(topic)"))
                }
                return
            }
            body(message)
            count += 1
        }
        guard limit > 0, let first = rd_kafka_consumer_poll(handle, Int32(clamping: timeout.milliseconds)) else { return 0 }
        take(first)
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<rd_kafka_message_t>?.self, capacity: 256) { slice in
            guard let base = slice.baseAddress else { return }
            while count < limit {
                // Timeout 0: whatever is queued now, without waiting for the slice to fill.
                let taken = rd_kafka_consume_batch_queue(queue, 0, base, min(slice.count, limit - count))
                guard taken > 0 else { break }
                for index in 0..<taken {
                    if let message = base[index] { take(message) }
                }
            }
        }
        if count > 0 { state.markHealthy() }
        return count
    }

    public var health: KafkaHealth { state.health.withLock { $0 } }

    /// Records not yet consumed per partition, from librdkafka's cached high watermarks and the
    /// consumer's position (no broker round trip, so it is cheap enough for every /metrics scrape).
    /// A partition is missing while either figure is unknown.
    /// A group member counts only the partitions it has now.
    public func lag(partitions: Int) -> [Int32: Int64] {
        let which = membership == nil ? Array(0..<Int32(max(partitions, 0))) : assignedPartitions()
        guard !which.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(which.count)) else { return [:] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in which { rd_kafka_topic_partition_list_add(list, topic, partition) }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var result: [Int32: Int64] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let entry = list.pointee.elems[index]
            var low: Int64 = -1
            var high: Int64 = -1
            guard rd_kafka_get_watermark_offsets(handle, topic, entry.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0 else { continue }
            // Before the first fetch the position is unset: then everything from the start counts.
            let position = entry.offset >= 0 ? entry.offset : low
            guard position >= 0 else { continue }
            result[entry.partition] = max(0, high - position)
        }
        return result
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        rd_kafka_queue_destroy(queue)
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }
}

/// Copies a librdkafka message into Swift-owned storage.
func copyMessage(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> KafkaMessage {
    let record = message.pointee
    let value: [UInt8]
    if let payload = record.payload, record.len > 0 {
        value = Array(UnsafeRawBufferPointer(start: payload, count: record.len))
    } else {
        value = []
    }
    var key: [UInt8]?
    if let keyPointer = record.key {
        key = Array(UnsafeRawBufferPointer(start: keyPointer, count: record.key_len))
    }
    var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
    let timestamp = rd_kafka_message_timestamp(message, &timestampType)
    return KafkaMessage(
        topic: topic, partition: record.partition, offset: record.offset,
        key: key, value: value, timestamp: timestamp >= 0 ? timestamp : nil)
}
