import MusicModel

/// The aggregates in PostgreSQL's SQL (`PostgresFilter` says how each criterion stays exact),
/// instead of the scanning defaults that read every matching listen into Swift. Each answer
/// runs in one read-only snapshot. A filter of nothing but since/until is answered from the
/// roll-ups (`Rollup`, `PostgresRollup`): whole hours and minutes from their tables, the
/// partial minutes at the ends from the rows. Past the reader's deadline (`limitQueries`) PostgreSQL
/// cancels the statement (statement_timeout), so the worker is free again.
extension PostgresHistoryReader {
    func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        if filter.hasEmptyRange { return 0 }
        return try snapshot("counting listens") { () throws(PostgresError) -> Int in
            guard let plan = try rollupPlan(filter, useHours: true) else { return try exactCount(filter) }
            var count = 0
            for range in plan.rows { count += try exactCount(Self.range(range)) }
            for (unit, ranges) in plan.rolledUp {
                for range in ranges {
                    count += try rolledUpListens(unit: unit, range, bucket: nil).values.reduce(0) { $0 + $1.count }
                }
            }
            return count
        }
    }

    private func exactCount(_ filter: EventFilter) throws(PostgresError) -> Int {
        let conditions = try PostgresFilter(filter, connection: connection).conditions(except: nil)
        return try connection.execute("SELECT count(*) FROM listens\(conditions.whereClause)", conditions.parameters)
            .int(0, 0) ?? 0
    }

    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        if filter.hasEmptyRange { return FacetSummary(matching: 0, tallies: [:]) }
        return try snapshot("counting facets") { () throws(PostgresError) -> FacetSummary in
            guard let plan = try rollupPlan(filter, useHours: true) else {
                let (matching, tallies) = try exactFacets(filter)
                return FacetSummary(matching: matching, tallies: tallies)
            }
            var matching = 0
            var tallies: [Facet: [String: Int]] = [:]
            for range in plan.rows {
                let (rows, counts) = try exactFacets(Self.range(range))
                matching += rows
                for (facet, values) in counts { tallies[facet, default: [:]].merge(values, uniquingKeysWith: +) }
            }
            for (unit, ranges) in plan.rolledUp {
                for range in ranges {
                    matching += try rolledUpListens(unit: unit, range, bucket: nil).values.reduce(0) { $0 + $1.count }
                    let result = try connection.execute(
                        """
                        SELECT facet, value, sum(listens) FROM rollup_facets
                        WHERE unit = $1::bigint AND start >= $2::bigint AND start < $3::bigint GROUP BY facet, value
                        """, parameters: { Self.bind(unit, range, to: &$0) })
                    for row in 0..<result.rowCount {
                        guard let facet = Facet(rawValue: result.string(row, 0)) else { continue }
                        tallies[facet, default: [:]][result.string(row, 1), default: 0] += result.int(row, 2) ?? 0
                    }
                }
            }
            return FacetSummary(matching: matching, tallies: tallies)
        }
    }

    /// One scan grouped by every facet the filter leaves free (GROUPING SETS: each facet and
    /// the total), plus one scan per constrained facet without its own criterion.
    private func exactFacets(_ filter: EventFilter) throws(PostgresError) -> (Int, [Facet: [String: Int]]) {
        do {
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
    }

    func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        if filter.hasEmptyRange { return [:] }
        let size = max(1, bucketMilliseconds)
        return try snapshot("counting listens per bucket") { () throws(PostgresError) -> [Int64: (count: Int, skipped: Int)] in
            // Minutes serve buckets made of whole minutes, hours those made of whole hours.
            guard size % Rollup.minute == 0, let plan = try rollupPlan(filter, useHours: size % Rollup.hour == 0) else {
                return try exactTimeline(filter, size)
            }
            var counts: [Int64: (count: Int, skipped: Int)] = [:]
            func add(_ more: [Int64: (count: Int, skipped: Int)]) {
                for (t, figures) in more {
                    counts[t, default: (0, 0)].count += figures.count
                    counts[t, default: (0, 0)].skipped += figures.skipped
                }
            }
            for range in plan.rows { add(try exactTimeline(Self.range(range), size)) }
            for (unit, ranges) in plan.rolledUp {
                for range in ranges { add(try rolledUpListens(unit: unit, range, bucket: size)) }
            }
            return counts.filter { $0.value.count > 0 }
        }
    }

    private func exactTimeline(_ filter: EventFilter, _ size: Int64) throws(PostgresError) -> [Int64: (count: Int, skipped: Int)] {
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

    /// The roll-up plan for `filter`, or nil when it has criteria besides since/until. An open
    /// end is closed at the oldest or newest rolled-up minute.
    private func rollupPlan(_ filter: EventFilter, useHours: Bool) throws(PostgresError) -> Rollup.Plan? {
        guard filter == EventFilter(since: filter.since, until: filter.until) else { return nil }
        var since = filter.since
        var until = filter.until
        if since == nil || until == nil {
            let bounds = try connection.execute(
                "SELECT min(start), max(start) FROM rollup_listens WHERE unit = \(Rollup.minute)")
            guard let oldest = bounds.int64(0, 0), let newest = bounds.int64(0, 1) else { return Rollup.Plan(0..<0, useHours: false) }
            since = since ?? oldest
            until = until ?? newest + Rollup.minute
        }
        guard let since, let until else { return nil }
        return Rollup.Plan(since..<max(since, until), useHours: useHours)
    }

    private static func range(_ range: Range<Int64>) -> EventFilter {
        EventFilter(since: range.lowerBound, until: range.upperBound)
    }

    private static func bind(_ unit: Int64, _ range: Range<Int64>, to parameters: inout PostgresParameters) {
        parameters.append(unit)
        parameters.append(range.lowerBound)
        parameters.append(range.upperBound)
    }

    /// Rolled-up listens and skips of `unit` rows starting in `range`, per `bucket` (all in one
    /// entry keyed 0 when nil).
    private func rolledUpListens(
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
