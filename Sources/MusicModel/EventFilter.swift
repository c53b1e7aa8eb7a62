/// The dashboard's and API's filter. All criteria are optional and combined with AND.
/// Needles are lowercased once when set, so `matches` stays cheap on the SSE fan-out path.
public struct EventFilter: Sendable, Equatable {
    /// Case-insensitive substring.
    public var artist: String? { didSet { artistNeedle = artist.map(FoldedNeedle.init) } }
    /// Case-insensitive substring.
    public var country: String? { didSet { countryNeedle = country.map(FoldedNeedle.init) } }
    /// Case-insensitive exact.
    public var genre: String? { didSet { genreNeedle = genre.map(FoldedNeedle.init) } }
    /// Case-insensitive exact.
    public var platform: String? { didSet { platformNeedle = platform.map(FoldedNeedle.init) } }
    /// Case-insensitive exact.
    public var mood: String? { didSet { moodNeedle = mood.map(FoldedNeedle.init) } }
    /// Minimum rating, 0...5.
    public var minRating: Int?
    public var skipped: Bool?
    public var completed: Bool?

    private var artistNeedle: FoldedNeedle?
    private var countryNeedle: FoldedNeedle?
    private var genreNeedle: FoldedNeedle?
    private var platformNeedle: FoldedNeedle?
    private var moodNeedle: FoldedNeedle?

    public init() {}

    public init(
        artist: String? = nil, country: String? = nil, genre: String? = nil, platform: String? = nil,
        mood: String? = nil, minRating: Int? = nil, skipped: Bool? = nil, completed: Bool? = nil
    ) {
        // Observers do not run in an initializer, so the needles are built here.
        self.artist = artist
        self.country = country
        self.genre = genre
        self.platform = platform
        self.mood = mood
        artistNeedle = artist.map(FoldedNeedle.init)
        countryNeedle = country.map(FoldedNeedle.init)
        genreNeedle = genre.map(FoldedNeedle.init)
        platformNeedle = platform.map(FoldedNeedle.init)
        moodNeedle = mood.map(FoldedNeedle.init)
        self.minRating = minRating
        self.skipped = skipped
        self.completed = completed
    }

    public var isEmpty: Bool {
        artist == nil && country == nil && genre == nil && platform == nil && mood == nil
            && minRating == nil && skipped == nil && completed == nil
    }

    public func matches(_ event: ListenEvent) -> Bool {
        if let minRating, event.rating < minRating { return false }
        if skipped != nil || completed != nil {
            let isCompleted = event.completed
            if let skipped, skipped == isCompleted { return false }
            if let completed, completed != isCompleted { return false }
        }
        if let genreNeedle, !genreNeedle.isEqual(to: event.genre) { return false }
        if let platformNeedle, !platformNeedle.isEqual(to: event.platform) { return false }
        if let moodNeedle, !moodNeedle.isEqual(to: event.mood) { return false }
        if let countryNeedle, !countryNeedle.isContained(in: event.country) { return false }
        if let artistNeedle, !artistNeedle.isContained(in: event.artist) { return false }
        return true
    }

    /// Query parameter names this filter understands.
    public static let parameterNames: Set<String> = [
        "artist", "country", "genre", "platform", "mood", "rating", "skipped", "completed",
    ]

    /// Parses the filter parameters out of a query. Names not in `parameterNames` are ignored
    /// (the caller decides about unknown ones); empty values mean "no filter" because HTML forms
    /// send them; a repeated filter parameter is an error. Errors name the parameter.
    public static func parse(_ parameters: [(name: String, value: String)]) throws(QueryError) -> EventFilter {
        var filter = EventFilter()
        var seen: Set<String> = []
        for (name, rawValue) in parameters where parameterNames.contains(name) {
            guard seen.insert(name).inserted else {
                throw QueryError(parameter: name, detail: "\(name) may be given only once")
            }
            let value = trimmedWhitespace(rawValue)
            if value.isEmpty { continue }
            if value.utf8.count > EventDecoder.maxStringBytes {
                throw QueryError(
                    parameter: name, detail: "\(name) must be at most \(EventDecoder.maxStringBytes) bytes")
            }
            switch name {
            case "artist": filter.artist = value
            case "country": filter.country = value
            case "genre": filter.genre = value
            case "platform": filter.platform = value
            case "mood": filter.mood = value
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
            default:
                break
            }
        }
        return filter
    }

    private static func trimmedWhitespace(_ s: String) -> String {
        guard let first = s.first, let last = s.last, first.isWhitespace || last.isWhitespace else { return s }
        let head = s.drop(while: \.isWhitespace)
        var end = head.endIndex
        while end > head.startIndex {
            let before = head.index(before: end)
            if !head[before].isWhitespace { break }
            end = before
        }
        return String(head[head.startIndex..<end])
    }
}
