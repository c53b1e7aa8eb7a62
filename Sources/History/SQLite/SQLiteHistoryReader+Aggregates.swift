import MusicModel

/// The aggregates in SQL (`SQLiteFilter` says how every criterion is decided exactly there).
/// Each answer comes from one read transaction, so its figures describe one snapshot.
///
/// A filter of nothing but since/until is answered from the roll-ups (`SQLiteRollup`): whole
/// hours and minutes from their tables, the partial minutes at the ends from the facet blocks.
/// A filter of facet criteria and a range reads the facet blocks of its minutes
/// (`SQLiteFacetBlocks`); one with q, track_id or user_id reads the rows through
/// `listens_by_time` (or `listens_by_user`, or the table for wide ranges). Each is one pass,
/// linear in the listens of the range, every row judged by `SQLiteFacetTally`.
extension SQLiteHistoryReader: RollupAggregating {
    func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        if filter.hasEmptyRange { return 0 }
        return try connection.transaction(immediate: false, doing: "counting listens") { () throws(HistoryError) -> Int in
            try plannedCount(filter)
        }
    }

    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        if filter.hasEmptyRange { return FacetSummary(matching: 0, tallies: [:]) }
        return try connection.transaction(immediate: false, doing: "counting facets") {
            () throws(HistoryError) -> FacetSummary in
            try plannedFacets(filter)
        }
    }

    func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        if filter.hasEmptyRange { return [:] }
        return try connection.transaction(immediate: false, doing: "counting listens per bucket") {
            () throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] in
            try plannedTimeline(filter, bucket: max(1, bucketMilliseconds))
        }
    }

    func rolledUpMinutes() throws(HistoryError) -> (oldest: Int64, newest: Int64)? {
        let bounds = try statement(
            "SELECT MIN(start), MAX(start) FROM rollup_listens WHERE unit = \(Rollup.minute)",
            doing: "reading the roll-ups' extent")
        defer { bounds.reset() }
        guard try bounds.step(), !bounds.isNull(at: 0) else { return nil }
        return (bounds.int64(at: 0), bounds.int64(at: 1))
    }

    func rolledUpListens(
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

    func rolledUpFacets(unit: Int64, _ range: Range<Int64>) throws(HistoryError) -> [(facet: Facet, value: String, listens: Int)] {
        let statement = try statement(
            """
            SELECT facet, value, SUM(listens) FROM rollup_facets
            WHERE unit = ?1 AND start >= ?2 AND start < ?3 GROUP BY facet, value
            """, doing: "reading rolled-up facets")
        defer { statement.reset() }
        try bind([.integer(unit), .integer(range.lowerBound), .integer(range.upperBound)], to: statement)
        var rows: [(facet: Facet, value: String, listens: Int)] = []
        while try statement.step() {
            guard let facet = Facet(rawValue: statement.text(at: 0)) else { continue }
            rows.append((facet, statement.text(at: 1), statement.int(at: 2)))
        }
        return rows
    }

    func exactCount(_ filter: EventFilter) throws(HistoryError) -> Int {
        if Self.blocksServe(filter) {
            var count = 0
            let tally = try facetTally(filter)
            try forEachBlockRow(filter) { row in if tally.matches(row) { count += 1 } }
            return count
        }
        return try countRows(try SQLiteFilter(filter, lookup: lookup, scanTable: coversMostListens(filter)).matchingRows())
    }

    /// Facets in one scan, each listen judged in Swift by `SQLiteFacetTally`: from the facet
    /// blocks when the filter has only facet criteria and a range, otherwise from the rows the
    /// criteria of no facet leave (range, user, track, q). No GROUP BY (which sorts every row,
    /// ~4 µs a listen over seven columns, measured on a million) and no second scan per
    /// constrained facet.
    func exactFacets(_ filter: EventFilter) throws(HistoryError) -> (matching: Int, tallies: [Facet: [String: Int]]) {
        var tally = try facetTally(filter)
        if Self.blocksServe(filter) {
            try forEachBlockRow(filter) { tally.add($0) }
        } else {
            let base = try SQLiteFilter(filter, lookup: lookup, scanTable: coversMostListens(filter)).baseRows()
            let rows = try statement(
                "SELECT timestamp, genre, platform, mood, country, artist, rating, completed FROM listens\(base.sql)",
                doing: "counting facets")
            defer { rows.reset() }
            try bind(base.values, to: rows)
            while try rows.step() {
                tally.add(SQLiteFacetRow(
                    timestamp: rows.int64(at: 0), genre: rows.int64(at: 1), platform: rows.int64(at: 2),
                    mood: rows.int64(at: 3), country: rows.int64(at: 4), artist: rows.int64(at: 5),
                    rating: rows.int(at: 6), completed: rows.int(at: 7) == 1))
            }
        }
        return (tally.matching, try tally.tallies { id throws(HistoryError) in try lookup.text(id) })
    }

    private func facetTally(_ filter: EventFilter) throws(HistoryError) -> SQLiteFacetTally {
        let sql = try SQLiteFilter(filter, lookup: lookup)
        var maxIDs: [Int64] = []
        for facet in SQLiteFacetTally.textFacets { maxIDs.append(try lookup.maxID(of: ListenTextColumn(facet)!)) }
        return SQLiteFacetTally(filter, accepted: sql.accepted, maxIDs: maxIDs)
    }

    /// Whether `facet_blocks` hold all a filter needs: a range and facet criteria only.
    private static func blocksServe(_ filter: EventFilter) -> Bool {
        filter.userID == nil && filter.trackID == nil && filter.q == nil
    }

    /// Every listen of the filter's range, from the facet blocks of the minutes it touches (the
    /// rows of the two end minutes checked against the range).
    private func forEachBlockRow(_ filter: EventFilter, _ body: (SQLiteFacetRow) -> Void) throws(HistoryError) {
        let since = filter.since ?? Int64.min
        let until = filter.until ?? Int64.max
        let blocks = try statement(
            "SELECT minute, rows FROM facet_blocks WHERE minute >= ?1 AND minute < ?2",
            doing: "reading facet blocks")
        defer { blocks.reset() }
        try blocks.bind(filter.since.map(SQLiteFacetRow.minute(of:)) ?? Int64.min, at: 1)
        try blocks.bind(until, at: 2)
        while try blocks.step() {
            try connection.checkDeadline(doing: "reading facet blocks")
            let minute = blocks.int64(at: 0)
            let (end, overflow) = minute.addingReportingOverflow(SQLiteRollup.minute)
            let whole = !overflow && minute >= since && end <= until
            try blocks.withBlob(at: 1) { bytes throws(HistoryError) in
                if whole {
                    SQLiteFacetRow.forEach(in: bytes, minute: minute, body)
                } else {
                    SQLiteFacetRow.forEach(in: bytes, minute: minute) { row in
                        if row.timestamp >= since && row.timestamp < until { body(row) }
                    }
                }
            }
        }
    }

    /// Whether to scan the table rather than `listens_by_time` for `filter`'s range: when the
    /// query reads the rows (q reads title and username; track_id) and the range holds more
    /// than a quarter of the stored listens (estimated from the per-minute
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

    /// Counted in Swift for the same reason as the facets: a GROUP BY sorts every row.
    func exactTimeline(_ filter: EventFilter, _ size: Int64) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        if Self.blocksServe(filter) {
            let tally = try facetTally(filter)
            var counts: [Int64: (count: Int, skipped: Int)] = [:]
            // A block is one minute: a bucket of whole minutes is looked up once per run of rows.
            var lastStart: Int64?
            var lastEnd: Int64 = 0
            var pending = (count: 0, skipped: 0)
            func flush() {
                if let start = lastStart, pending.count > 0 {
                    counts[start, default: (0, 0)].count += pending.count
                    counts[start, default: (0, 0)].skipped += pending.skipped
                }
                pending = (0, 0)
            }
            try forEachBlockRow(filter) { row in
                guard tally.matches(row) else { return }
                if lastStart == nil || row.timestamp < lastStart! || row.timestamp >= lastEnd {
                    flush()
                    guard let start = Timeline.bucketStart(row.timestamp, size) else { lastStart = nil; return }
                    lastStart = start
                    lastEnd = start.addingReportingOverflow(size).overflow ? Int64.max : start + size
                }
                pending.count += 1
                if !row.completed { pending.skipped += 1 }
            }
            flush()
            return counts
        }
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
