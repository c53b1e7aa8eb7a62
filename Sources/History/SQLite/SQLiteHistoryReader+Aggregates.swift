import MusicModel

/// The aggregates in SQL (`SQLiteFilter` says how every criterion is decided exactly there).
/// Each answer comes from one read transaction, so its figures describe one snapshot.
///
/// A filter of nothing but since/until is answered from the roll-ups (`SQLiteRollup`): whole
/// hours and minutes from their tables, the partial minutes at the ends from the rows.
/// Otherwise each query reads the range through `listens_by_time` (or `listens_by_user` with
/// a user_id), linear in the listens of the range; facets run one grouped query per facet.
extension SQLiteHistoryReader {
    func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        if SQLiteFilter.isEmptyRange(filter) { return 0 }
        return try connection.transaction(immediate: false, doing: "counting listens") { () throws(HistoryError) -> Int in
            guard let plan = try rollupPlan(filter, useHours: true) else { return try exactCount(filter) }
            var count = 0
            for range in plan.rows { count += try exactCount(Self.range(range)) }
            for (unit, ranges) in [(SQLiteRollup.minute, plan.minutes), (SQLiteRollup.hour, plan.hours)] {
                for range in ranges {
                    for (_, figures) in try rolledUpListens(unit: unit, range, bucket: nil) { count += figures.count }
                }
            }
            return count
        }
    }

    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        if SQLiteFilter.isEmptyRange(filter) { return FacetSummary(matching: 0, tallies: [:]) }
        return try connection.transaction(immediate: false, doing: "counting facets") {
            () throws(HistoryError) -> FacetSummary in
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
            for (unit, ranges) in [(SQLiteRollup.minute, plan.minutes), (SQLiteRollup.hour, plan.hours)] {
                for range in ranges {
                    for (_, figures) in try rolledUpListens(unit: unit, range, bucket: nil) { matching += figures.count }
                    let statement = try statement(
                        """
                        SELECT facet, value, SUM(listens) FROM rollup_facets
                        WHERE unit = ?1 AND start >= ?2 AND start < ?3 GROUP BY facet, value
                        """, doing: "reading rolled-up facets")
                    defer { statement.reset() }
                    try bind([.integer(unit), .integer(range.lowerBound), .integer(range.upperBound)], to: statement)
                    while try statement.step() {
                        guard let facet = Facet(rawValue: statement.text(at: 0)) else { continue }
                        tallies[facet, default: [:]][statement.text(at: 1), default: 0] += statement.int(at: 2)
                    }
                }
            }
            return FacetSummary(matching: matching, tallies: tallies)
        }
    }

    func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        if SQLiteFilter.isEmptyRange(filter) { return [:] }
        let size = max(1, bucketMilliseconds)
        return try connection.transaction(immediate: false, doing: "counting listens per bucket") {
            () throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] in
            // Minutes serve buckets made of whole minutes, hours those made of whole hours.
            guard size % SQLiteRollup.minute == 0,
                  let plan = try rollupPlan(filter, useHours: size % SQLiteRollup.hour == 0)
            else { return try exactTimeline(filter, size) }
            var counts: [Int64: (count: Int, skipped: Int)] = [:]
            func add(_ more: [Int64: (count: Int, skipped: Int)]) {
                for (t, figures) in more {
                    counts[t, default: (0, 0)].count += figures.count
                    counts[t, default: (0, 0)].skipped += figures.skipped
                }
            }
            for range in plan.rows { add(try exactTimeline(Self.range(range), size)) }
            for (unit, ranges) in [(SQLiteRollup.minute, plan.minutes), (SQLiteRollup.hour, plan.hours)] {
                for range in ranges { add(try rolledUpListens(unit: unit, range, bucket: size)) }
            }
            return counts.filter { $0.value.count > 0 }
        }
    }

    /// The roll-up plan for `filter`, or nil when it has criteria besides since/until. An
    /// open end is closed at the oldest or newest rolled-up minute.
    private func rollupPlan(_ filter: EventFilter, useHours: Bool) throws(HistoryError) -> SQLiteRollup.Plan? {
        guard filter == EventFilter(since: filter.since, until: filter.until) else { return nil }
        var since = filter.since
        var until = filter.until
        if since == nil || until == nil {
            let bounds = try statement(
                "SELECT MIN(start), MAX(start) FROM rollup_listens WHERE unit = \(SQLiteRollup.minute)",
                doing: "reading the roll-ups' extent")
            defer { bounds.reset() }
            guard try bounds.step(), !bounds.isNull(at: 0) else { return SQLiteRollup.Plan(0..<0, useHours: false) }
            since = since ?? bounds.int64(at: 0)
            until = until ?? bounds.int64(at: 1) + SQLiteRollup.minute
        }
        guard let since, let until else { return nil }
        return SQLiteRollup.Plan(since..<max(since, until), useHours: useHours)
    }

    private static func range(_ range: Range<Int64>) -> EventFilter {
        EventFilter(since: range.lowerBound, until: range.upperBound)
    }

    /// Rolled-up listens and skips of `unit` rows starting in `range`, per `bucket` (all in
    /// one entry keyed 0 when nil).
    private func rolledUpListens(
        unit: Int64, _ range: Range<Int64>, bucket: Int64?
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        let key = bucket.map { SQLiteRollup.floorSQL("start", $0) } ?? "0"
        let statement = try statement(
            """
            SELECT \(key) AS t, SUM(listens), SUM(skipped) FROM rollup_listens
            WHERE unit = ?1 AND start >= ?2 AND start < ?3 GROUP BY t
            """, doing: "reading rolled-up listens")
        defer { statement.reset() }
        try bind([.integer(unit), .integer(range.lowerBound), .integer(range.upperBound)], to: statement)
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        while try statement.step() { counts[statement.int64(at: 0)] = (statement.int(at: 1), statement.int(at: 2)) }
        return counts
    }

    private func exactCount(_ filter: EventFilter) throws(HistoryError) -> Int {
        try countRows(try SQLiteFilter(filter, lookup: lookup).rows(except: nil))
    }

    /// Facets in 1 + k scans of the range for a filter constraining k facets: one grouped by
    /// every facet column under all criteria (`matching`, and every facet the filter does not
    /// constrain, which is counted under all criteria), then one per constrained facet without
    /// its own criterion. Nine single-facet scans would cost three times as much for two filters.
    private func exactFacets(_ filter: EventFilter) throws(HistoryError) -> (Int, [Facet: [String: Int]]) {
        let sql = try SQLiteFilter(filter, lookup: lookup)
        let constrained = Facet.allCases.filter { sql.constrains($0) }
        let free = Facet.allCases.filter { !sql.constrains($0) }
        var matching = 0
        var tallies: [Facet: [String: Int]] = [:]
        let all = sql.rows(except: nil)
        let columns = "genre, platform, mood, country, artist, rating, completed"
        let combined = try statement(
            "SELECT \(columns), COUNT(*) FROM listens\(all.sql) GROUP BY \(columns)", doing: "counting facets")
        defer { combined.reset() }
        try bind(all.values, to: combined)
        while try combined.step() {
            let count = combined.int(at: 7)
            matching += count
            for facet in free {
                // Merged by Swift's String equality, as the window's value tables count.
                tallies[facet, default: [:]][try value(of: facet, in: combined, column: Self.combinedColumn(facet)),
                                             default: 0] += count
            }
        }
        for facet in constrained {
            let column = Self.column(of: facet)
            let clause = sql.rows(except: facet)
            let statement = try statement(
                "SELECT \(column), COUNT(*) FROM listens\(clause.sql) GROUP BY \(column)",
                doing: "counting the \(facet.rawValue) facet")
            defer { statement.reset() }
            try bind(clause.values, to: statement)
            var counts: [String: Int] = [:]
            while try statement.step() {
                counts[try value(of: facet, in: statement, column: 0), default: 0] += statement.int(at: 1)
            }
            tallies[facet] = counts
        }
        return (matching, tallies)
    }

    /// A facet's column in the combined scan's select list.
    private static func combinedColumn(_ facet: Facet) -> Int32 {
        switch facet {
        case .genre: 0
        case .platform: 1
        case .mood: 2
        case .country: 3
        case .artist: 4
        case .rating: 5
        case .skipped, .completed: 6
        }
    }

    private func exactTimeline(_ filter: EventFilter, _ size: Int64) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        let clause = try SQLiteFilter(filter, lookup: lookup).rows(except: nil)
        // floor(timestamp / size) * size for negative timestamps too (SQLite's % truncates).
        let statement = try statement(
            """
            SELECT timestamp - (((timestamp % ?) + ?) % ?) AS t, COUNT(*), SUM(1 - completed)
            FROM listens\(clause.sql) GROUP BY t
            """, doing: "counting listens per bucket")
        defer { statement.reset() }
        try bind([.integer(size), .integer(size), .integer(size)] + clause.values, to: statement)
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        while try statement.step() {
            counts[statement.int64(at: 0)] = (statement.int(at: 1), statement.int(at: 2))
        }
        return counts
    }

    private func countRows(_ clause: SQLiteFilter.Clause) throws(HistoryError) -> Int {
        let statement = try statement("SELECT COUNT(*) FROM listens\(clause.sql)", doing: "counting listens")
        defer { statement.reset() }
        try bind(clause.values, to: statement)
        return try statement.step() ? statement.int(at: 0) : 0
    }

    private func bind(_ values: [SQLiteListenQuery.Value], to statement: SQLiteStatement) throws(HistoryError) {
        for (offset, value) in values.enumerated() {
            switch value {
            case .integer(let number): try statement.bind(number, at: Int32(offset + 1))
            case .text(let text): try statement.bind(text, at: Int32(offset + 1))
            }
        }
    }

    private static func column(of facet: Facet) -> String {
        switch facet {
        case .genre, .platform, .mood, .country, .artist: facet.rawValue
        case .rating: "rating"
        case .skipped, .completed: "completed"
        }
    }

    /// The facet value in `column` of a grouped row, spelled as /api/facets spells it.
    private func value(of facet: Facet, in statement: SQLiteStatement, column: Int32) throws(HistoryError) -> String {
        switch facet {
        case .genre, .platform, .mood, .country, .artist: try lookup.text(statement.int64(at: column))
        case .rating: String(statement.int(at: column))
        case .skipped: statement.int(at: column) == 0 ? "true" : "false"
        case .completed: statement.int(at: column) == 1 ? "true" : "false"
        }
    }
}
