import MusicModel

/// `EventFilter` as PostgreSQL conditions, exact for every criterion, for the aggregates:
///
/// - since/until, user_id, track_id: as `ListenConditions` (integers, byte-equal ids).
/// - rating: `rating >= n`; skipped/completed: the stored `completed`, written from
///   `ListenEvent.completed`.
/// - genre, platform, mood, country, artist and q: `column = ANY(values)`, the values being
///   those of `listen_values` that the filter's own criterion accepts, decided by `EventFilter`
///   once per distinct value. So case folding, substrings and Unicode are the window's, and
///   PostgreSQL compares text for equality only (bytewise under any deterministic collation).
struct PostgresFilter {
    let filter: EventFilter
    /// Per text criterion: the facet it belongs to (nil for q), its columns and accepted values.
    private let texts: [(facet: Facet?, columns: [ListenTextColumn], values: [String])]

    /// Reads the values the criteria need from `listen_values` (one round trip when any).
    init(_ filter: EventFilter, connection: PostgresConnection) throws(PostgresError) {
        self.filter = filter
        let criteria = TextCriterion.all(of: filter)
        guard !criteria.isEmpty else {
            texts = []
            return
        }
        let kinds = Set(criteria.flatMap(\.columns).map(\.rawValue)).sorted()
        let result = try connection.execute("SELECT kind, value FROM listen_values WHERE kind = ANY($1::smallint[])") {
            $0.append("{" + kinds.map(String.init).joined(separator: ",") + "}")
        }
        var known: [Int64: [String]] = [:]
        for row in 0..<result.rowCount {
            if let kind = result.int64(row, 0) { known[kind, default: []].append(result.string(row, 1)) }
        }
        texts = criteria.map { criterion in
            let accepted = criterion.columns.flatMap { column in
                (known[column.rawValue] ?? []).filter { criterion.single.matches(column.probe($0)) }
            }
            // Not deduplicated through Set<String>, which would merge canonically equivalent
            // spellings that the table (and the rows) keep apart.
            return (criterion.facet, criterion.columns, accepted)
        }
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

    /// The conditions of every criterion except `facet`'s own (all of them when nil).
    func conditions(except facet: Facet?) -> ListenConditions {
        var conditions = ListenConditions(filter: filter)
        if facet != .rating, let minRating = filter.minRating {
            conditions.add("rating >= $\(conditions.next)::integer") { $0.append(minRating) }
        }
        if facet != .skipped, let skipped = filter.skipped { conditions.add(skipped ? "NOT completed" : "completed") { _ in } }
        if facet != .completed, let completed = filter.completed { conditions.add(completed ? "completed" : "NOT completed") { _ in } }
        for (owner, columns, values) in texts where owner == nil || owner != facet {
            guard !values.isEmpty else {
                conditions.add("false") { _ in }
                continue
            }
            let parameter = conditions.next
            let tests = columns.map { "\($0.name) = ANY($\(parameter)::text[])" }
            conditions.add(tests.count == 1 ? tests[0] : "(" + tests.joined(separator: " OR ") + ")") {
                $0.append(Self.arrayLiteral(values))
            }
        }
        return conditions
    }

    /// A text[] literal: every element double-quoted, with backslashes and quotes escaped.
    static func arrayLiteral(_ values: [String]) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }
}
