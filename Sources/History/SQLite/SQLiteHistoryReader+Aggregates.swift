import MusicModel

/// The aggregates in SQL (`SQLiteFilter` says what SQL decides and why that is exact), plus
/// the rows SQL cannot decide exactly read back and decided by `EventFilter`, the window's
/// code. Each answer comes from one read transaction, so its figures describe one snapshot.
///
/// Cost: each query reads the range through `listens_by_time` (or `listens_by_user` with a
/// user_id), linear in the listens of the range; facets run one grouped query per facet. The
/// per-minute roll-up that would make long unfiltered ranges constant-time is not built yet.
extension SQLiteHistoryReader {
    func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        let sql = SQLiteFilter(filter)
        if sql.isEmptyRange { return 0 }
        return try connection.transaction(immediate: false, doing: "counting listens") { () throws(HistoryError) -> Int in
            var count = try countRows(sql.exactRows(except: nil))
            try forEachInexact(sql) { event in if filter.matches(event) { count += 1 } }
            return count
        }
    }

    func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        let sql = SQLiteFilter(filter)
        if sql.isEmptyRange { return FacetSummary(matching: 0, tallies: [:]) }
        return try connection.transaction(immediate: false, doing: "counting facets") {
            () throws(HistoryError) -> FacetSummary in
            var matching = try countRows(sql.exactRows(except: nil))
            var tallies: [Facet: [String: Int]] = [:]
            for facet in Facet.allCases {
                let column = Self.column(of: facet)
                let clause = sql.exactRows(except: facet)
                let statement = try statement(
                    "SELECT \(column), COUNT(*) FROM listens\(clause.sql) GROUP BY \(column)",
                    doing: "counting the \(facet.rawValue) facet")
                defer { statement.reset() }
                try bind(clause.values, to: statement)
                var counts: [String: Int] = [:]
                while try statement.step() {
                    // Merged by Swift's String equality, as the window's value tables count.
                    counts[Self.value(of: facet, in: statement), default: 0] += statement.int(at: 1)
                }
                tallies[facet] = counts
            }
            var inexact: [ListenEvent] = []
            try forEachInexact(sql) { inexact.append($0) }
            if !inexact.isEmpty {
                let swift = FacetSummary.compute(overListens: inexact, filter: filter)
                matching += swift.matching
                for (facet, counts) in swift.tallies {
                    tallies[facet, default: [:]].merge(counts, uniquingKeysWith: +)
                }
            }
            return FacetSummary(matching: matching, tallies: tallies)
        }
    }

    func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        let sql = SQLiteFilter(filter)
        if sql.isEmptyRange { return [:] }
        let size = max(1, bucketMilliseconds)
        return try connection.transaction(immediate: false, doing: "counting listens per bucket") {
            () throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] in
            let clause = sql.exactRows(except: nil)
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
            try forEachInexact(sql) { event in
                guard filter.matches(event), let start = Timeline.bucketStart(event.timestamp, size) else { return }
                counts[start, default: (0, 0)].count += 1
                if event.skipped { counts[start, default: (0, 0)].skipped += 1 }
            }
            return counts
        }
    }

    private func countRows(_ clause: SQLiteFilter.Clause) throws(HistoryError) -> Int {
        let statement = try statement("SELECT COUNT(*) FROM listens\(clause.sql)", doing: "counting listens")
        defer { statement.reset() }
        try bind(clause.values, to: statement)
        return try statement.step() ? statement.int(at: 0) : 0
    }

    /// Every listen of the range SQL cannot decide exactly, for `EventFilter` to decide.
    private func forEachInexact(_ sql: SQLiteFilter, _ body: (ListenEvent) -> Void) throws(HistoryError) {
        guard let clause = sql.inexactRows() else { return }
        let statement = try statement(
            "SELECT \(SQLiteListenRow.eventColumns) FROM listens\(clause.sql)", doing: "reading listens to filter")
        defer { statement.reset() }
        try bind(clause.values, to: statement)
        while try statement.step() { body(SQLiteListenRow.event(from: statement)) }
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

    /// The facet value of a grouped row, spelled as /api/facets spells it.
    private static func value(of facet: Facet, in statement: SQLiteStatement) -> String {
        switch facet {
        case .genre, .platform, .mood, .country, .artist: statement.text(at: 0)
        case .rating: String(statement.int(at: 0))
        case .skipped: statement.int(at: 0) == 0 ? "true" : "false"
        case .completed: statement.int(at: 0) == 1 ? "true" : "false"
        }
    }
}
