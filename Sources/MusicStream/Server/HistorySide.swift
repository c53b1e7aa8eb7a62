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

    /// How `/stream` resumes a client from further back than the window holds: a query job
    /// reads the listens by position (under the log the sink stores), answered on the loop
    /// with the window as it is then. Not with the embedded broker: its log is new on every
    /// start, so the store holds other runs' records at the same offsets.
    func streamReplay(live: LiveWindow, limit: Int) -> SSEHub.HistoryReplay? {
        guard sink.resumesLog else { return nil }
        let queries = self.queries
        let sink = self.sink
        return { ranges, done in
            guard let log = sink.stats.current.log else {
                done(nil, live.window, live.knownPosition)
                return
            }
            queries.submit({ reader throws(ProblemDetails) in
                do {
                    return .value(try reader.listens(of: log, in: ranges, limit: limit) as [HistoryRecord]?)
                } catch {
                    throw ProblemDetails(status: 503, title: "History unavailable", detail: "\(error)")
                }
            }) { answer in
                guard case .value(let value) = answer, let records = value as? [HistoryRecord]? else {
                    done(nil, live.window, live.knownPosition)
                    return
                }
                done(records, live.window, live.knownPosition)
            }
        }
    }

    /// Stops the sink (after its last write) and the query workers.
    func stop() {
        sink.stop()
        queries.stop()
    }
}
