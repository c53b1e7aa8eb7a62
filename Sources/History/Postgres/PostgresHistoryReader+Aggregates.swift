import MusicModel

/// The aggregates in PostgreSQL's SQL (`PostgresFilter` says how each criterion stays exact),
/// instead of the scanning defaults that read every matching listen into Swift. Each answer
/// runs in one read-only snapshot. Past the reader's deadline (`limitQueries`) PostgreSQL
/// cancels the statement (statement_timeout), so the worker is free again.
extension PostgresHistoryReader {
    func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        if filter.hasEmptyRange { return 0 }
        return try snapshot("counting listens") { () throws(PostgresError) -> Int in
            let conditions = try PostgresFilter(filter, connection: connection).conditions(except: nil)
            return try connection.execute("SELECT count(*) FROM listens\(conditions.whereClause)", conditions.parameters)
                .int(0, 0) ?? 0
        }
    }

    /// One scan grouped by every facet the filter leaves free (GROUPING SETS: each facet and
    /// the total), plus one scan per constrained facet without its own criterion.
    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        if filter.hasEmptyRange { return FacetSummary(matching: 0, tallies: [:]) }
        return try snapshot("counting facets") { () throws(PostgresError) -> FacetSummary in
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
            return FacetSummary(matching: matching, tallies: tallies)
        }
    }

    func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        if filter.hasEmptyRange { return [:] }
        let size = max(1, bucketMilliseconds)
        return try snapshot("counting listens per bucket") { () throws(PostgresError) -> [Int64: (count: Int, skipped: Int)] in
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
