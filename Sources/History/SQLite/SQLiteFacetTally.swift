import MusicModel

/// Facets, counts and timelines of listens read one by one, each judged as `FacetSummary`
/// judges a listen: passing every facet criterion it counts in every facet and in `matching`;
/// failing exactly one facet's, in that facet only. The criteria that belong to no facet
/// (range, user, track, q) are the caller's: it feeds only rows that pass them.
///
/// The text facets compare ids (`SQLiteFilter.accepted`), through a flat table of accepted ids
/// when the column's ids are few enough: no hashing per row.
struct SQLiteFacetTally {
    static let textFacets: [Facet] = [.genre, .platform, .mood, .country, .artist]

    /// Per text facet (`textFacets` order), the ids its criterion accepts; nil if unconstrained.
    private let accepted: [AcceptedIDs?]
    private let minRating: Int?
    private let wantSkipped: Bool?
    private let wantCompleted: Bool?

    private(set) var matching = 0
    private var texts: [SQLiteIDCounter]
    private var ratings = [Int](repeating: 0, count: 6)
    private var skipped = (yes: 0, no: 0)
    private var completed = (yes: 0, no: 0)

    /// `maxIDs`: per text facet, the largest id of its column in the snapshot read.
    init(_ filter: EventFilter, accepted: [Facet: Set<Int64>], maxIDs: [Int64]) {
        self.accepted = zip(Self.textFacets, maxIDs).map { facet, maxID in
            accepted[facet].map { AcceptedIDs($0, maxID: maxID) }
        }
        minRating = filter.minRating
        wantSkipped = filter.skipped
        wantCompleted = filter.completed
        texts = maxIDs.map { SQLiteIDCounter(maxID: $0) }
    }

    /// The facet criteria `row` fails: how many, and the last one (0-4 the text facets in
    /// `textFacets` order, 5 rating, 6 skipped, 7 completed).
    @inline(__always)
    private func failures(_ row: SQLiteFacetRow) -> (count: Int, last: Int) {
        var count = 0
        var last = -1
        func check(_ index: Int, _ id: Int64) {
            if let set = accepted[index], !set.contains(id) { count += 1; last = index }
        }
        check(0, row.genre)
        check(1, row.platform)
        check(2, row.mood)
        check(3, row.country)
        check(4, row.artist)
        if let minRating, row.rating < minRating { count += 1; last = 5 }
        if let wantSkipped, wantSkipped == row.completed { count += 1; last = 6 }
        if let wantCompleted, wantCompleted != row.completed { count += 1; last = 7 }
        return (count, last)
    }

    /// Whether `row` passes every facet criterion (for counts and timelines).
    @inline(__always)
    func matches(_ row: SQLiteFacetRow) -> Bool { failures(row).count == 0 }

    /// Counts `row` where it belongs in the facets.
    @inline(__always)
    mutating func add(_ row: SQLiteFacetRow) {
        let (count, failed) = failures(row)
        if count > 1 { return }
        let all = count == 0
        if all { matching += 1 }
        if all || failed == 0 { texts[0].add(row.genre) }
        if all || failed == 1 { texts[1].add(row.platform) }
        if all || failed == 2 { texts[2].add(row.mood) }
        if all || failed == 3 { texts[3].add(row.country) }
        if all || failed == 4 { texts[4].add(row.artist) }
        if (all || failed == 5) && ratings.indices.contains(row.rating) { ratings[row.rating] += 1 }
        if all || failed == 6 {
            if row.completed { skipped.no += 1 } else { skipped.yes += 1 }
        }
        if all || failed == 7 {
            if row.completed { completed.yes += 1 } else { completed.no += 1 }
        }
    }

    /// The tallies, text ids turned into their texts by `text` and merged by Swift's String
    /// equality, as the window's value tables count.
    func tallies(text: (Int64) throws(HistoryError) -> String) throws(HistoryError) -> [Facet: [String: Int]] {
        var tallies: [Facet: [String: Int]] = [:]
        for (index, facet) in Self.textFacets.enumerated() {
            var merged: [String: Int] = [:]
            for (id, count) in texts[index].counts { merged[try text(id), default: 0] += count }
            tallies[facet] = merged
        }
        var rating: [String: Int] = [:]
        for (value, count) in ratings.enumerated() where count > 0 { rating[String(value)] = count }
        tallies[.rating] = rating
        tallies[.skipped] = Self.flagTally(true: skipped.yes, false: skipped.no)
        tallies[.completed] = Self.flagTally(true: completed.yes, false: completed.no)
        return tallies
    }

    private static func flagTally(true yes: Int, false no: Int) -> [String: Int] {
        var tally: [String: Int] = [:]
        if yes > 0 { tally["true"] = yes }
        if no > 0 { tally["false"] = no }
        return tally
    }

    /// A facet's accepted ids: a flat table by id when the column's ids are few enough.
    private struct AcceptedIDs {
        private let flat: [Bool]
        private let set: Set<Int64>

        init(_ ids: Set<Int64>, maxID: Int64) {
            if maxID >= 0 && maxID < SQLiteIDCounter.flatLimit {
                var flat = [Bool](repeating: false, count: Int(maxID) + 1)
                for id in ids where id >= 0 && id <= maxID { flat[Int(id)] = true }
                self.flat = flat
                set = []
            } else {
                flat = []
                set = ids
            }
        }

        @inline(__always)
        func contains(_ id: Int64) -> Bool {
            if !flat.isEmpty { return id >= 0 && id < Int64(flat.count) && flat[Int(id)] }
            return set.contains(id)
        }
    }
}
