import EventHTTP
import Foundation
import History
import Logging

/// The history side of the service (issue 13): the store `--history` names, the sink that fills
/// it from Kafka on its own thread, and the query pool that answers from it. Absent with
/// `--history none`.
final class HistorySide {
    let store: any HistoryStore
    let sink: HistorySink
    let queries: HistoryQueries

    /// nil when the history is off.
    init?(config: ServiceConfig, kafka: KafkaSide, loop: EventLoop, logger: Logger) throws {
        guard let store = try Self.openStore(config.history, dataDirectory: config.dataDirectory) else { return nil }
        self.store = store
        // Replicas share a PostgreSQL history: their sinks split the partitions in a group. An
        // SQLite history is this server's own, so it stores every partition.
        let group: String? = if case .postgres = config.history { config.historyGroup } else { nil }
        sink = try kafka.makeHistorySink(store: store, retention: config.historyRetention, group: group)
        queries = HistoryQueries(store: store, loop: loop, logger: logger)
        logger.info("history: \(store.description), retention \(config.historyRetention)")
    }

    /// The store `location` names; nil for none.
    static func openStore(_ location: HistoryLocation, dataDirectory: String) throws(HistoryError) -> (any HistoryStore)? {
        switch location {
        case .none: return nil
        case .sqlite: return try SQLiteHistoryStore(directory: dataDirectory)
        case .postgres(let url): return try PostgresHistoryStore(url: url)
        }
    }

    /// Stops the sink (after its last write) and the query workers.
    func stop() {
        sink.stop()
        queries.stop()
    }
}
