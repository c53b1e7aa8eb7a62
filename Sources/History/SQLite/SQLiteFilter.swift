import MusicModel

/// `EventFilter` as SQL for aggregates, deciding in SQL only what SQL decides exactly as
/// `EventFilter.matches` does, and saying which rows must be read back and decided in Swift.
///
/// - since, until: integer comparisons. user_id and track_id: `=`, byte equality, as the page
///   query has always pushed user_id (ids are ASCII UUIDs; Swift's `==` would also equate two
///   canonically equivalent non-ASCII spellings, a corner left as the page query left it).
/// - rating: `rating >= ?`; skipped/completed: the stored `completed` flag, written from
///   `ListenEvent.completed`, the model's own 80 % rule.
/// - genre, platform, mood (case-insensitive equality, any of): `lower(col) IN (?...)` with
///   the values lowercased in Swift; country (substring, any of), artist (substring) and q
///   (substring of title, artist or username): `instr(lower(col), ?) > 0`.
///
/// The text tests are exact only on ASCII (`SQLiteTextMask` says why), so they decide in SQL
/// only the rows whose constrained columns are ASCII (`ascii_mask & needed = needed`); the
/// other rows (`inexact`) are read and decided by `EventFilter` itself. A filter value that
/// is not ASCII once lowercased sends every row of the range to Swift (slow but exact).
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
    /// The `ascii_mask` bits a row needs for SQL to decide it; 0 when every row can be.
    let needed: Int64

    init(_ filter: EventFilter) {
        self.filter = filter
        var needed: Int64 = 0
        func need(_ bits: Int64, _ values: [String]) {
            guard !values.isEmpty else { return }
            needed |= bits
            if values.contains(where: { !SQLiteTextMask.isASCII($0.lowercased()) }) { needed |= SQLiteTextMask.never }
        }
        need(SQLiteTextMask.genre, filter.genres)
        need(SQLiteTextMask.platform, filter.platforms)
        need(SQLiteTextMask.mood, filter.moods)
        need(SQLiteTextMask.country, filter.countries)
        need(SQLiteTextMask.artist, filter.artist.map { [$0] } ?? [])
        need(SQLiteTextMask.title | SQLiteTextMask.artist | SQLiteTextMask.username, filter.q.map { [$0] } ?? [])
        self.needed = needed
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
    var isEmptyRange: Bool {
        if let since = filter.since, let until = filter.until { return since >= until }
        return false
    }

    /// The rows SQL decides, under every criterion except `facet`'s own (all when nil).
    func exactRows(except facet: Facet?) -> Clause {
        var clause = range()
        if needed != 0 { clause.add("(ascii_mask & \(needed)) = \(needed)") }
        criteria(except: facet, into: &clause)
        return clause
    }

    /// The rows of the range that must be decided in Swift; nil when there are none.
    func inexactRows() -> Clause? {
        guard needed != 0 else { return nil }
        var clause = range()
        clause.add("(ascii_mask & \(needed)) != \(needed)")
        return clause
    }

    /// The criteria that exclude a listen from every facet and are exact on any row.
    private func range() -> Clause {
        var clause = Clause()
        if let since = filter.since { clause.add("timestamp >= ?", .integer(since)) }
        if let until = filter.until { clause.add("timestamp < ?", .integer(until)) }
        if let userID = filter.userID { clause.add("user_id = ?", .text(userID)) }
        if let trackID = filter.trackID { clause.add("track_id = ?", .text(trackID)) }
        return clause
    }

    private func criteria(except facet: Facet?, into clause: inout Clause) {
        if facet != .rating, let minRating = filter.minRating { clause.add("rating >= ?", .integer(Int64(minRating))) }
        if facet != .skipped, let skipped = filter.skipped { clause.add(skipped ? "completed = 0" : "completed = 1") }
        if facet != .completed, let completed = filter.completed { clause.add(completed ? "completed = 1" : "completed = 0") }
        if facet != .genre { anyEqual("genre", filter.genres, into: &clause) }
        if facet != .platform { anyEqual("platform", filter.platforms, into: &clause) }
        if facet != .mood { anyEqual("mood", filter.moods, into: &clause) }
        if facet != .country { anyContaining(["country"], filter.countries, into: &clause) }
        if facet != .artist, let artist = filter.artist { anyContaining(["artist"], [artist], into: &clause) }
        if let q = filter.q { anyContaining(["title", "artist", "username"], [q], into: &clause) }
    }

    /// Any of `values` equal to the column, case-insensitively. An empty value equals anything
    /// (`FoldedNeedle.isEqual`), so it makes the criterion no criterion.
    private func anyEqual(_ column: String, _ values: [String], into clause: inout Clause) {
        guard !values.isEmpty else { return }
        let folded = values.map { $0.lowercased() }
        if folded.contains("") { return }
        let marks = Array(repeating: "?", count: folded.count).joined(separator: ", ")
        clause.conditions.append("lower(\(column)) IN (\(marks))")
        clause.values += folded.map { .text($0) }
    }

    /// Any of `values` a substring of any of `columns`, case-insensitively (`instr` with an
    /// empty needle is 1, as `FoldedNeedle.isContained` is true).
    private func anyContaining(_ columns: [String], _ values: [String], into clause: inout Clause) {
        guard !values.isEmpty else { return }
        var tests: [String] = []
        for value in values {
            for column in columns {
                tests.append("instr(lower(\(column)), ?) > 0")
                clause.values.append(.text(value.lowercased()))
            }
        }
        clause.conditions.append(tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " OR ") + ")")
    }
}
