@testable import History
import MusicModel

/// Simulated listens spread over whole UTC days, with many listens sharing each timestamp, so
/// paging has ties to break and retention has days to drop.
enum Fixtures {
    static let day: Int64 = 86_400_000
    /// 2026-11-30T00:00:00Z.
    static let firstDay: Int64 = 1_795_996_800_000
    static let topic = "music-streams"

    /// `count` listens over `days` days from `firstDay + startDay` days: per day, 40 distinct
    /// timestamps half an hour apart, so about count / (days * 40) listens share each one.
    /// Kafka positions: partition i % 3, offsets counting per partition from `offsetBase`.
    static func records(count: Int, days: Int, seed: UInt64, startDay: Int64 = 0, offsetBase: Int64 = 0) -> [HistoryRecord] {
        var simulator = Simulator(seed: seed)
        return (0..<count).map { i in
            let dayIndex = startDay + Int64(i % days)
            let slot = Int64(i / days % 40)
            let event = simulator.next(timestamp: firstDay + dayIndex * day + slot * 1_800_000)
            return HistoryRecord(event: event, partition: Int32(i % 3), offset: offsetBase + Int64(i / 3))
        }
    }

    /// The order the store promises: by timestamp, ties by event_id compared byte for byte.
    static func oldestFirst(_ events: [ListenEvent]) -> [ListenEvent] {
        events.sorted { a, b in
            a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.eventID.utf8.lexicographicallyPrecedes(b.eventID.utf8)
        }
    }

    static func sorted(_ events: [ListenEvent], _ order: HistoryOrder) -> [ListenEvent] {
        let ascending = oldestFirst(events)
        return order == .oldestFirst ? ascending : ascending.reversed()
    }

    /// Every page of a walk through the history: the listens in the order returned, and the pages.
    static func walk(
        _ reader: any HistoryReader, _ filter: EventFilter = EventFilter(), order: HistoryOrder, limit: Int, scanLimit: Int = 100_000
    ) throws -> (listens: [ListenEvent], pages: [HistoryPage]) {
        var listens: [ListenEvent] = []
        var pages: [HistoryPage] = []
        var cursor: HistoryCursor?
        repeat {
            let page = try reader.listens(matching: filter, order: order, after: cursor, limit: limit, scanLimit: scanLimit)
            listens += page.listens
            pages.append(page)
            cursor = page.next
        } while cursor != nil && pages.count < 100_000
        return (listens, pages)
    }

    /// Runs one statement on its own connection (the tests' view of the database).
    @discardableResult
    static func sql(_ url: String, _ statement: String) throws -> PostgresResult {
        let connection = try PostgresConnection(conninfo: url, label: "test", connectTimeoutSeconds: 5)
        return try connection.execute(statement)
    }

    static func count(_ url: String, _ table: String = "listens") throws -> Int {
        try sql(url, "SELECT count(*) FROM \(table)").int(0, 0) ?? -1
    }

    /// Names of the tables attached to `listens`, sorted.
    static func partitionNames(_ url: String) throws -> [String] {
        let result = try sql(url, """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'listens'::regclass ORDER BY 1
            """)
        return (0..<result.rowCount).map { result.string($0, 0) }
    }

    /// A fresh database on the run's server, with a store on it.
    static func freshStore() throws -> (url: String, store: PostgresHistoryStore) {
        let url = try PostgresServer.shared().createDatabase()
        return (url, try PostgresHistoryStore(url: url))
    }
}
