import MusicModel

/// A query worker's read-only connection. Statements are prepared on first use and kept,
/// keyed by their SQL (a page query has a few dozen shapes at most).
final class SQLiteHistoryReader: HistoryReader {
    let connection: SQLiteConnection
    let lookup: SQLiteTextLookup
    private var statements: [String: SQLiteStatement] = [:]

    init(connection: SQLiteConnection) throws(HistoryError) {
        self.connection = connection
        lookup = try SQLiteTextLookup(connection)
    }

    func statement(_ sql: String, doing: String) throws(HistoryError) -> SQLiteStatement {
        if let statement = statements[sql] { return statement }
        let statement = try connection.prepare(sql, doing: doing, persistent: true)
        statements[sql] = statement
        return statement
    }

    func limitQueries(until deadline: ContinuousClock.Instant?) {
        connection.limit(until: deadline)
    }

    /// The stored offsets are read first: the rows up to them were committed with them, so
    /// the selects that follow (on `listens_by_position`) find every one.
    func listens(of log: String, in ranges: [Int32: ClosedRange<Int64>], limit: Int) throws(HistoryError) -> [HistoryRecord]? {
        let offsets = try statement(
            "SELECT kafka_partition, next_offset FROM sink_offsets WHERE topic = ?1", doing: "reading the sink's offsets")
        defer { offsets.reset() }
        try offsets.bind(log, at: 1)
        var stored: [Int32: Int64] = [:]
        while try offsets.step() {
            if let partition = Int32(exactly: offsets.int64(at: 0)) { stored[partition] = offsets.int64(at: 1) }
        }
        for (partition, range) in ranges where (stored[partition] ?? 0) <= range.upperBound { return nil }
        let select = try statement(
            "SELECT \(SQLiteListenRow.eventColumns), kafka_offset FROM listens INDEXED BY listens_by_position "
                + "WHERE kafka_partition = ?1 AND kafka_offset BETWEEN ?2 AND ?3 ORDER BY kafka_offset LIMIT ?4",
            doing: "reading listens by position")
        var records: [HistoryRecord] = []
        for (partition, range) in ranges.sorted(by: { $0.key < $1.key }) {
            defer { select.reset() }
            try select.bind(Int64(partition), at: 1)
            try select.bind(range.lowerBound, at: 2)
            try select.bind(range.upperBound, at: 3)
            try select.bind(limit - records.count + 1, at: 4)
            while try select.step() {
                let event = try SQLiteListenRow.event(from: select, lookup: lookup)
                records.append(HistoryRecord(event: event, partition: partition, offset: select.int64(at: 16)))
            }
            if records.count > limit { return nil }
        }
        return records
    }

    /// Reads rows in SQL order and keeps those `filter.matches`. The query asks for one row
    /// more than `scanLimit`: reaching it (or reaching `limit` matches with a row still to
    /// come) means more may follow, and the walk continues after the last row examined,
    /// which is also the last row returned when the page is full. One statement, so one
    /// snapshot: a page never mixes before and after a commit.
    func listens(
        matching filter: EventFilter, order: HistoryOrder, after cursor: HistoryCursor?, limit: Int, scanLimit: Int
    ) throws(HistoryError) -> HistoryPage {
        // Clamped rather than refused: a caller's slip should cost a short page, not an error.
        let limit = max(1, limit)
        let scanLimit = min(max(1, scanLimit), Int(Int32.max))
        if filter.hasEmptyRange {
            return HistoryPage(listens: [], next: nil)
        }
        var user: Int64?
        if let userID = filter.userID {
            // A user no listen names has no rows.
            guard let id = try lookup.id(of: userID, in: .userID) else { return HistoryPage(listens: [], next: nil) }
            user = id
        }
        let query = SQLiteListenQuery(filter: filter, user: user, order: order, after: cursor, rowLimit: scanLimit + 1)
        let statement = try statement(query.sql, doing: "reading listens")
        defer { statement.reset() }
        try query.bind(to: statement)
        var listens: [ListenEvent] = []
        var examined = 0
        var last: HistoryCursor?
        while try statement.step() {
            if examined == scanLimit || listens.count == limit {
                return HistoryPage(listens: listens, next: last)
            }
            let event = try SQLiteListenRow.event(from: statement, lookup: lookup)
            examined += 1
            last = HistoryCursor(timestamp: event.timestamp, eventID: event.eventID)
            if filter.matches(event) { listens.append(event) }
        }
        return HistoryPage(listens: listens, next: nil)
    }

    /// All figures from one read transaction, so they describe the same set of listens.
    /// Every query reads the `listens_by_user` range of this user only.
    func userSummary(userID: String, since: Int64?, until: Int64?, top: Int) throws(HistoryError) -> UserSummary? {
        if let since, let until, since >= until { return nil }
        guard let user = try lookup.id(of: userID, in: .userID) else { return nil }
        var range = ""
        if since != nil { range += " AND timestamp >= ?2" }
        if until != nil { range += " AND timestamp < ?3" }
        func bind(_ statement: SQLiteStatement) throws(HistoryError) {
            try statement.bind(user, at: 1)
            if let since { try statement.bind(since, at: 2) }
            if let until { try statement.bind(until, at: 3) }
        }
        return try connection.transaction(immediate: false, doing: "summarising user \(userID)") {
            () throws(HistoryError) -> UserSummary? in
            let figures = try statement(
                """
                SELECT COUNT(*), MIN(timestamp), MAX(timestamp), AVG(1 - completed), AVG(rating)
                FROM listens WHERE user_id = ?1\(range)
                """, doing: "summarising a user's listens")
            defer { figures.reset() }
            try bind(figures)
            guard try figures.step(), figures.int(at: 0) > 0 else { return nil }

            let newest = try statement(
                """
                SELECT username FROM listens WHERE user_id = ?1\(range)
                ORDER BY timestamp DESC, event_id DESC LIMIT 1
                """, doing: "reading a user's latest name")
            defer { newest.reset() }
            try bind(newest)
            let username = try newest.step() ? try lookup.text(newest.int64(at: 0)) : ""

            // Ranked in Swift: ties are broken by the text (as the summary promises), which the
            // ids do not order; a user has few distinct values per column.
            func entries(_ column: String) throws(HistoryError) -> [UserSummary.Entry] {
                guard top > 0 else { return [] }
                let ranking = try statement(
                    "SELECT \(column), COUNT(*) FROM listens WHERE user_id = ?1\(range) GROUP BY \(column)",
                    doing: "ranking a user's \(column) values")
                defer { ranking.reset() }
                try bind(ranking)
                var entries: [UserSummary.Entry] = []
                while try ranking.step() {
                    entries.append(UserSummary.Entry(value: try lookup.text(ranking.int64(at: 0)), count: ranking.int(at: 1)))
                }
                entries.sort { $0.count != $1.count ? $0.count > $1.count : $0.value.utf8.lexicographicallyPrecedes($1.value.utf8) }
                return Array(entries.prefix(top))
            }

            return UserSummary(
                userID: userID, username: username, listens: figures.int(at: 0), firstSeen: figures.int64(at: 1),
                lastSeen: figures.int64(at: 2), skipRate: figures.double(at: 3), averageRating: figures.double(at: 4),
                topArtists: try entries("artist"), topGenres: try entries("genre"),
                topPlatforms: try entries("platform"))
        }
    }

    /// Each figure as its own subquery, so MIN and MAX are index lookups; COUNT(*) walks the
    /// smallest index, linear in the rows (a kept counter would make it constant if needed).
    func extent() throws(HistoryError) -> HistoryExtent {
        let statement = try statement(
            """
            SELECT (SELECT COUNT(*) FROM listens), (SELECT MIN(timestamp) FROM listens),
                (SELECT MAX(timestamp) FROM listens)
            """, doing: "measuring the history")
        defer { statement.reset() }
        guard try statement.step() else { return HistoryExtent(listens: 0, oldest: nil, newest: nil) }
        return HistoryExtent(
            listens: statement.int(at: 0),
            oldest: statement.isNull(at: 1) ? nil : statement.int64(at: 1),
            newest: statement.isNull(at: 2) ? nil : statement.int64(at: 2))
    }
}
