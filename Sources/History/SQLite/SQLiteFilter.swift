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
        func criterion(_ facet: Facet?, _ columns: [ListenTextColumn], _ values: [String], _ single: EventFilter)
            throws(HistoryError) {
            // No values, or an empty one (which matches anything): no criterion.
            guard !values.isEmpty, !values.contains("") else { return }
            let key = (facet?.rawValue ?? "q") + "=" + values.map { $0.lowercased() }.joined(separator: "\u{1F}")
            let ids = try lookup.acceptedIDs(.init(columns: columns, filter: single, key: key))
            var clause = Clause()
            if ids.isEmpty {
                clause.add("0")
            } else {
                let list = "[" + ids.sorted().map(String.init).joined(separator: ",") + "]"
                let tests = columns.map { "\($0.name) IN (SELECT value FROM json_each(?))" }
                clause.conditions.append(tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " OR ") + ")")
                clause.values += Array(repeating: .text(list), count: columns.count)
            }
            texts.append((facet, clause))
        }
        try criterion(.genre, [.genre], filter.genres, EventFilter(genres: filter.genres))
        try criterion(.platform, [.platform], filter.platforms, EventFilter(platforms: filter.platforms))
        try criterion(.mood, [.mood], filter.moods, EventFilter(moods: filter.moods))
        try criterion(.country, [.country], filter.countries, EventFilter(countries: filter.countries))
        if let artist = filter.artist { try criterion(.artist, [.artist], [artist], EventFilter(artist: artist)) }
        if let q = filter.q { try criterion(nil, [.title, .artist, .username], [q], EventFilter(q: q)) }
        textConditions = texts
    }

    private static func exact(_ column: ListenTextColumn, _ id: Int64?, into clause: inout Clause) {
        if let id { clause.add("\(column.name) = ?", .integer(id)) } else { clause.add("0") }
    }

    /// Whether `facet` has a criterion of its own here (so it is counted without it).
    func constrains(_ facet: Facet) -> Bool {
        switch facet {
        case .genre: !filter.genres.isEmpty
        case .platform: !filter.platforms.isEmpty
        case .mood: !filter.moods.isEmpty
        case .country: !filter.countries.isEmpty
        case .artist: filter.artist != nil
        case .rating: filter.minRating != nil
        case .skipped: filter.skipped != nil
        case .completed: filter.completed != nil
        }
    }

    /// Whether the range is empty (since ≥ until): nothing to read.
    static func isEmptyRange(_ filter: EventFilter) -> Bool {
        if let since = filter.since, let until = filter.until { return since >= until }
        return false
    }

    /// The rows matching every criterion except `facet`'s own (all of them when nil).
    func rows(except facet: Facet?) -> Clause {
        var clause = shared
        if facet != .rating, let minRating = filter.minRating { clause.add("rating >= ?", .integer(Int64(minRating))) }
        if facet != .skipped, let skipped = filter.skipped { clause.add(skipped ? "completed = 0" : "completed = 1") }
        if facet != .completed, let completed = filter.completed { clause.add(completed ? "completed = 1" : "completed = 0") }
        for (owner, condition) in textConditions where owner == nil || owner != facet {
            clause.conditions += condition.conditions
            clause.values += condition.values
        }
        return clause
    }
}
