/// The API's filter, shared by /api/events, /api/facets, /api/timeline and /stream.
/// All criteria are optional and combined with AND; a repeatable criterion (an array) matches
/// when any of its values does. Needles are case-folded once when set, so `matches` stays cheap
/// on the SSE fan-out path and in window scans.
public struct EventFilter: Sendable, Equatable {
    /// Case-insensitive substring of the artist.
    public var artist: String? { didSet { artistNeedle = artist.map(FoldedNeedle.init) } }
    /// Case-insensitive substring of the title, the artist or the username (any of them).
    public var q: String? { didSet { qNeedle = q.map(FoldedNeedle.init) } }
    /// Exact, case-sensitive: ids are opaque.
    public var userID: String?
    /// Exact, case-sensitive, like `userID`: "this track" regardless of how its title is spelled.
    public var trackID: String?
    /// Case-insensitive exact; any of them.
    public var genres: [String] = [] { didSet { genreNeedles = genres.map(FoldedNeedle.init) } }
    /// Case-insensitive exact; any of them.
    public var platforms: [String] = [] { didSet { platformNeedles = platforms.map(FoldedNeedle.init) } }
    /// Case-insensitive exact; any of them.
    public var moods: [String] = [] { didSet { moodNeedles = moods.map(FoldedNeedle.init) } }
    /// Case-insensitive substring; any of them.
    public var countries: [String] = [] { didSet { countryNeedles = countries.map(FoldedNeedle.init) } }
    /// Minimum rating, 0...5.
    public var minRating: Int?
    public var skipped: Bool?
    public var completed: Bool?
    /// Inclusive lower bound on the timestamp (ms).
    public var since: Int64?
    /// Exclusive upper bound on the timestamp (ms).
    public var until: Int64?

    private(set) var artistNeedle: FoldedNeedle?
    private(set) var qNeedle: FoldedNeedle?
    private(set) var genreNeedles: [FoldedNeedle] = []
    private(set) var platformNeedles: [FoldedNeedle] = []
    private(set) var moodNeedles: [FoldedNeedle] = []
    private(set) var countryNeedles: [FoldedNeedle] = []

    /// Most values a repeatable parameter may carry; each costs a comparison per event.
    public static let maxValuesPerParameter = 50
    /// Longest filter value, in Unicode scalars.
    public static let maxValueCharacters = 256
    /// Largest accepted `since`/`until` (13 digits of milliseconds, about the year 2286).
    public static let maxTimestampParameter: Int64 = 9_999_999_999_999

    public init(
        artist: String? = nil, q: String? = nil, userID: String? = nil, trackID: String? = nil,
        genres: [String] = [], platforms: [String] = [], moods: [String] = [], countries: [String] = [],
        minRating: Int? = nil, skipped: Bool? = nil, completed: Bool? = nil,
        since: Int64? = nil, until: Int64? = nil
    ) {
        // Observers do not run in an initializer, so the needles are built here.
        self.artist = artist
        self.q = q
        self.userID = userID
        self.trackID = trackID
        self.genres = genres
        self.platforms = platforms
        self.moods = moods
        self.countries = countries
        self.minRating = minRating
        self.skipped = skipped
        self.completed = completed
        self.since = since
        self.until = until
        artistNeedle = artist.map(FoldedNeedle.init)
        qNeedle = q.map(FoldedNeedle.init)
        genreNeedles = genres.map(FoldedNeedle.init)
        platformNeedles = platforms.map(FoldedNeedle.init)
        moodNeedles = moods.map(FoldedNeedle.init)
        countryNeedles = countries.map(FoldedNeedle.init)
    }

    public var isEmpty: Bool {
        artist == nil && q == nil && userID == nil && trackID == nil && genres.isEmpty && platforms.isEmpty && moods.isEmpty
            && countries.isEmpty && minRating == nil && skipped == nil && completed == nil
            && since == nil && until == nil
    }

    /// Whether since and until leave no instant between them (since ≥ until): nothing matches,
    /// and a store need not be asked.
    public var hasEmptyRange: Bool {
        if let since, let until { return since >= until }
        return false
    }

    public func matches(_ event: ListenEvent) -> Bool {
        withUnsafePointer(to: event) { matches(at: $0) }
    }

    /// Matching by string comparison, for any event (the SSE fan-out, replay, sequences); the
    /// window's scans apply the same `rule` to slots (`ResolvedFilter`).
    @inline(__always)
    func matches(at event: UnsafePointer<ListenEvent>) -> Bool {
        withUnsafePointer(to: self) { rule.matches(ListenSubject(event: event, filter: $0)) }
    }

    /// How an event fares against the filter, for facet counting: which single facet's
    /// constraint (if exactly one) it fails. Stops at the second failure.
    enum Verdict: Equatable {
        case matches
        case failsOnly(Facet)
        /// Fails two or more constraints, or one that belongs to no facet.
        case fails
    }

    func verdict(_ event: ListenEvent) -> Verdict {
        withUnsafePointer(to: event) { e in withUnsafePointer(to: self) { rule.verdict(ListenSubject(event: e, filter: $0)) } }
    }

    /// The filter's checks without its text (plain values only), for the scans.
    var rule: FilterRule {
        FilterRule(
            since: since, until: until, minRating: minRating, skipped: skipped, completed: completed,
            userID: userID != nil, trackID: trackID != nil, genre: !genreNeedles.isEmpty,
            platform: !platformNeedles.isEmpty, mood: !moodNeedles.isEmpty, country: !countryNeedles.isEmpty,
            artist: artistNeedle != nil, query: qNeedle != nil)
    }

    /// Whether `value` satisfies `facet`'s text constraint (true when there is none): what a
    /// `ResolvedFilter` asks once per distinct value.
    func passes(_ facet: Facet, value: String) -> Bool {
        switch facet {
        case .genre: genreNeedles.isEmpty || Self.anyEqual(genreNeedles, value)
        case .platform: platformNeedles.isEmpty || Self.anyEqual(platformNeedles, value)
        case .mood: moodNeedles.isEmpty || Self.anyEqual(moodNeedles, value)
        case .country: countryNeedles.isEmpty || Self.anyContained(countryNeedles, value)
        case .artist: artistNeedle.map { $0.isContained(in: value) } ?? true
        case .rating, .skipped, .completed: true
        }
    }

    /// Whether the filter has a constraint on text facet `facet`.
    func constrains(_ facet: Facet) -> Bool {
        switch facet {
        case .genre: !genreNeedles.isEmpty
        case .platform: !platformNeedles.isEmpty
        case .mood: !moodNeedles.isEmpty
        case .country: !countryNeedles.isEmpty
        case .artist: artistNeedle != nil
        case .rating: minRating != nil
        case .skipped: skipped != nil
        case .completed: completed != nil
        }
    }

    @inline(__always)
    static func anyEqual(_ needles: [FoldedNeedle], _ value: String) -> Bool {
        for needle in needles where needle.isEqual(to: value) { return true }
        return false
    }

    @inline(__always)
    static func anyContained(_ needles: [FoldedNeedle], _ value: String) -> Bool {
        for needle in needles where needle.isContained(in: value) { return true }
        return false
    }

    /// Whether the query needle is in the title, the artist or the username.
    @inline(__always)
    static func queryMatches(_ needle: FoldedNeedle, title: String, artist: String, username: String) -> Bool {
        needle.isContained(in: title) || needle.isContained(in: artist) || needle.isContained(in: username)
    }

    /// The same filter without `facet`'s own constraint, so a facet can list the values the
    /// user could switch to (a chosen genre still shows the other genres).
    public func withoutFacet(_ facet: Facet) -> EventFilter {
        var copy = self
        switch facet {
        case .genre: copy.genres = []
        case .platform: copy.platforms = []
        case .mood: copy.moods = []
        case .country: copy.countries = []
        case .artist: copy.artist = nil
        case .rating: copy.minRating = nil
        case .skipped: copy.skipped = nil
        case .completed: copy.completed = nil
        }
        return copy
    }

    /// `canonicalHash` for other modules: the history's cursors are bound to their filter too.
    public var fingerprint: UInt64 { canonicalHash }

    /// A stable 64-bit hash of what the filter selects, independent of spelling that does not
    /// change the result (case of case-insensitive values, order and duplicates of repeated
    /// values). Pagination cursors carry it so a cursor cannot be replayed under another filter.
    var canonicalHash: UInt64 {
        var hash = StableHash()
        func add(_ tag: String, _ value: String?) {
            hash.add(tag)
            if let value {
                hash.add(byte: 1)
                hash.add(value)
            } else {
                hash.add(byte: 0)
            }
        }
        func add(_ tag: String, _ needles: [FoldedNeedle]) {
            hash.add(tag)
            let values = Set(needles.map(\.lowered)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            hash.add(UInt64(values.count))
            for value in values { hash.add(value) }
        }
        add("artist", artistNeedle?.lowered)
        add("q", qNeedle?.lowered)
        add("user_id", userID)
        add("track_id", trackID)
        add("genre", genreNeedles)
        add("platform", platformNeedles)
        add("mood", moodNeedles)
        add("country", countryNeedles)
        add("rating", minRating.map { String($0) })
        add("skipped", skipped.map { $0 ? "true" : "false" })
        add("completed", completed.map { $0 ? "true" : "false" })
        add("since", since.map { String($0) })
        add("until", until.map { String($0) })
        return hash.finish().0
    }

    // MARK: Parsing

    /// Query parameter names this filter understands.
    public static let parameterNames: Set<String> = [
        "artist", "q", "user_id", "track_id", "genre", "platform", "mood", "country", "rating", "skipped", "completed",
        "since", "until",
    ]

    /// Parameters that may be repeated, meaning "any of these values".
    private static let repeatable: Set<String> = ["genre", "platform", "mood", "country"]

    /// Parses the filter parameters out of a query. Names not in `parameterNames` are ignored
    /// (the caller decides about unknown ones); empty values mean "not given" because HTML forms
    /// send them; repeating a single-valued parameter is an error, even with an empty value.
    /// Repeated values of a repeatable parameter that differ only in case are kept once.
    /// Errors name the parameter.
    public static func parse(_ parameters: [(name: String, value: String)]) throws(QueryError) -> EventFilter {
        var filter = EventFilter()
        var seen: Set<String> = []
        var lists: [String: [String]] = [:]
        var listFolded: [String: Set<String>] = [:]
        var listCounts: [String: Int] = [:]
        for (name, rawValue) in parameters where parameterNames.contains(name) {
            let isRepeatable = repeatable.contains(name)
            if !isRepeatable {
                guard seen.insert(name).inserted else {
                    throw QueryError(parameter: name, detail: "\(name) is given more than once")
                }
            }
            // Counted as sent and in Unicode scalars, as the OpenAPI schema's maxLength counts.
            if rawValue.unicodeScalars.count > maxValueCharacters {
                throw QueryError(parameter: name, detail: "\(name) must be at most \(maxValueCharacters) characters")
            }
            let value = rawValue.trimmed()
            if value.isEmpty { continue }
            if isRepeatable {
                let count = listCounts[name, default: 0] + 1
                guard count <= maxValuesPerParameter else {
                    throw QueryError(
                        parameter: name, detail: "\(name) may be given at most \(maxValuesPerParameter) times")
                }
                listCounts[name] = count
                if listFolded[name, default: []].insert(value.lowercased()).inserted {
                    lists[name, default: []].append(value)
                }
                continue
            }
            switch name {
            case "artist": filter.artist = value
            case "q": filter.q = value
            case "user_id": filter.userID = value
            case "track_id": filter.trackID = value
            case "rating":
                guard let r = Int(value), (0...5).contains(r) else {
                    throw QueryError(parameter: name, detail: "rating must be an integer from 0 to 5")
                }
                filter.minRating = r
            case "skipped", "completed":
                let flag: Bool
                switch value.lowercased() {
                case "yes", "true", "1": flag = true
                case "no", "false", "0": flag = false
                default:
                    throw QueryError(parameter: name, detail: "\(name) must be one of yes, no, true, false, 1, 0")
                }
                if name == "skipped" { filter.skipped = flag } else { filter.completed = flag }
            case "since", "until":
                let ms = try timestampParameter(name, value)
                if name == "since" { filter.since = ms } else { filter.until = ms }
            default:
                break
            }
        }
        if let list = lists["genre"] { filter.genres = list }
        if let list = lists["platform"] { filter.platforms = list }
        if let list = lists["mood"] { filter.moods = list }
        if let list = lists["country"] { filter.countries = list }
        if filter.hasEmptyRange {
            throw QueryError(parameter: "until", detail: "until must be greater than since")
        }
        return filter
    }

    /// Plain decimal digits only: no sign, no fraction, no exponent.
    private static func timestampParameter(_ name: String, _ value: String) throws(QueryError) -> Int64 {
        let digits = value.utf8
        guard digits.count <= 13, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let ms = Int64(value),
              ms <= maxTimestampParameter
        else {
            throw QueryError(
                parameter: name,
                detail: "\(name) must be an integer from 0 to \(maxTimestampParameter) (milliseconds since the epoch)")
        }
        return ms
    }

}
