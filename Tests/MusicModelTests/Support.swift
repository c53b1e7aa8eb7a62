@testable import MusicModel

/// Ordered (key, raw JSON value) pairs, so tests can drop or replace one field at a time.
typealias Fields = [(key: String, value: String)]

func object(_ fields: Fields) -> String {
    "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
}

func setting(_ fields: Fields, _ key: String, _ value: String?) -> Fields {
    var result = fields
    if let i = result.firstIndex(where: { $0.key == key }) {
        if let value { result[i].value = value } else { result.remove(at: i) }
    } else if let value {
        result.append((key, value))
    }
    return result
}

let canonicalFields: Fields = [
    ("event_id", "\"3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f\""),
    ("user_id", "\"u-1\""),
    ("username", "\"maya.tanaka42\""),
    ("email", "\"maya@example.com\""),
    ("track_id", "\"t-1\""),
    ("title", "\"Glimpse of Us\""),
    ("artist", "\"Joji\""),
    ("genre", "\"Indie\""),
    ("platform", "\"Spotify\""),
    ("mood", "\"Melancholic\""),
    ("city", "\"Osaka\""),
    ("country", "\"Japan\""),
    ("duration", "233"),
    ("listen_position", "200"),
    ("completed", "true"),
    ("skipped", "false"),
    ("rating", "4"),
    ("timestamp", "1700000000123"),
]

let pythonFields: Fields = [
    ("user_id", "\"8c4f0d52-1b7e-4a8e-9a43-0c1f5e6d7a88\""),
    ("name", "\"jsmith\""),
    ("email", "\"jsmith@example.org\""),
    ("track_id", "\"a1b2c3d4-0000-4000-8000-000000000001\""),
    ("title", "\"Levels\""),
    ("artist", "\"Avicii\""),
    ("genre", "\"EDM\""),
    ("timestamp", "1700000000"),
    ("platform", "\"Spotify\""),
    ("location", "{\"city\": \"Osaka\", \"country\": \"Japan\"}"),
    ("mood", "\"Happy\""),
    ("duration_seconds", "245"),
    ("listen_position", "80"),
    ("completed", "false"),
    ("rating", "3.7"),
    ("is_skipped", "false"),
]

let testOrigin = EventOrigin(topic: "listens", partition: 2, offset: 41)

func decode(_ text: String, origin: EventOrigin? = nil) throws(EventRejection) -> ListenEvent {
    try EventDecoder.decode(Array(text.utf8), origin: origin)
}

/// The rejection for `bytes`, or nil if they decode.
func rejection(_ bytes: [UInt8], origin: EventOrigin? = nil) -> EventRejection? {
    do {
        _ = try EventDecoder.decode(bytes, origin: origin)
        return nil
    } catch {
        return error
    }
}

func rejection(_ text: String, origin: EventOrigin? = nil) -> EventRejection? {
    rejection(Array(text.utf8), origin: origin)
}

func sampleEvent() -> ListenEvent {
    ListenEvent(
        eventID: "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", userID: "u-1", username: "maya.tanaka42",
        email: "maya@example.com", trackID: "t-1", title: "Glimpse of Us", artist: "Joji", genre: "Indie",
        platform: "Spotify", mood: "Melancholic", city: "Osaka", country: "Japan", duration: 233,
        listenPosition: 200, rating: 4, timestamp: 1_700_000_000_123)
}

func isUUID(_ s: String) -> Bool {
    UUIDText.isValid(s) && s == s.lowercased()
}

/// Simulated events with jittered, partly out-of-order timestamps (many sharing a millisecond,
/// to exercise tie-breaks), and a sprinkling of case and accent variants for string sorting.
func simulatedEvents(_ count: Int, seed: UInt64, start: Int64 = 1_700_000_000_000) -> [ListenEvent] {
    var sim = Simulator(seed: seed)
    var rng = SplitMix64(seed: seed ^ 0xABCDEF)
    let variants = ["abc", "ABC", "Abc", "abd", "ábc", "Ábc", "ab", "abc ", "Zürich", "zurich", "ZURICH"]
    var events: [ListenEvent] = []
    events.reserveCapacity(count)
    for i in 0..<count {
        let t = start + Int64(i / 3) * 700 + Int64(rng.below(5)) * 100 - 200
        var e = sim.next(timestamp: t)
        if rng.below(10) == 0 { e.title = variants[rng.below(variants.count)] }
        if rng.below(10) == 0 { e.city = variants[rng.below(variants.count)] }
        if rng.below(20) == 0 { e.username = variants[rng.below(variants.count)] }
        events.append(e)
    }
    return events
}

/// The filter semantics written out plainly with full lowercasing, as an oracle for `matches`.
func referenceMatches(_ f: EventFilter, _ e: ListenEvent) -> Bool {
    func has(_ haystack: String, _ needle: String) -> Bool {
        needle.isEmpty || haystack.lowercased().contains(needle.lowercased())
    }
    func same(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }
    if let a = f.artist, !has(e.artist, a) { return false }
    if let q = f.q, !(has(e.title, q) || has(e.artist, q) || has(e.username, q)) { return false }
    if let u = f.userID, e.userID != u { return false }
    if let t = f.trackID, e.trackID != t { return false }
    if !f.genres.isEmpty, !f.genres.contains(where: { same(e.genre, $0) }) { return false }
    if !f.platforms.isEmpty, !f.platforms.contains(where: { same(e.platform, $0) }) { return false }
    if !f.moods.isEmpty, !f.moods.contains(where: { same(e.mood, $0) }) { return false }
    if !f.countries.isEmpty, !f.countries.contains(where: { has(e.country, $0) }) { return false }
    if let r = f.minRating, e.rating < r { return false }
    if let s = f.skipped, e.skipped != s { return false }
    if let c = f.completed, e.completed != c { return false }
    if let s = f.since, e.timestamp < s { return false }
    if let u = f.until, e.timestamp >= u { return false }
    return true
}

/// A random filter over values that occur in `events`, each criterion present about a third
/// of the time, values in random case.
func randomFilter(_ rng: inout SplitMix64, _ events: [ListenEvent]) -> EventFilter {
    func pick() -> ListenEvent { events[rng.below(events.count)] }
    func maybe() -> Bool { rng.below(3) == 0 }
    func recase(_ s: String) -> String {
        switch rng.below(3) {
        case 0: s.lowercased()
        case 1: s.uppercased()
        default: s
        }
    }
    func infix(_ s: String) -> String {
        let chars = Array(s)
        guard chars.count > 2 else { return s }
        let a = rng.below(chars.count - 1)
        let b = a + 1 + rng.below(min(4, chars.count - a))
        return String(chars[a..<b])
    }
    var f = EventFilter()
    if maybe() { f.genres = (0...rng.below(3)).map { _ in recase(pick().genre) } }
    if maybe() { f.platforms = (0...rng.below(2)).map { _ in recase(pick().platform) } }
    if maybe() { f.moods = (0...rng.below(4)).map { _ in recase(pick().mood) } }
    if maybe() { f.countries = (0...rng.below(3)).map { _ in recase(infix(pick().country)) } }
    if rng.below(5) == 0 { f.artist = recase(infix(pick().artist)) }
    if rng.below(6) == 0 { f.q = recase(infix(pick().title)) }
    if rng.below(10) == 0 { f.userID = pick().userID }
    if rng.below(10) == 0 { f.trackID = pick().trackID }
    if maybe() { f.minRating = rng.below(6) }
    if rng.below(4) == 0 { f.skipped = rng.below(2) == 0 }
    if rng.below(4) == 0 { f.completed = rng.below(2) == 0 }
    if rng.below(4) == 0 { f.since = pick().timestamp }
    if rng.below(4) == 0 { f.until = pick().timestamp + 1 }
    return f
}

func window(_ events: [ListenEvent], capacity: Int? = nil) -> EventWindow {
    var w = EventWindow(capacity: capacity ?? max(1, events.count))
    for e in events { w.append(e) }
    return w
}

/// Parses query pairs into a filter, as the service does.
func parse(_ pairs: [(String, String)]) throws(QueryError) -> EventFilter {
    try EventFilter.parse(pairs.map { (name: $0.0, value: $0.1) })
}

/// The error parsing `pairs` raises, or nil when they parse.
func queryError(_ pairs: [(String, String)]) -> QueryError? {
    do {
        _ = try parse(pairs)
        return nil
    } catch {
        return error
    }
}
