import Logging
import Synchronization
internal import CRdKafka
#if canImport(Glibc)
import Glibc
#endif

/// Connection health as librdkafka reports it through its error callback.
public struct KafkaHealth: Sendable, Equatable {
    /// True after librdkafka said every broker is down, until traffic flows again.
    public var allBrokersDown: Bool = false
    /// The most recent error librdkafka reported, for /api/status and logs.
    public var lastError: String?

    public init(allBrokersDown: Bool = false, lastError: String? = nil) {
        self.allBrokersDown = allBrokersDown
        self.lastError = lastError
    }
}

/// State shared between a Swift client object and librdkafka's callbacks, which run on librdkafka's
/// threads or on whichever thread polls. It is handed to librdkafka as the config opaque and outlives
/// the rd_kafka_t it belongs to (the owner destroys the handle first).
final class ClientState: Sendable {
    let name: String
    /// Where librdkafka's own log lines and the wrapper's reports go, tagged with the client's name.
    let logger: Logger
    /// Log lines librdkafka emits under these facilities are dropped (e.g. the mock cluster's CONFWARN).
    let quietFacilities: Set<String>
    let health = Mutex(KafkaHealth())
    /// Records librdkafka accepted into its queue (producers only).
    let queued = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
    let deliveryFailures = Atomic<Int>(0)
    /// When the last delivery failure was logged (monotonic ms), so a broker outage logs one line
    /// a second rather than one per record.
    private let lastFailureLogged = Atomic<Int64>(-1_000_000)

    /// Set for a consumer in a group: what it does when partitions are assigned or revoked.
    let membership: GroupMembership?

    init(name: String, logger: Logger, quietFacilities: Set<String> = [], membership: GroupMembership? = nil) {
        self.membership = membership
        self.name = name
        self.logger = logger
        self.quietFacilities = quietFacilities
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientState? {
        guard let opaque else { return nil }
        return Unmanaged<ClientState>.fromOpaque(opaque).takeUnretainedValue()
    }

    func markHealthy() {
        health.withLock { state in
            if state.allBrokersDown { state.allBrokersDown = false }
        }
    }

    /// Logs a failed delivery, at most once a second, with how many failed since start.
    func logDeliveryFailure(_ error: KafkaError) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let milliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        let last = lastFailureLogged.load(ordering: .relaxed)
        guard milliseconds - last >= 1000,
              lastFailureLogged.compareExchange(expected: last, desired: milliseconds, ordering: .relaxed).exchanged else { return }
        logger.warning("kafka[\(name)] delivery failed: \(error.message) (\(deliveryFailures.load(ordering: .relaxed)) failed since start)")
    }

    /// librdkafka logs with syslog severities (0 emergency ... 7 debug). Its notice and info lines
    /// are connection chatter (a broker connection closed at shutdown, a reconnect) that would
    /// drown the service's own info lines, so they come out at debug, and its debug at trace.
    static func logLevel(syslogLevel level: Int32) -> Logger.Level {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5, 6: .debug
        default: .trace
        }
    }

    /// Installs the log and error callbacks that route librdkafka's reports here.
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, opaque)
        rd_kafka_conf_set_log_cb(conf, clientLogCallback)
        rd_kafka_conf_set_error_cb(conf, clientErrorCallback)
        if membership != nil { rd_kafka_conf_set_rebalance_cb(conf, groupRebalanceCallback) }
    }
}

/// librdkafka's log lines go to the client's logger at the matching level, with the client's name.
private func clientLogCallback(
    _ handle: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?
) {
    guard let handle, let state = ClientState.from(rd_kafka_opaque(handle)) else { return }
    let logLevel = ClientState.logLevel(syslogLevel: level)
    guard state.logger.logLevel <= logLevel else { return }
    let facilityName = facility.map { String(cString: $0) } ?? "?"
    if state.quietFacilities.contains(facilityName) { return }
    state.logger.log(level: logLevel, "kafka[\(state.name)] \(facilityName): \(text.map { String(cString: $0) } ?? "")")
}

private func clientErrorCallback(
    _ handle: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let state = ClientState.from(opaque) else { return }
    let text = reason.map { String(cString: $0) } ?? "error \(code)"
    state.health.withLock { health in
        health.lastError = text
        if code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue { health.allBrokersDown = true }
    }
}

/// A group rebalance (eager protocol): assigned partitions start where the member says, and
/// revoked ones are given up at once. Runs inside the member's poll, on its thread.
private func groupRebalanceCallback(
    _ handle: OpaquePointer?, _ error: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let handle, let state = ClientState.from(opaque), let membership = state.membership else { return }
    var ids: [Int32] = []
    if let partitions {
        for index in 0..<Int(partitions.pointee.cnt) { ids.append(partitions.pointee.elems[index].partition) }
    }
    if error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, let partitions {
        let starts = membership.starts(ids)
        for index in 0..<Int(partitions.pointee.cnt) {
            let partition = partitions.pointee.elems[index].partition
            partitions.pointee.elems[index].offset = starts[partition] ?? Int64(RD_KAFKA_OFFSET_BEGINNING)
        }
        let result = rd_kafka_assign(handle, partitions)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            state.logger.error("kafka[\(state.name)] cannot take partitions \(ids): \(String(cString: rd_kafka_err2str(result)))")
        }
    } else {
        membership.revoked(ids)
        rd_kafka_assign(handle, nil)
    }
}
