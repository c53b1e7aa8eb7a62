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
    /// (unit, start, facet, value) is written once per transaction. Counted per minute only,
    /// the hours summed from the minutes when applied: a listen costs one lookup of its minute
    /// and one count per text facet (a batch spans a few minutes, so the sums are short).
    struct Delta {
        /// One minute's changes. Rating, skipped and completed have a handful of values, so
        /// they are counted by index rather than hashed.
        struct Counts {
            var listens = 0
            var skipped = 0
            var ratings = [Int](repeating: 0, count: 6)
            /// Per text facet (`Delta.textFacets`' order): value -> listens.
            var texts = [[String: Int]](repeating: [:], count: Delta.textFacets.count)

            mutating func merge(_ other: Counts) {
                listens += other.listens
                skipped += other.skipped
                for i in ratings.indices { ratings[i] += other.ratings[i] }
                for i in texts.indices { texts[i].merge(other.texts[i], uniquingKeysWith: +) }
            }
        }

        static let textFacets: [Facet] = [.genre, .platform, .mood, .country, .artist]

        /// Minute start -> its changes.
        private(set) var minutes: [Int64: Counts] = [:]

        var isEmpty: Bool { minutes.isEmpty }

        mutating func add(_ event: ListenEvent, sign: Int = 1) {
            guard let start = Timeline.bucketStart(event.timestamp, SQLiteRollup.minute) else { return }
            minutes[start, default: Counts()].add(event, sign: sign)
        }

        /// The changes per (unit, start): the minutes as they are, and each hour as the sum of
        /// its minutes.
        func units() -> [(unit: Int64, start: Int64, counts: Counts)] {
            var hours: [Int64: Counts] = [:]
            for (start, counts) in minutes {
                guard let hour = Timeline.bucketStart(start, SQLiteRollup.hour) else { continue }
                hours[hour, default: Counts()].merge(counts)
            }
            return minutes.map { (SQLiteRollup.minute, $0.key, $0.value) } + hours.map { (SQLiteRollup.hour, $0.key, $0.value) }
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
            for (unit, start, counts) in delta.units() {
                if counts.listens != 0 || counts.skipped != 0 {
                    defer { addListens.reset() }
                    try addListens.bind(unit, at: 1)
                    try addListens.bind(start, at: 2)
                    try addListens.bind(counts.listens, at: 3)
                    try addListens.bind(counts.skipped, at: 4)
                    try addListens.run()
                    if counts.listens < 0 { subtracted = true }
                }
                func add(_ facet: Facet, _ value: String, _ count: Int) throws(HistoryError) {
                    guard count != 0 else { return }
                    defer { addFacet.reset() }
                    try addFacet.bind(unit, at: 1)
                    try addFacet.bind(start, at: 2)
                    try addFacet.bind(facet.rawValue, at: 3)
                    try addFacet.bind(value, at: 4)
                    try addFacet.bind(count, at: 5)
                    try addFacet.run()
                }
                for (i, facet) in Delta.textFacets.enumerated() {
                    for (value, count) in counts.texts[i] { try add(facet, value, count) }
                }
                for (rating, count) in counts.ratings.enumerated() { try add(.rating, String(rating), count) }
                let completed = counts.listens - counts.skipped
                try add(.skipped, "true", counts.skipped)
                try add(.skipped, "false", completed)
                try add(.completed, "true", completed)
                try add(.completed, "false", counts.skipped)
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

extension SQLiteRollup.Delta.Counts {
    /// Counts (or with `sign` -1 uncounts) one listen.
    mutating func add(_ event: ListenEvent, sign: Int) {
        listens += sign
        if event.skipped { skipped += sign }
        // Ratings outside 0...5 are refused by the decoder (and by the table's CHECK).
        if ratings.indices.contains(event.rating) { ratings[event.rating] += sign }
        texts[0][event.genre, default: 0] += sign
        texts[1][event.platform, default: 0] += sign
        texts[2][event.mood, default: 0] += sign
        texts[3][event.country, default: 0] += sign
        texts[4][event.artist, default: 0] += sign
    }
}
