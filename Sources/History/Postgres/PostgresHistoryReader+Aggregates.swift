import MusicModel

/// The aggregates in PostgreSQL's SQL (`PostgresFilter` says how each criterion stays exact),
/// instead of the scanning defaults that read every matching listen into Swift. Each answer
/// runs in one read-only snapshot. A filter of nothing but since/until is answered from the
/// roll-ups (`Rollup`, `PostgresRollup`): whole hours and minutes from their tables, the
/// partial minutes at the ends from the rows. Past the reader's deadline (`limitQueries`) PostgreSQL
/// cancels the statement (statement_timeout), so the worker is free again.
extension PostgresHistoryReader: RollupAggregating {
    func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        if filter.hasEmptyRange { return 0 }
        return try snapshot("counting listens") { () throws(PostgresError) -> Int in try plannedCount(filter) }
    }

    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        if filter.hasEmptyRange { return FacetSummary(matching: 0, tallies: [:]) }
        return try snapshot("counting facets") { () throws(PostgresError) -> FacetSummary in try plannedFacets(filter) }
    }

    func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        if filter.hasEmptyRange { return [:] }
        return try snapshot("counting listens per bucket") { () throws(PostgresError) -> [Int64: (count: Int, skipped: Int)] in
            try plannedTimeline(filter, bucket: max(1, bucketMilliseconds))
        }
    }

    func exactCount(_ filter: EventFilter) throws(PostgresError) -> Int {
        let conditions = try PostgresFilter(filter, connection: connection).conditions(except: nil)
        return try connection.execute("SELECT count(*) FROM listens\(conditions.whereClause)", conditions.parameters)
            .int(0, 0) ?? 0
    }

    /// One scan grouped by every facet the filter leaves free (GROUPING SETS: each facet and
    /// the total), plus one scan per constrained facet without its own criterion.
    func exactFacets(_ filter: EventFilter) throws(PostgresError) -> (matching: Int, tallies: [Facet: [String: Int]]) {
        let sql = try PostgresFilter(filter, connection: connection)
        var tallies: [Facet: [String: Int]] = [:]
        let columns = ["genre", "platform", "mood", "country", "artist", "rating", "completed"]
        let free = Facet.allCases.filter { !sql.constrains($0) }
        let freeColumns = columns.filter { column in free.contains { Self.column(of: $0) == column } }
        let all = sql.conditions(except: nil)
        let sets = (freeColumns.map { "(\($0))" } + ["()"]).joined(separator: ", ")
        let groupings = freeColumns.map { "GROUPING(\($0))" }
        let select = (freeColumns + groupings + ["count(*)"]).joined(separator: ", ")
        let combined = try connection.execute(
            "SELECT \(select) FROM listens\(all.whereClause) GROUP BY GROUPING SETS (\(sets))", all.parameters)
        var matching = 0
        let countColumn = freeColumns.count * 2
        for row in 0..<combined.rowCount {
            let count = combined.int(row, countColumn) ?? 0
            // GROUPING(c) is 0 in the rows grouped by c, 1 elsewhere.
            guard let grouped = freeColumns.indices.first(where: { combined.int(row, freeColumns.count + $0) == 0 }) else {
                matching += count
                continue
            }
            for facet in free where Self.column(of: facet) == freeColumns[grouped] {
                tallies[facet, default: [:]][Self.value(of: facet, combined.string(row, grouped)), default: 0] += count
            }
        }
        for facet in Facet.allCases where sql.constrains(facet) {
            let column = Self.column(of: facet)
            let conditions = sql.conditions(except: facet)
            let result = try connection.execute(
                "SELECT \(column), count(*) FROM listens\(conditions.whereClause) GROUP BY \(column)",
                conditions.parameters)
            var counts: [String: Int] = [:]
            for row in 0..<result.rowCount {
                counts[Self.value(of: facet, result.string(row, 0)), default: 0] += result.int(row, 1) ?? 0
            }
            tallies[facet] = counts
        }
        return (matching, tallies)
    }

    func exactTimeline(_ filter: EventFilter, _ size: Int64) throws(PostgresError) -> [Int64: (count: Int, skipped: Int)] {
        var conditions = try PostgresFilter(filter, connection: connection).conditions(except: nil)
        let sizeParameter = conditions.next
        conditions.add { $0.append(size) }
        // floor("timestamp" / size) * size, right for negative timestamps too.
        let bucket = "(\"timestamp\" - (((\"timestamp\" % $\(sizeParameter)::bigint) + $\(sizeParameter)::bigint) % $\(sizeParameter)::bigint))"
        let result = try connection.execute(
            "SELECT \(bucket) AS t, count(*), count(*) FILTER (WHERE NOT completed) FROM listens"
                + "\(conditions.whereClause) GROUP BY t", conditions.parameters)
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        for row in 0..<result.rowCount {
            if let start = result.int64(row, 0) { counts[start] = (result.int(row, 1) ?? 0, result.int(row, 2) ?? 0) }
        }
        return counts
    }

    func rolledUpMinutes() throws(PostgresError) -> (oldest: Int64, newest: Int64)? {
        let bounds = try connection.execute("SELECT min(start), max(start) FROM rollup_listens WHERE unit = \(Rollup.minute)")
        guard let oldest = bounds.int64(0, 0), let newest = bounds.int64(0, 1) else { return nil }
        return (oldest, newest)
    }

    func rolledUpFacets(unit: Int64, _ range: Range<Int64>) throws(PostgresError) -> [(facet: Facet, value: String, listens: Int)] {
        let result = try connection.execute(
            """
            SELECT facet, value, sum(listens) FROM rollup_facets
            WHERE unit = $1::bigint AND start >= $2::bigint AND start < $3::bigint GROUP BY facet, value
            """, parameters: { Self.bind(unit, range, to: &$0) })
        var rows: [(facet: Facet, value: String, listens: Int)] = []
        for row in 0..<result.rowCount {
            guard let facet = Facet(rawValue: result.string(row, 0)) else { continue }
            rows.append((facet, result.string(row, 1), result.int(row, 2) ?? 0))
        }
        return rows
    }

    private static func bind(_ unit: Int64, _ range: Range<Int64>, to parameters: inout PostgresParameters) {
        parameters.append(unit)
        parameters.append(range.lowerBound)
        parameters.append(range.upperBound)
    }

    func rolledUpListens(
        unit: Int64, _ range: Range<Int64>, bucket: Int64?
    ) throws(PostgresError) -> [Int64: (count: Int, skipped: Int)] {
        let key = bucket.map { PostgresRollup.floorSQL("start", $0) } ?? "0"
        let result = try connection.execute(
            """
            SELECT \(key) AS t, sum(listens), sum(skipped) FROM rollup_listens
            WHERE unit = $1::bigint AND start >= $2::bigint AND start < $3::bigint GROUP BY t
            """, parameters: { Self.bind(unit, range, to: &$0) })
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        for row in 0..<result.rowCount {
            if let start = result.int64(row, 0) { counts[start] = (result.int(row, 1) ?? 0, result.int(row, 2) ?? 0) }
        }
        return counts
    }

    private static func column(of facet: Facet) -> String {
        switch facet {
        case .genre, .platform, .mood, .country, .artist: facet.rawValue
        case .rating: "rating"
        case .skipped, .completed: "completed"
        }
    }

    /// A grouped value as /api/facets spells it (PostgreSQL sends booleans as t/f).
    private static func value(of facet: Facet, _ text: String) -> String {
        switch facet {
        case .genre, .platform, .mood, .country, .artist, .rating: text
        case .skipped: text == "t" ? "false" : "true"
        case .completed: text == "t" ? "true" : "false"
        }
    }
}
