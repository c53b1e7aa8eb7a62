import Testing
@testable import MusicModel

@Suite struct EventFilterTests {
    func parse(_ pairs: [(String, String)]) throws(QueryError) -> EventFilter {
        try EventFilter.parse(pairs.map { (name: $0.0, value: $0.1) })
    }

    func queryError(_ pairs: [(String, String)]) -> QueryError? {
        do {
            _ = try parse(pairs)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryParameter() throws {
        let f = try parse([
            ("artist", "joji"), ("country", "JAP"), ("genre", "indie"), ("platform", "spotify"),
            ("mood", "MELANCHOLIC"), ("rating", "3"), ("skipped", "No"), ("completed", "YES"), ("limit", "5"),
        ])
        #expect(f.artist == "joji" && f.country == "JAP" && f.genre == "indie" && f.platform == "spotify")
        #expect(f.mood == "MELANCHOLIC" && f.minRating == 3 && f.skipped == false && f.completed == true)
        #expect(!f.isEmpty)
        #expect(f.matches(sampleEvent()))
        #expect(EventFilter.parameterNames == ["artist", "country", "genre", "platform", "mood", "rating", "skipped", "completed"])
    }

    @Test func emptyValuesAndUnknownNamesIgnored() throws {
        let f = try parse([("artist", ""), ("genre", "  "), ("rating", ""), ("skipped", ""), ("page", "x"), ("Artist", "y")])
        #expect(f.isEmpty && f == EventFilter())
        #expect(try parse([]).isEmpty)
    }

    @Test(arguments: [
        ("rating", "6"), ("rating", "-1"), ("rating", "2.5"), ("rating", "three"), ("rating", "99999999999999999999"),
        ("skipped", "maybe"), ("completed", "2"), ("artist", String(repeating: "a", count: 257)),
        ("mood", String(repeating: "ñ", count: 129)),
    ])
    func errorsNameTheParameter(name: String, value: String) {
        let e = queryError([(name, value)])
        #expect(e?.parameter == name)
        #expect(e?.detail.contains(name) == true)
    }

    @Test func ratingErrorText() {
        #expect(queryError([("rating", "9")]) == QueryError(parameter: "rating", detail: "rating must be an integer from 0 to 5"))
    }

    @Test func repeatedParameterIsAnError() {
        #expect(queryError([("genre", "Pop"), ("genre", "Rock")])?.parameter == "genre")
        #expect(queryError([("rating", ""), ("rating", "3")])?.parameter == "rating")
        // Unknown names may repeat; that is the caller's business.
        #expect(queryError([("x", "1"), ("x", "2")]) == nil)
    }

    @Test(arguments: [("yes", true), ("TRUE", true), ("1", true), ("no", false), ("False", false), ("0", false)])
    func booleanSpellings(value: String, expected: Bool) throws {
        #expect(try parse([("skipped", value)]).skipped == expected)
        #expect(try parse([("completed", value)]).completed == expected)
    }

    @Test func matchesEachField() {
        let e = sampleEvent()  // Joji, Japan, Indie, Spotify, Melancholic, rating 4, completed
        func check(_ configure: (inout EventFilter) -> Void, _ expected: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
            var f = EventFilter()
            configure(&f)
            #expect(f.matches(e) == expected, sourceLocation: sourceLocation)
        }
        check({ _ in }, true)
        check({ $0.artist = "OJ" }, true)
        check({ $0.artist = "jojii" }, false)
        check({ $0.country = "apa" }, true)
        check({ $0.country = "korea" }, false)
        check({ $0.genre = "INDIE" }, true)
        check({ $0.genre = "Ind" }, false)  // exact, not substring
        check({ $0.platform = "spotify" }, true)
        check({ $0.platform = "Apple Music" }, false)
        check({ $0.mood = "melancholic" }, true)
        check({ $0.mood = "happy" }, false)
        check({ $0.minRating = 4 }, true)
        check({ $0.minRating = 5 }, false)
        check({ $0.minRating = 0 }, true)
        check({ $0.completed = true }, true)
        check({ $0.completed = false }, false)
        check({ $0.skipped = false }, true)
        check({ $0.skipped = true }, false)
        check({ $0.genre = "indie"; $0.minRating = 5 }, false)  // AND
    }

    @Test func nonASCIICaseInsensitivity() {
        var e = sampleEvent()
        e.artist = "Ñandú Orquesta"
        e.country = "España"
        e.genre = "Música Ñ"
        var f = EventFilter()
        f.artist = "ñandú"
        #expect(f.matches(e))
        f.artist = "ÑANDÚ ORQ"
        #expect(f.matches(e))
        f.artist = "nandu"
        #expect(!f.matches(e))
        f = EventFilter(country: "ESPAÑA", genre: "música ñ")
        #expect(f.matches(e))
        f = EventFilter(artist: "orquesta")  // ASCII needle, non-ASCII haystack
        #expect(f.matches(e))
        f = EventFilter(genre: "musica ñ")
        #expect(!f.matches(e))
    }

    @Test func asciiSubstringEdges() {
        var e = sampleEvent()
        e.artist = "aab"
        #expect(EventFilter(artist: "ab").matches(e))
        #expect(EventFilter(artist: "AAB").matches(e))
        #expect(!EventFilter(artist: "aabb").matches(e))
        #expect(EventFilter(artist: "").matches(e))
    }

    @Test func settersKeepNeedlesInSync() {
        var f = EventFilter(genre: "Pop")
        f.genre = "Indie"
        #expect(f.matches(sampleEvent()))
        f.genre = nil
        #expect(f.isEmpty && f.matches(sampleEvent()))
    }
}
