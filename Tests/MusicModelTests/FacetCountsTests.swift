import Testing
@testable import MusicModel

@Suite struct FacetCountsTests {
    func event(genre: String, platform: String = "Spotify", rating: Int = 3, position: Int = 233) -> ListenEvent {
        var e = sampleEvent()
        e.genre = genre
        e.platform = platform
        e.rating = rating
        e.listenPosition = position
        return e
    }

    @Test func addRemoveAndSort() {
        var f = FacetCounts()
        #expect(f.total == 0 && f.entries(.genre).isEmpty && f.entries(.rating).isEmpty && f.entries(.skipped).isEmpty)
        let pop1 = event(genre: "Pop", rating: 5)
        let pop2 = event(genre: "Pop", platform: "Apple Music", rating: 1, position: 0)
        let rock = event(genre: "Rock", rating: 5)
        let jazz = event(genre: "Jazz", rating: 0, position: 10)
        for e in [pop1, pop2, rock, jazz] { f.add(e) }
        #expect(f.total == 4)
        #expect(f.entries(.genre) == [.init(value: "Pop", count: 2), .init(value: "Jazz", count: 1), .init(value: "Rock", count: 1)])
        #expect(f.entries(.platform) == [.init(value: "Spotify", count: 3), .init(value: "Apple Music", count: 1)])
        #expect(f.entries(.rating) == [.init(value: "5", count: 2), .init(value: "0", count: 1), .init(value: "1", count: 1)])
        #expect(f.entries(.completed) == [.init(value: "false", count: 2), .init(value: "true", count: 2)])
        #expect(f.entries(.skipped) == [.init(value: "false", count: 2), .init(value: "true", count: 2)])
        #expect(f.entries(.artist) == [.init(value: "Joji", count: 4)])
        #expect(f.entries(.country) == [.init(value: "Japan", count: 4)])
        #expect(f.entries(.mood) == [.init(value: "Melancholic", count: 4)])

        f.remove(pop1)
        f.remove(jazz)
        #expect(f.total == 2)
        #expect(f.entries(.genre) == [.init(value: "Pop", count: 1), .init(value: "Rock", count: 1)])
        #expect(f.entries(.rating) == [.init(value: "1", count: 1), .init(value: "5", count: 1)])
        #expect(f.entries(.completed) == [.init(value: "false", count: 1), .init(value: "true", count: 1)])
        f.remove(pop2)
        #expect(f.entries(.platform) == [.init(value: "Spotify", count: 1)])
        #expect(f.entries(.skipped) == [.init(value: "false", count: 1)])
        f.remove(rock)
        #expect(f.total == 0)
        for facet in Facet.allCases { #expect(f.entries(facet).isEmpty) }
        // Removing from empty counts is harmless.
        f.remove(rock)
        #expect(f.total == 0 && f.entries(.genre).isEmpty)
    }

    @Test func facetNames() {
        #expect(Facet.allCases.map(\.rawValue) == ["genre", "platform", "mood", "country", "artist", "rating", "skipped", "completed"])
    }
}
