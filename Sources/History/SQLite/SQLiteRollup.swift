import MusicModel

/// Per-minute and per-hour roll-ups of the listens, for unfiltered facets, timelines and
/// counts over long ranges: a day is 24 hour rows (plus at most 2 × 59 minute rows and two
/// partial minutes read from `listens`) instead of every listen of the day.
///
/// - `rollup_listens (unit, start, listens, skipped)`: listens and skips per minute (unit 60000)
///   and per hour (unit 3600000), `start` the unit's first millisecond.
/// - `rollup_facets (unit, start, facet, value, listens)`: per unit, listens per facet value,
///   spelled as /api/facets spells them ("0".."5" for rating, "true"/"false").
///
/// The writer adds each batch's new listens in the same transaction as the listens (so the
/// roll-ups never disagree with the rows a reader sees), and retention subtracts the listens
/// it deletes, again in their transaction. Only a filter with nothing but since/until is
/// answered from them: any other criterion needs the rows.
enum SQLiteRollup {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let units = [minute, hour]

    static let schema = """
        CREATE TABLE IF NOT EXISTS rollup_listens (
            unit INTEGER NOT NULL,
            start INTEGER NOT NULL,
            listens INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            PRIMARY KEY (unit, start)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_facets (
            unit INTEGER NOT NULL,
            start INTEGER NOT NULL,
            facet TEXT NOT NULL,
            value TEXT NOT NULL,
            listens INTEGER NOT NULL,
            PRIMARY KEY (unit, start, facet, value)
        ) STRICT, WITHOUT ROWID;
        """

    /// floor(timestamp / unit) * unit in SQL, right for negative timestamps too.
    static func floorSQL(_ column: String, _ unit: Int64) -> String {
        "(\(column) - (((\(column) % \(unit)) + \(unit)) % \(unit)))"
    }

    /// The roll-ups of the listens already stored (the schema 2 migration).
    static func fill(_ connection: SQLiteConnection) throws(HistoryError) {
        for unit in units {
            let start = floorSQL("timestamp", unit)
            try connection.exec(
                """
                INSERT INTO rollup_listens (unit, start, listens, skipped)
                SELECT \(unit), \(start), COUNT(*), SUM(1 - completed) FROM listens GROUP BY \(start)
                """, doing: "filling rollup_listens")
            for facet in Facet.allCases {
                let value = switch facet {
                case .genre, .platform, .mood, .country, .artist: facet.rawValue
                case .rating: "CAST(rating AS TEXT)"
                case .skipped: "CASE completed WHEN 0 THEN 'true' ELSE 'false' END"
                case .completed: "CASE completed WHEN 1 THEN 'true' ELSE 'false' END"
                }
                try connection.exec(
                    """
                    INSERT INTO rollup_facets (unit, start, facet, value, listens)
                    SELECT \(unit), \(start), '\(facet.rawValue)', \(value), COUNT(*) FROM listens
                    GROUP BY \(start), \(value)
                    """, doing: "filling rollup_facets")
            }
        }
    }

    /// Listens added to or taken from the roll-ups, gathered in Swift per batch so each
    /// (unit, start, facet, value) is written once per transaction.
    struct Delta {
        struct FacetKey: Hashable {
            var unit: Int64
            var start: Int64
            var facet: String
            var value: String
        }

        struct UnitKey: Hashable {
            var unit: Int64
            var start: Int64
        }

        var listens: [UnitKey: (listens: Int, skipped: Int)] = [:]
        var facets: [FacetKey: Int] = [:]

        var isEmpty: Bool { listens.isEmpty }

        mutating func add(_ event: ListenEvent, sign: Int = 1) {
            for unit in SQLiteRollup.units {
                guard let start = Timeline.bucketStart(event.timestamp, unit) else { continue }
                let key = UnitKey(unit: unit, start: start)
                listens[key, default: (0, 0)].listens += sign
                if event.skipped { listens[key, default: (0, 0)].skipped += sign }
                for (facet, value) in [
                    (Facet.genre, event.genre), (.platform, event.platform), (.mood, event.mood),
                    (.country, event.country), (.artist, event.artist), (.rating, String(event.rating)),
                    (.skipped, event.skipped ? "true" : "false"), (.completed, event.completed ? "true" : "false"),
                ] {
                    facets[FacetKey(unit: unit, start: start, facet: facet.rawValue, value: value), default: 0] += sign
                }
            }
        }
    }

    /// The statements that apply a `Delta`, prepared once per connection.
    final class Statements {
        let addListens: SQLiteStatement
        let addFacet: SQLiteStatement
        let dropEmpty: SQLiteStatement
        let dropEmptyFacets: SQLiteStatement

        init(_ connection: SQLiteConnection) throws(HistoryError) {
            addListens = try connection.prepare(
                """
                INSERT INTO rollup_listens (unit, start, listens, skipped) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (unit, start) DO UPDATE
                SET listens = listens + excluded.listens, skipped = skipped + excluded.skipped
                """, doing: "rolling up listens", persistent: true)
            addFacet = try connection.prepare(
                """
                INSERT INTO rollup_facets (unit, start, facet, value, listens) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (unit, start, facet, value) DO UPDATE SET listens = listens + excluded.listens
                """, doing: "rolling up facet values", persistent: true)
            dropEmpty = try connection.prepare(
                "DELETE FROM rollup_listens WHERE listens <= 0", doing: "dropping empty roll-ups", persistent: true)
            dropEmptyFacets = try connection.prepare(
                "DELETE FROM rollup_facets WHERE listens <= 0", doing: "dropping empty roll-ups", persistent: true)
        }

        /// Applies `delta` inside the caller's transaction; after a subtraction, rows that
        /// reached zero are removed (a rolled-up value with no listen must not be listed).
        func apply(_ delta: Delta) throws(HistoryError) {
            var subtracted = false
            for (key, figures) in delta.listens where figures.listens != 0 || figures.skipped != 0 {
                defer { addListens.reset() }
                try addListens.bind(key.unit, at: 1)
                try addListens.bind(key.start, at: 2)
                try addListens.bind(figures.listens, at: 3)
                try addListens.bind(figures.skipped, at: 4)
                try addListens.run()
                if figures.listens < 0 { subtracted = true }
            }
            for (key, count) in delta.facets where count != 0 {
                defer { addFacet.reset() }
                try addFacet.bind(key.unit, at: 1)
                try addFacet.bind(key.start, at: 2)
                try addFacet.bind(key.facet, at: 3)
                try addFacet.bind(key.value, at: 4)
                try addFacet.bind(count, at: 5)
                try addFacet.run()
            }
            if subtracted {
                defer { dropEmpty.reset(); dropEmptyFacets.reset() }
                try dropEmpty.run()
                try dropEmptyFacets.run()
            }
        }
    }

    /// How a range splits for the roll-ups: whole hours, whole minutes around them, and the
    /// partial minutes at either end, which only the rows can answer.
    struct Plan: Equatable {
        /// [start, end) ranges per source.
        var rows: [Range<Int64>] = []
        var minutes: [Range<Int64>] = []
        var hours: [Range<Int64>] = []

        /// `range` split; hours only when `useHours` (a 1m timeline cannot use them).
        init(_ range: Range<Int64>, useHours: Bool) {
            let m0 = Self.ceil(range.lowerBound, SQLiteRollup.minute)
            let m1 = Self.floor(range.upperBound, SQLiteRollup.minute)
            guard let m0, let m1, m0 < m1 else {
                rows = [range]
                return
            }
            if range.lowerBound < m0 { rows.append(range.lowerBound..<m0) }
            if m1 < range.upperBound { rows.append(m1..<range.upperBound) }
            let h0 = Self.ceil(m0, SQLiteRollup.hour)
            let h1 = Self.floor(m1, SQLiteRollup.hour)
            guard useHours, let h0, let h1, h0 < h1 else {
                minutes = [m0..<m1]
                return
            }
            hours = [h0..<h1]
            if m0 < h0 { minutes.append(m0..<h0) }
            if h1 < m1 { minutes.append(h1..<m1) }
        }

        static func floor(_ t: Int64, _ unit: Int64) -> Int64? { Timeline.bucketStart(t, unit) }

        static func ceil(_ t: Int64, _ unit: Int64) -> Int64? {
            guard let down = Timeline.bucketStart(t, unit) else { return nil }
            if down == t { return t }
            let (up, overflow) = down.addingReportingOverflow(unit)
            return overflow ? nil : up
        }
    }
}
