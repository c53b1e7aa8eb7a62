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
        try countRows(try SQLiteFilter(filter, lookup: lookup, scanTable: coversMostListens(filter)).matchingRows())
    }

    /// Facets in one scan of the rows the criteria of no facet leave (range, user, track, q),
    /// each row judged in Swift as `FacetSummary` judges a listen: passing every facet's
    /// criterion it counts in every facet and in `matching`; failing exactly one facet's, in
    /// that facet only. The facet criteria compare integers (`SQLiteFilter.accepted`), and rows
    /// are counted by their integer columns: no GROUP BY (which sorts every row, ~4 µs a listen
    /// over seven columns, measured on a million) and no second scan per constrained facet.
    private func exactFacets(_ filter: EventFilter) throws(HistoryError) -> (Int, [Facet: [String: Int]]) {
        let sql = try SQLiteFilter(filter, lookup: lookup, scanTable: coversMostListens(filter))
        let base = sql.baseRows()
        let rows = try statement(
            "SELECT genre, platform, mood, country, artist, rating, completed FROM listens\(base.sql)",
            doing: "counting facets")
        defer { rows.reset() }
        try bind(base.values, to: rows)
        // The text facets' accepted ids, in `textFacets` order; nil where unconstrained.
        let accepted = Self.textFacets.map { sql.accepted[$0] }
        let minRating = filter.minRating
        let wantSkipped = filter.skipped
        let wantCompleted = filter.completed
        var texts: [SQLiteIDCounter] = []
        for facet in Self.textFacets {
            texts.append(SQLiteIDCounter(maxID: try lookup.maxID(of: ListenTextColumn(facet)!)))
        }
        var ratings = [Int](repeating: 0, count: 6)
        var skippedFacet = (yes: 0, no: 0)
        var completedFacet = (yes: 0, no: 0)
        var matching = 0
        var ids = [Int64](repeating: 0, count: Self.textFacets.count)
        while try rows.step() {
            var failures = 0
            var failed = -1   // 0-4 text facets, 5 rating, 6 skipped, 7 completed
            for i in ids.indices {
                ids[i] = rows.int64(at: Int32(i))
                if let set = accepted[i], !set.contains(ids[i]) {
                    failures += 1
                    failed = i
                }
            }
            let rating = rows.int(at: 5)
            let completed = rows.int(at: 6) == 1
            if let minRating, rating < minRating { failures += 1; failed = 5 }
            if let wantSkipped, wantSkipped == completed { failures += 1; failed = 6 }
            if let wantCompleted, wantCompleted != completed { failures += 1; failed = 7 }
            if failures > 1 { continue }
            if failures == 0 { matching += 1 }
            for i in ids.indices where failures == 0 || failed == i { texts[i].add(ids[i]) }
            if (failures == 0 || failed == 5) && ratings.indices.contains(rating) { ratings[rating] += 1 }
            if failures == 0 || failed == 6 {
                if completed { skippedFacet.no += 1 } else { skippedFacet.yes += 1 }
            }
            if failures == 0 || failed == 7 {
                if completed { completedFacet.yes += 1 } else { completedFacet.no += 1 }
            }
        }
        var tallies: [Facet: [String: Int]] = [:]
        for (i, facet) in Self.textFacets.enumerated() { tallies[facet] = try merged(texts[i].counts) }
        tallies[.rating] = Self.ratingTally(ratings)
        tallies[.skipped] = Self.flagTally(true: skippedFacet.yes, false: skippedFacet.no)
        tallies[.completed] = Self.flagTally(true: completedFacet.yes, false: completedFacet.no)
        return (matching, tallies)
    }

    private static let textFacets: [Facet] = [.genre, .platform, .mood, .country, .artist]

    /// Whether to scan the table rather than an index for `filter`'s range: when the query needs
    /// columns `listens_facets` does not cover (q reads title and username, track_id) and the
    /// range holds more than a quarter of the stored listens (estimated from the per-minute
    /// roll-ups, a few thousand rows at most). A user's listens keep their own index.
    private func coversMostListens(_ filter: EventFilter) throws(HistoryError) -> Bool {
        guard filter.userID == nil, filter.q != nil || filter.trackID != nil,
              filter.since != nil || filter.until != nil else { return false }
        let statement = try statement(
            """
            SELECT COALESCE(SUM(listens), 0),
                COALESCE(SUM(CASE WHEN start + \(SQLiteRollup.minute) > ?1 AND start < ?2 THEN listens END), 0)
            FROM rollup_listens WHERE unit = \(SQLiteRollup.minute)
            """, doing: "estimating the listens of a range")
        defer { statement.reset() }
        try statement.bind(filter.since ?? Int64.min, at: 1)
        try statement.bind(filter.until ?? Int64.max, at: 2)
        guard try statement.step() else { return false }
        return statement.int(at: 1) * 4 > statement.int(at: 0)
    }

    /// Counts per text id as counts per text, merged by Swift's String equality, as the
    /// window's value tables count.
    private func merged(_ counts: [Int64: Int]) throws(HistoryError) -> [String: Int] {
        var merged: [String: Int] = [:]
        for (id, count) in counts { merged[try lookup.text(id), default: 0] += count }
        return merged
    }

    private static func ratingTally(_ ratings: [Int]) -> [String: Int] {
        var tally: [String: Int] = [:]
        for (rating, count) in ratings.enumerated() where count > 0 { tally[String(rating)] = count }
        return tally
    }

    private static func flagTally(true yes: Int, false no: Int) -> [String: Int] {
        var tally: [String: Int] = [:]
        if yes > 0 { tally["true"] = yes }
        if no > 0 { tally["false"] = no }
        return tally
    }

    /// Counted in Swift for the same reason as the facets: a GROUP BY sorts every row.
    private func exactTimeline(_ filter: EventFilter, _ size: Int64) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        let clause = try SQLiteFilter(filter, lookup: lookup, scanTable: coversMostListens(filter)).matchingRows()
        let statement = try statement("SELECT timestamp, completed FROM listens\(clause.sql)", doing: "counting listens per bucket")
        defer { statement.reset() }
        try bind(clause.values, to: statement)
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        var lastStart: Int64?
        var lastEnd: Int64 = 0
        var pending = (count: 0, skipped: 0)
        // Rows come in time order (the time index), so a bucket's listens are counted in a run
        // and stored once, not looked up per row.
        while try statement.step() {
            let timestamp = statement.int64(at: 0)
            if lastStart == nil || timestamp < lastStart! || timestamp >= lastEnd {
                if let start = lastStart {
                    counts[start, default: (0, 0)].count += pending.count
                    counts[start, default: (0, 0)].skipped += pending.skipped
                }
                guard let start = Timeline.bucketStart(timestamp, size) else { lastStart = nil; continue }
                lastStart = start
                lastEnd = start.addingReportingOverflow(size).overflow ? Int64.max : start + size
                pending = (0, 0)
            }
            pending.count += 1
            if statement.int(at: 1) == 0 { pending.skipped += 1 }
        }
        if let start = lastStart {
            counts[start, default: (0, 0)].count += pending.count
            counts[start, default: (0, 0)].skipped += pending.skipped
        }
        return counts.filter { $0.value.count > 0 }
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
}
