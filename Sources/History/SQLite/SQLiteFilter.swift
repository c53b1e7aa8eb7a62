import MusicModel

/// `EventFilter` as SQL over schema 3's integer columns, exact for every criterion:
///
/// - since, until: integer comparisons on `timestamp`.
/// - user_id, track_id: the id of exactly that text (`=`, byte equality, as the page query has
///   always pushed user_id; Swift's `==` would also equate two canonically equivalent non-ASCII
///   spellings, a corner ids do not reach). A value no listen has matches nothing.
/// - rating: `rating >= ?`; skipped/completed: the stored `completed` flag, written from
///   `ListenEvent.completed`, the model's own 80 % rule.
/// - genre, platform, mood, country, artist and q: the ids of the distinct values the filter's
///   own criterion accepts (`SQLiteTextLookup`, which asks `EventFilter`), as `IN` lists. So
///   case folding, substrings and Unicode are decided by the window's code, once per distinct
///   value, and the scan compares integers.
struct SQLiteFilter {
    /// A WHERE clause under construction: conditions joined by AND, `?` placeholders bound in
    /// the order they appear.
    struct Clause {
        var conditions: [String] = []
        var values: [SQLiteListenQuery.Value] = []

        mutating func add(_ condition: String, _ values: SQLiteListenQuery.Value...) {
            conditions.append(condition)
            self.values += values
        }

        var sql: String { conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ") }
    }

    let filter: EventFilter
    /// Conditions every facet shares: the range, user and track.
    private let shared: Clause
    /// Per text facet (and q, under nil) its condition, when the filter constrains it.
    private let textConditions: [(facet: Facet?, clause: Clause)]
    /// Per constrained text facet, the ids of the values its criterion accepts.
    let accepted: [Facet: Set<Int64>]

    /// `scanTable`: the range holds most of the listens, so the rows are read in table order
    /// rather than through `listens_by_time` (the unary + keeps SQLite off the index): a
    /// lookup per row through the index read a million listens 3-5x slower (measured).
    init(_ filter: EventFilter, lookup: SQLiteTextLookup, scanTable: Bool = false) throws(HistoryError) {
        self.filter = filter
        var shared = Clause()
        let timestamp = scanTable ? "+timestamp" : "timestamp"
        if let since = filter.since { shared.add("\(timestamp) >= ?", .integer(since)) }
        if let until = filter.until { shared.add("\(timestamp) < ?", .integer(until)) }
        if let userID = filter.userID { Self.exact(.userID, try lookup.id(of: userID, in: .userID), into: &shared) }
        if let trackID = filter.trackID { Self.exact(.trackID, try lookup.id(of: trackID, in: .trackID), into: &shared) }
        self.shared = shared

        var texts: [(Facet?, Clause)] = []
        var accepted: [Facet: Set<Int64>] = [:]
        for criterion in TextCriterion.all(of: filter) {
            let ids = try lookup.acceptedIDs(criterion)
            if let facet = criterion.facet { accepted[facet] = ids }
            var clause = Clause()
            if ids.isEmpty {
                clause.add("0")
            } else {
                let list = "[" + ids.sorted().map(String.init).joined(separator: ",") + "]"
                let tests = criterion.columns.map { "\($0.name) IN (SELECT value FROM json_each(?))" }
                clause.conditions.append(tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " OR ") + ")")
                clause.values += Array(repeating: .text(list), count: criterion.columns.count)
            }
            texts.append((criterion.facet, clause))
        }
        textConditions = texts
        self.accepted = accepted
    }

    private static func exact(_ column: ListenTextColumn, _ id: Int64?, into clause: inout Clause) {
        if let id { clause.add("\(column.name) = ?", .integer(id)) } else { clause.add("0") }
    }


    /// The rows matching the criteria that belong to no facet (range, user, track, q): failing
    /// one of those excludes a listen from every facet's counts.
    func baseRows() -> Clause {
        var clause = shared
        for (owner, condition) in textConditions where owner == nil {
            clause.conditions += condition.conditions
            clause.values += condition.values
        }
        return clause
    }

    /// The rows matching every criterion.
    func matchingRows() -> Clause {
        var clause = baseRows()
        if let minRating = filter.minRating { clause.add("rating >= ?", .integer(Int64(minRating))) }
        if let skipped = filter.skipped { clause.add(skipped ? "completed = 0" : "completed = 1") }
        if let completed = filter.completed { clause.add(completed ? "completed = 1" : "completed = 0") }
        for (owner, condition) in textConditions where owner != nil {
            clause.conditions += condition.conditions
            clause.values += condition.values
        }
        return clause
    }
}
