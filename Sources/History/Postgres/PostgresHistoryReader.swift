import MusicModel

/// A query worker's PostgreSQL connection.
///
/// Pages: SQL narrows rows only by since/until and the opaque ids (user_id, track_id, each
/// with an index); every other criterion is decided by `EventFilter.matches` on each row read,
/// the code the in-memory window runs, so history and window never disagree on a match. The
/// aggregates decide everything in SQL, exactly (`PostgresFilter`, `+Aggregates`).
final class PostgresHistoryReader: HistoryReader {
    let connection: PostgresConnection
    /// Set by `limitQueries`: an aggregate's statements are cancelled by PostgreSQL past it.
    private var deadline: ContinuousClock.Instant?

    /// Rows fetched per round trip when Swift decides part of the filter: the first round trip
    /// asks for this many (or the page plus one, if more), later ones for twice the last.
    private static let firstScanBatch = 256
    private static let largestScanBatch = 8_192

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    func limitQueries(until deadline: ContinuousClock.Instant?) {
        self.deadline = deadline
    }

    /// Runs `body` in one read-only snapshot, its statements limited to the time left before
    /// the deadline (`SET LOCAL statement_timeout`, so only this transaction's).
    func snapshot<T>(_ what: String, _ body: () throws(PostgresError) -> T) throws(HistoryError) -> T {
        do {
            return try connection.run(what) { () throws(PostgresError) -> T in
                try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(PostgresError) -> T in
                    if let deadline {
                        let left = (deadline - ContinuousClock.now).components
                        let milliseconds = left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000
                        guard milliseconds > 0 else {
                            throw PostgresError(message: "past the query's time limit", sqlState: "57014", isUnavailable: true)
                        }
                        try connection.execute("SET LOCAL statement_timeout = \(milliseconds)")
                    }
                    return try body()
                }
            }
        } catch {
            throw error.historyError
        }
    }

    /// One snapshot: the stored offsets and the rows they cover.
    func listens(of log: String, in ranges: [Int32: ClosedRange<Int64>], limit: Int) throws(HistoryError) -> [HistoryRecord]? {
        try snapshot("reading listens by position") { () throws(PostgresError) -> [HistoryRecord]? in
            let stored = try PostgresHistoryWriter.storedOffsets(of: log, on: connection)
            for (partition, range) in ranges where (stored[partition] ?? 0) <= range.upperBound { return nil }
            var records: [HistoryRecord] = []
            for (partition, range) in ranges.sorted(by: { $0.key < $1.key }) {
                let result = try connection.execute(
                    "SELECT \(PostgresSchema.selectColumns), kafka_offset FROM listens "
                        + "WHERE kafka_partition = $1 AND kafka_offset BETWEEN $2 AND $3 ORDER BY kafka_offset LIMIT $4"
                ) { parameters in
                    parameters.append(partition)
                    parameters.append(range.lowerBound)
                    parameters.append(range.upperBound)
                    parameters.append(limit - records.count + 1)
                }
                for row in 0..<result.rowCount {
                    records.append(HistoryRecord(
                        event: ListenRow.event(in: result, row: row), partition: partition, offset: result.int64(row, 16) ?? -1))
                }
                if records.count > limit { return nil }
            }
            return records
        }
    }

    func listens(
        matching filter: EventFilter, order: HistoryOrder, after cursor: HistoryCursor?, limit: Int, scanLimit: Int
    ) throws(HistoryError) -> HistoryPage {
        guard limit > 0, scanLimit > 0 else {
            throw HistoryError("limit and scanLimit must be at least 1 (got \(limit) and \(scanLimit))")
        }
        // When SQL decides the whole filter every row read matches: read the page plus one row,
        // which says whether more follow.
        let sqlDecidesAll = filter == EventFilter(userID: filter.userID, trackID: filter.trackID, since: filter.since, until: filter.until)
        do {
            return try connection.run("reading listens") { () throws(PostgresError) in
                var listens: [ListenEvent] = []
                var position = cursor
                var examined = 0
                var batch = Self.firstScanBatch
                while true {
                    let remaining = scanLimit - examined
                    // The scan budget is spent: continue after the last row examined.
                    if remaining == 0 { return HistoryPage(listens: listens, next: position) }
                    let wanted = limit - listens.count + 1
                    let fetch = min(remaining, sqlDecidesAll ? wanted : max(wanted, batch))
                    let result = try select(filter, order: order, after: position, limit: fetch)
                    let rows = result.rowCount
                    for row in 0..<rows {
                        let event = ListenRow.event(in: result, row: row)
                        examined += 1
                        position = HistoryCursor(timestamp: event.timestamp, eventID: event.eventID)
                        guard filter.matches(event) else { continue }
                        listens.append(event)
                        if listens.count == limit {
                            // Nothing follows only if this was the last row and the scan ran dry.
                            let exhausted = row == rows - 1 && rows < fetch
                            return HistoryPage(listens: listens, next: exhausted ? nil : position)
                        }
                    }
                    if rows < fetch { return HistoryPage(listens: listens, next: nil) }
                    batch = min(batch * 2, Self.largestScanBatch)
                }
            }
        } catch {
            throw error.historyError
        }
    }

    /// One keyset step: rows strictly after `cursor` in `order`, the exact criteria in SQL.
    private func select(
        _ filter: EventFilter, order: HistoryOrder, after cursor: HistoryCursor?, limit: Int
    ) throws(PostgresError) -> PostgresResult {
        var conditions = ListenConditions(filter: filter)
        if let cursor {
            // The plain bound on "timestamp" says nothing new, but lets the planner skip whole
            // day partitions on the far side of the cursor (it does not prune on row values).
            let comparison = order == .newestFirst ? "<" : ">"
            let timestamp = conditions.next
            conditions.add(
                "(\"timestamp\", event_id) \(comparison) ($\(timestamp)::bigint, $\(timestamp + 1)::text) "
                    + "AND \"timestamp\" \(comparison)= $\(timestamp)::bigint"
            ) {
                $0.append(cursor.timestamp)
                $0.append(cursor.eventID)
            }
        }
        let direction = order == .newestFirst ? "DESC" : "ASC"
        var parameters = conditions.parameters
        parameters.append(limit)
        return try connection.execute(
            "SELECT \(PostgresSchema.selectColumns) FROM listens\(conditions.whereClause) "
                + "ORDER BY \"timestamp\" \(direction), event_id \(direction) LIMIT $\(conditions.next)",
            parameters)
    }

    func userSummary(userID: String, since: Int64?, until: Int64?, top: Int) throws(HistoryError) -> UserSummary? {
        var conditions = ListenConditions(filter: EventFilter(userID: userID, since: since, until: until))
        let range = conditions.whereClause
        do {
            // One snapshot for the figures and the rankings, so they describe the same rows.
            return try connection.run("summarising user \(userID)") { () throws(PostgresError) in
                try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(PostgresError) -> UserSummary? in
                    let figures = try connection.execute(
                        """
                        SELECT count(*), coalesce(sum(rating), 0), count(*) FILTER (WHERE NOT completed),
                            min("timestamp"), max("timestamp"),
                            (SELECT username FROM listens\(range) ORDER BY "timestamp" DESC, event_id DESC LIMIT 1)
                        FROM listens\(range)
                        """, conditions.parameters)
                    let listens = figures.int(0, 0) ?? 0
                    guard listens > 0 else { return nil }
                    let ratingSum = figures.int64(0, 1) ?? 0
                    let skipped = figures.int(0, 2) ?? 0

                    var artists: [UserSummary.Entry] = []
                    var genres: [UserSummary.Entry] = []
                    var platforms: [UserSummary.Entry] = []
                    if top > 0 {
                        let limitParameter = conditions.next
                        conditions.add { $0.append(top) }
                        let ranked = try connection.execute(rankingStatement(range, limitParameter: limitParameter), conditions.parameters)
                        for row in 0..<ranked.rowCount {
                            let entry = UserSummary.Entry(value: ranked.string(row, 1), count: ranked.int(row, 2) ?? 0)
                            switch ranked.string(row, 0) {
                            case "artist": artists.append(entry)
                            case "genre": genres.append(entry)
                            default: platforms.append(entry)
                            }
                        }
                    }
                    return UserSummary(
                        userID: userID, username: figures.string(0, 5), listens: listens,
                        firstSeen: figures.int64(0, 3) ?? 0, lastSeen: figures.int64(0, 4) ?? 0,
                        skipRate: Double(skipped) / Double(listens), averageRating: Double(ratingSum) / Double(listens),
                        topArtists: artists, topGenres: genres, topPlatforms: platforms)
                }
            }
        } catch {
            throw error.historyError
        }
    }

    /// The three top lists in one statement: per kind, values by count (most first), ties by
    /// value bytewise ascending, as Swift's String ordering of the same values.
    private func rankingStatement(_ range: String, limitParameter: Int) -> String {
        let parts = ["artist", "genre", "platform"].map { column in
            """
            SELECT '\(column)' AS kind, \(column) AS value, count(*) AS listens,
                row_number() OVER (ORDER BY count(*) DESC, \(column) COLLATE "C") AS rank
            FROM listens\(range) GROUP BY \(column)
            """
        }
        return "SELECT kind, value, listens FROM (" + parts.joined(separator: " UNION ALL ")
            + ") AS ranked WHERE rank <= $\(limitParameter) ORDER BY kind, rank"
    }

    func extent() throws(HistoryError) -> HistoryExtent {
        do {
            return try connection.run("measuring the history") { () throws(PostgresError) in
                let result = try connection.execute("SELECT count(*), min(\"timestamp\"), max(\"timestamp\") FROM listens")
                return HistoryExtent(listens: result.int(0, 0) ?? 0, oldest: result.int64(0, 1), newest: result.int64(0, 2))
            }
        } catch {
            throw error.historyError
        }
    }
}
