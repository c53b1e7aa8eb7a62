import MusicModel

/// Per-minute and per-hour roll-ups of the stored listens, kept by both stores for unfiltered
/// facets, timelines and counts over long ranges: a day is 24 hour rows (plus at most 2 × 59
/// minute rows and two partial minutes read from the listens) instead of every listen of it.
/// This is the stores' shared part: what a batch changes (`Delta`) and how a range splits
/// (`Plan`); each store keeps the tables (`SQLiteRollup`, `PostgresRollup`):
///
/// - `rollup_listens (unit, start, listens, skipped)`: listens and skips per minute (unit 60000)
///   and per hour (unit 3600000), `start` the unit's first millisecond.
/// - `rollup_facets (unit, start, facet, value, listens)`: per unit, listens per facet value,
///   spelled as /api/facets spells them ("0".."5" for rating, "true"/"false").
///
/// The writer adds a batch's new listens in the transaction that stores them (so the roll-ups
/// never disagree with the rows a reader sees), and retention subtracts what it deletes in its
/// transaction. Only a filter with nothing but since/until is answered from them.
enum Rollup {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let units = [minute, hour]

    /// Listens added to or taken from the roll-ups, gathered per batch so each
    /// (unit, start, facet, value) is written once per transaction. Counted per minute only,
    /// the hours summed from the minutes at the end. Text values are kept by exact bytes, as the
    /// tables keep them: a listen deleted later is subtracted from the very row it was added to
    /// (readers merge spellings Swift equates, as the window's tallies do).
    struct Delta: Sendable {
        /// One minute's changes. Rating and the flag have a handful of values: counted by index.
        struct Counts: Sendable {
            var listens = 0
            var skipped = 0
            var ratings = [Int](repeating: 0, count: 6)
            /// Per text facet (`Delta.textFacets`' order): value -> listens.
            var texts = [[ExactText: Int]](repeating: [:], count: Delta.textFacets.count)

            mutating func merge(_ other: Counts) {
                listens += other.listens
                skipped += other.skipped
                for i in ratings.indices { ratings[i] += other.ratings[i] }
                for i in texts.indices { texts[i].merge(other.texts[i], uniquingKeysWith: +) }
            }
        }

        /// One row's change of `rollup_listens`.
        struct ListensChange: Equatable {
            var unit: Int64
            var start: Int64
            var listens: Int
            var skipped: Int
        }

        /// One row's change of `rollup_facets`.
        struct FacetChange: Equatable {
            var unit: Int64
            var start: Int64
            var facet: Facet
            var value: String
            var listens: Int
        }

        static let textFacets: [Facet] = [.genre, .platform, .mood, .country, .artist]

        /// Minute start -> its changes.
        private(set) var minutes: [Int64: Counts] = [:]

        var isEmpty: Bool { minutes.isEmpty }

        /// Counts (or with `sign` -1 uncounts) one listen.
        mutating func add(_ event: ListenEvent, sign: Int = 1) {
            add(timestamp: event.timestamp, genre: event.genre, platform: event.platform, mood: event.mood,
                country: event.country, artist: event.artist, rating: event.rating, completed: event.completed, sign: sign)
        }

        /// The same from a listen's aggregated fields (a deleted row read back).
        mutating func add(
            timestamp: Int64, genre: String, platform: String, mood: String, country: String, artist: String,
            rating: Int, completed: Bool, sign: Int = 1
        ) {
            guard let start = Timeline.bucketStart(timestamp, Rollup.minute) else { return }
            minutes[start, default: Counts()].add(
                texts: [genre, platform, mood, country, artist], rating: rating, completed: completed, sign: sign)
        }

        /// The changes per (unit, start): the minutes as they are, and each hour as the sum of
        /// its minutes.
        func units() -> [(unit: Int64, start: Int64, counts: Counts)] {
            var hours: [Int64: Counts] = [:]
            for (start, counts) in minutes {
                guard let hour = Timeline.bucketStart(start, Rollup.hour) else { continue }
                hours[hour, default: Counts()].merge(counts)
            }
            return minutes.map { (Rollup.minute, $0.key, $0.value) } + hours.map { (Rollup.hour, $0.key, $0.value) }
        }

        /// Every row change, zero ones left out, sorted by the tables' keys (writers that take
        /// row locks in one order wait for each other instead of deadlocking).
        func changes() -> (listens: [ListensChange], facets: [FacetChange]) {
            var listens: [ListensChange] = []
            var facets: [FacetChange] = []
            for (unit, start, counts) in units() {
                if counts.listens != 0 || counts.skipped != 0 {
                    listens.append(ListensChange(unit: unit, start: start, listens: counts.listens, skipped: counts.skipped))
                }
                func add(_ facet: Facet, _ value: String, _ count: Int) {
                    if count != 0 { facets.append(FacetChange(unit: unit, start: start, facet: facet, value: value, listens: count)) }
                }
                for (i, facet) in Self.textFacets.enumerated() {
                    for (value, count) in counts.texts[i] { add(facet, value.text, count) }
                }
                for (rating, count) in counts.ratings.enumerated() { add(.rating, String(rating), count) }
                let completed = counts.listens - counts.skipped
                add(.skipped, "true", counts.skipped)
                add(.skipped, "false", completed)
                add(.completed, "true", completed)
                add(.completed, "false", counts.skipped)
            }
            listens.sort { ($0.unit, $0.start) < ($1.unit, $1.start) }
            facets.sort { a, b in
                if (a.unit, a.start) != (b.unit, b.start) { return (a.unit, a.start) < (b.unit, b.start) }
                if a.facet != b.facet { return a.facet.rawValue < b.facet.rawValue }
                return a.value.utf8.lexicographicallyPrecedes(b.value.utf8)
            }
            return (listens, facets)
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
            let m0 = Self.ceil(range.lowerBound, Rollup.minute)
            let m1 = Self.floor(range.upperBound, Rollup.minute)
            guard let m0, let m1, m0 < m1 else {
                rows = [range]
                return
            }
            if range.lowerBound < m0 { rows.append(range.lowerBound..<m0) }
            if m1 < range.upperBound { rows.append(m1..<range.upperBound) }
            let h0 = Self.ceil(m0, Rollup.hour)
            let h1 = Self.floor(m1, Rollup.hour)
            guard useHours, let h0, let h1, h0 < h1 else {
                minutes = [m0..<m1]
                return
            }
            hours = [h0..<h1]
            if m0 < h0 { minutes.append(m0..<h0) }
            if h1 < m1 { minutes.append(h1..<m1) }
        }

        /// The unit's ranges: (minute, minutes) and (hour, hours).
        var rolledUp: [(unit: Int64, ranges: [Range<Int64>])] { [(Rollup.minute, minutes), (Rollup.hour, hours)] }

        static func floor(_ t: Int64, _ unit: Int64) -> Int64? { Timeline.bucketStart(t, unit) }

        static func ceil(_ t: Int64, _ unit: Int64) -> Int64? {
            guard let down = Timeline.bucketStart(t, unit) else { return nil }
            if down == t { return t }
            let (up, overflow) = down.addingReportingOverflow(unit)
            return overflow ? nil : up
        }
    }
}

extension Rollup.Delta.Counts {
    mutating func add(texts values: [String], rating: Int, completed: Bool, sign: Int) {
        listens += sign
        if !completed { skipped += sign }
        // Ratings outside 0...5 are refused by the decoder (and by the tables' CHECKs).
        if ratings.indices.contains(rating) { ratings[rating] += sign }
        for (i, value) in values.enumerated() { texts[i][ExactText(value), default: 0] += sign }
    }
}
