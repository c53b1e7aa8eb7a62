import Testing
@testable import MusicModel

/// The filter parameters added for the API contract: q, user_id, since/until, repeatable values.
@Suite struct EventFilterQueryTests {
    @Test func parsesNewParameters() throws {
        let f = try parse([
            ("q", " glimpse "), ("user_id", "u-1"), ("since", "1700000000000"), ("until", "1700000000124"),
            ("genre", "Pop"), ("genre", "indie"), ("platform", "Spotify"), ("mood", "Happy"), ("mood", "melancholic"),
            ("country", "jap"), ("country", "kor"),
        ])
        #expect(f.q == "glimpse" && f.userID == "u-1" && f.since == 1_700_000_000_000 && f.until == 1_700_000_000_124)
        #expect(f.genres == ["Pop", "indie"] && f.platforms == ["Spotify"] && f.moods == ["Happy", "melancholic"])
        #expect(f.countries == ["jap", "kor"])
        #expect(!f.isEmpty && f.matches(sampleEvent()))
    }

    @Test func emptyValuesAreNotGiven() throws {
        let f = try parse([("q", " "), ("user_id", ""), ("since", ""), ("until", ""), ("genre", ""), ("genre", ""), ("country", "")])
        #expect(f.isEmpty && f == EventFilter())
    }

    @Test func repeatedValuesDifferingInCaseAreKeptOnce() throws {
        let f = try parse([("genre", "Pop"), ("genre", "POP"), ("genre", "Rock"), ("genre", "pop")])
        #expect(f.genres == ["Pop", "Rock"])
    }

    @Test(arguments: ["artist", "q", "user_id", "rating", "skipped", "completed", "since", "until"])
    func singleParametersMayNotRepeat(name: String) {
        let value = name == "until" ? "5" : (name == "since" ? "1" : "1")
        #expect(queryError([(name, value), (name, value)]) == QueryError(parameter: name, detail: "\(name) is given more than once"))
    }

    @Test(arguments: ["genre", "platform", "mood", "country"])
    func repeatableLimit(name: String) throws {
        let fifty = (0..<50).map { (name, "v\($0)") }
        #expect(queryError(fifty) == nil)
        let e = queryError(fifty + [(name, "v50")])
        #expect(e?.parameter == name && e?.detail.contains("50") == true)
        // Empty values do not count.
        #expect(queryError(fifty + [(name, ""), (name, " ")]) == nil)
    }

    @Test(arguments: [
        ("q", String(repeating: "x", count: 257)), ("user_id", String(repeating: "u", count: 257)),
        ("genre", String(repeating: "g", count: 257)), ("country", String(repeating: "é", count: 257)),
        ("artist", String(repeating: "a", count: 256) + " "),
        ("since", "-1"), ("since", "1.5"), ("since", "+5"), ("since", "1e3"), ("since", "abc"),
        ("since", "10000000000000"), ("until", "99999999999999999999"), ("until", "0x10"), ("until", " 12 3 "),
    ])
    func errorsNameTheParameter(name: String, value: String) {
        let e = queryError([(name, value)])
        #expect(e?.parameter == name)
        #expect(e?.detail.hasPrefix(name) == true)
    }

    /// The limit counts Unicode scalars as sent (what the OpenAPI schema's maxLength counts), not bytes.
    @Test func valueLengthIsCountedInCharactersAsSent() throws {
        #expect(try parse([("country", String(repeating: "é", count: 256))]).countries.count == 1)
        #expect(try parse([("q", String(repeating: "😀", count: 256))]).q != nil)
        #expect(queryError([("q", String(repeating: "😀", count: 257))])?.detail == "q must be at most 256 characters")
    }

    @Test func timestampBounds() throws {
        #expect(try parse([("since", "0")]).since == 0)
        #expect(try parse([("until", "9999999999999")]).until == 9_999_999_999_999)
        #expect(try parse([("since", " 0000000000042 ")]).since == 42)
        #expect(queryError([("since", "5"), ("until", "5")]) == QueryError(parameter: "until", detail: "until must be greater than since"))
        #expect(queryError([("until", "4"), ("since", "5")])?.parameter == "until")
        #expect(queryError([("since", "4"), ("until", "5")]) == nil)
    }

    @Test func sinceIsInclusiveUntilExclusive() {
        let e = sampleEvent()  // timestamp 1_700_000_000_123
        let t = e.timestamp
        #expect(EventFilter(since: t).matches(e))
        #expect(!EventFilter(since: t + 1).matches(e))
        #expect(!EventFilter(until: t).matches(e))
        #expect(EventFilter(until: t + 1).matches(e))
        #expect(EventFilter(since: t, until: t + 1).matches(e))
    }

    @Test func qSearchesTitleArtistAndUsername() {
        let e = sampleEvent()  // "Glimpse of Us", "Joji", "maya.tanaka42"
        #expect(EventFilter(q: "GLIMPSE").matches(e))
        #expect(EventFilter(q: "of u").matches(e))
        #expect(EventFilter(q: "jOJ").matches(e))
        #expect(EventFilter(q: "tanaka4").matches(e))
        #expect(!EventFilter(q: "osaka").matches(e))  // city is not searched
        #expect(!EventFilter(q: "indie").matches(e))  // nor genre
        #expect(!EventFilter(q: "maya@").matches(e))  // nor email
        #expect(!EventFilter(q: "Glimpse", minRating: 5).matches(e))
    }

    @Test func userIDIsExactAndCaseSensitive() {
        let e = sampleEvent()
        #expect(EventFilter(userID: "u-1").matches(e))
        #expect(!EventFilter(userID: "U-1").matches(e))
        #expect(!EventFilter(userID: "u-").matches(e))
    }

    @Test func trackIDIsExactAndCaseSensitiveAndParsedLikeUserID() throws {
        let e = sampleEvent()  // track_id "t-1"
        #expect(EventFilter(trackID: "t-1").matches(e))
        #expect(!EventFilter(trackID: "T-1").matches(e))
        #expect(!EventFilter(trackID: "t-").matches(e))
        #expect(EventFilter(trackID: "t-2").verdict(e) == .fails)
        let parsed = try EventFilter.parse([("track_id", " t-1 ")])
        #expect(parsed.trackID == "t-1" && !parsed.isEmpty && parsed.matches(e))
        #expect(try EventFilter.parse([("track_id", "")]).isEmpty)
        #expect(throws: QueryError.self) { try EventFilter.parse([("track_id", "a"), ("track_id", "b")]) }
        // A cursor issued under one track cannot continue under another.
        #expect(EventFilter(trackID: "t-1").canonicalHash != EventFilter(trackID: "t-2").canonicalHash)
        #expect(EventFilter(trackID: "t-1").canonicalHash != EventFilter(userID: "t-1").canonicalHash)
    }

    @Test func repeatableValuesAreAnyOf() {
        let e = sampleEvent()  // Indie, Spotify, Melancholic, Japan
        #expect(EventFilter(genres: ["Pop", "indie"]).matches(e))
        #expect(!EventFilter(genres: ["Pop", "Rock"]).matches(e))
        #expect(EventFilter(platforms: ["Apple Music", "SPOTIFY"]).matches(e))
        #expect(!EventFilter(platforms: ["Apple Music"]).matches(e))
        #expect(EventFilter(moods: ["happy", "sad", "melancholic"]).matches(e))
        #expect(!EventFilter(moods: ["happy", "sad"]).matches(e))
        #expect(EventFilter(countries: ["korea", "apa"]).matches(e))
        #expect(!EventFilter(countries: ["korea", "spain"]).matches(e))
        // AND across parameters, OR within one.
        #expect(!EventFilter(genres: ["Pop", "Indie"], platforms: ["Apple Music"]).matches(e))
    }

    @Test func withoutFacetRemovesOnlyItsConstraint() {
        let full = EventFilter(
            artist: "jo", q: "x", userID: "u", genres: ["Pop"], platforms: ["Spotify"], moods: ["Happy"],
            countries: ["ja"], minRating: 3, skipped: true, completed: false, since: 1, until: 9)
        #expect(full.withoutFacet(.genre) == { var f = full; f.genres = []; return f }())
        #expect(full.withoutFacet(.platform).platforms.isEmpty && full.withoutFacet(.platform).genres == ["Pop"])
        #expect(full.withoutFacet(.mood).moods.isEmpty)
        #expect(full.withoutFacet(.country).countries.isEmpty)
        #expect(full.withoutFacet(.artist).artist == nil && full.withoutFacet(.artist).q == "x")
        #expect(full.withoutFacet(.rating).minRating == nil)
        #expect(full.withoutFacet(.skipped).skipped == nil && full.withoutFacet(.skipped).completed == false)
        #expect(full.withoutFacet(.completed).completed == nil && full.withoutFacet(.completed).skipped == true)
        for facet in Facet.allCases {
            let f = full.withoutFacet(facet)
            #expect(f != full && f.userID == "u" && f.since == 1 && f.until == 9 && f.q == "x")
        }
        // Needles follow: dropping the genre really stops filtering by it.
        var e = sampleEvent()
        e.genre = "Rock"
        #expect(!EventFilter(genres: ["Pop"]).matches(e))
        #expect(EventFilter(genres: ["Pop"]).withoutFacet(.genre).matches(e))
    }

    @Test func matchesAgreesWithReferenceOverRandomFilters() {
        let events = simulatedEvents(1_500, seed: 11)
        var rng = SplitMix64(seed: 99)
        for _ in 0..<150 {
            let f = randomFilter(&rng, events)
            for e in events where f.matches(e) != referenceMatches(f, e) {
                Issue.record("filter \(f) disagrees on \(e)")
                return
            }
        }
    }

    @Test func canonicalHashIgnoresSpellingThatSelectsTheSame() {
        let a = EventFilter(genres: ["Pop", "Rock"], countries: ["JAPAN"])
        let b = EventFilter(genres: ["rock", "POP", "pop"], countries: ["japan"])
        #expect(a.canonicalHash == b.canonicalHash)
        #expect(a.canonicalHash != EventFilter(genres: ["Pop"], countries: ["JAPAN"]).canonicalHash)
        #expect(EventFilter(userID: "U").canonicalHash != EventFilter(userID: "u").canonicalHash)
        #expect(EventFilter(artist: "x").canonicalHash != EventFilter(q: "x").canonicalHash)
        #expect(EventFilter(since: 5).canonicalHash != EventFilter(until: 5).canonicalHash)
        #expect(EventFilter().canonicalHash == EventFilter().canonicalHash)
    }
}
