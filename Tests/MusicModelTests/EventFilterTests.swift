import Testing
@testable import MusicModel

@Suite struct EventFilterTests {
    @Test func parsesEveryParameter() throws {
        let f = try parse([
            ("artist", "joji"), ("country", "JAP"), ("genre", "indie"), ("platform", "spotify"),
            ("mood", "MELANCHOLIC"), ("rating", "3"), ("skipped", "No"), ("completed", "YES"), ("limit", "5"),
        ])
        #expect(f.artist == "joji" && f.countries == ["JAP"] && f.genres == ["indie"] && f.platforms == ["spotify"])
        #expect(f.moods == ["MELANCHOLIC"] && f.minRating == 3 && f.skipped == false && f.completed == true)
        #expect(!f.isEmpty)
        #expect(f.matches(sampleEvent()))
        #expect(EventFilter.parameterNames == [
            "artist", "q", "user_id", "track_id", "country", "genre", "platform", "mood", "rating", "skipped", "completed", "since", "until",
        ])
    }

    @Test func emptyValuesAndUnknownNamesIgnored() throws {
        let f = try parse([("artist", ""), ("genre", "  "), ("rating", ""), ("skipped", ""), ("page", "x"), ("Artist", "y")])
        #expect(f.isEmpty && f == EventFilter())
        #expect(try parse([]).isEmpty)
    }

    @Test(arguments: [
        ("rating", "6"), ("rating", "-1"), ("rating", "2.5"), ("rating", "three"), ("rating", "99999999999999999999"),
        ("skipped", "maybe"), ("completed", "2"), ("artist", String(repeating: "a", count: 257)),
        ("mood", String(repeating: "ñ", count: 257)),
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
        #expect(queryError([("artist", "Pop"), ("artist", "Rock")]) == QueryError(parameter: "artist", detail: "artist is given more than once"))
        #expect(queryError([("rating", ""), ("rating", "3")])?.parameter == "rating")
        // Repeatable ones may.
        #expect(queryError([("genre", "Pop"), ("genre", "Rock")]) == nil)
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
        check({ $0.countries = ["apa"] }, true)
        check({ $0.countries = ["korea"] }, false)
        check({ $0.genres = ["INDIE"] }, true)
        check({ $0.genres = ["Ind"] }, false)  // exact, not substring
        check({ $0.platforms = ["spotify"] }, true)
        check({ $0.platforms = ["Apple Music"] }, false)
        check({ $0.moods = ["melancholic"] }, true)
        check({ $0.moods = ["happy"] }, false)
        check({ $0.minRating = 4 }, true)
        check({ $0.minRating = 5 }, false)
        check({ $0.minRating = 0 }, true)
        check({ $0.completed = true }, true)
        check({ $0.completed = false }, false)
        check({ $0.skipped = false }, true)
        check({ $0.skipped = true }, false)
        check({ $0.genres = ["indie"]; $0.minRating = 5 }, false)  // AND
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
        f = EventFilter(genres: ["música ñ"], countries: ["ESPAÑA"])
        #expect(f.matches(e))
        f = EventFilter(artist: "orquesta")  // ASCII needle, non-ASCII haystack
        #expect(f.matches(e))
        f = EventFilter(genres: ["musica ñ"])
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
        var f = EventFilter(genres: ["Pop"])
        f.genres = ["Indie"]
        #expect(f.matches(sampleEvent()))
        f.genres = []
        #expect(f.isEmpty && f.matches(sampleEvent()))
    }
}
