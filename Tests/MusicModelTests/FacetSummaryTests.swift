import Testing
@testable import MusicModel

@Suite struct FacetSummaryTests {
    /// The definition, computed the slow way: one full recount per facet.
    func bruteForce(_ events: [ListenEvent], _ filter: EventFilter) -> (matching: Int, entries: [Facet: [FacetEntry]]) {
        var entries: [Facet: [FacetEntry]] = [:]
        for facet in Facet.allCases {
            let without = filter.withoutFacet(facet)
            var counts = FacetCounts()
            for e in events where referenceMatches(without, e) { counts.add(e) }
            entries[facet] = counts.entries(facet)
        }
        return (events.filter { referenceMatches(filter, $0) }.count, entries)
    }

    @Test func matchesBruteForceOverRandomFilters() {
        let events = simulatedEvents(2_000, seed: 5)
        let w = window(events)
        let stored = Array(w.newestFirst())
        var rng = SplitMix64(seed: 2_026)
        var nonTrivial = 0
        for i in 0..<60 {
            let filter = i == 0 ? EventFilter() : randomFilter(&rng, events)
            let expected = bruteForce(events, filter)
            let fromSequence = FacetSummary.compute(over: stored, filter: filter)
            let fromWindow = FacetSummary.compute(over: w, filter: filter)
            #expect(fromSequence.matching == expected.matching, "\(filter)")
            #expect(fromWindow.matching == expected.matching, "\(filter)")
            for facet in Facet.allCases {
                #expect(fromSequence.entries(facet) == expected.entries[facet], "\(facet) under \(filter)")
                #expect(fromWindow.entries(facet) == expected.entries[facet], "\(facet) under \(filter)")
            }
            if expected.matching > 0 && expected.matching < events.count { nonTrivial += 1 }
        }
        #expect(nonTrivial > 20)
    }

    @Test func chosenGenreStillListsTheOthers() {
        var pop = sampleEvent()
        pop.genre = "Pop"
        var rock = sampleEvent()
        rock.genre = "Rock"
        var lowRock = rock
        lowRock.rating = 1
        let stored = window([pop, pop, rock, lowRock]).newestFirst()
        let s = FacetSummary.compute(over: stored, filter: EventFilter(genres: ["pop"], minRating: 3))
        #expect(s.matching == 2)
        // genre ignores genre=pop but keeps rating>=3: lowRock is out.
        #expect(s.entries(.genre) == [FacetEntry(value: "Pop", count: 2), FacetEntry(value: "Rock", count: 1)])
        // rating ignores rating>=3 but keeps genre=pop.
        #expect(s.entries(.rating) == [FacetEntry(value: "4", count: 2)])
        #expect(s.entries(.platform) == [FacetEntry(value: "Spotify", count: 2)])
        // Failing a facet-less constraint counts nowhere.
        let none = FacetSummary.compute(over: stored, filter: EventFilter(userID: "nobody", genres: ["pop"]))
        #expect(none.matching == 0 && Facet.allCases.allSatisfy { none.entries($0).isEmpty })
    }

    @Test func booleanFacetsIgnoreTheirOwnConstraintOnly() {
        var done = sampleEvent()  // completed
        done.listenPosition = done.duration
        var skip = sampleEvent()
        skip.listenPosition = 1
        let stored = window([done, skip, skip]).newestFirst()
        let s = FacetSummary.compute(over: stored, filter: EventFilter(skipped: true))
        #expect(s.matching == 2)
        #expect(s.entries(.skipped) == [FacetEntry(value: "true", count: 2), FacetEntry(value: "false", count: 1)])
        #expect(s.entries(.completed) == [FacetEntry(value: "false", count: 2)])
        // Contradictory: nothing matches, but each boolean facet shows what the other allows.
        let c = FacetSummary.compute(over: stored, filter: EventFilter(skipped: true, completed: true))
        #expect(c.matching == 0)
        #expect(c.entries(.skipped) == [FacetEntry(value: "false", count: 1)])
        #expect(c.entries(.completed) == [FacetEntry(value: "false", count: 2)])
    }

    @Test func addOnlyTouchesOneFacet() {
        var counts = FacetCounts()
        let e = sampleEvent()
        counts.add(e, only: .mood)
        #expect(counts.total == 0)
        #expect(counts.entries(.mood) == [FacetEntry(value: "Melancholic", count: 1)])
        for facet in Facet.allCases where facet != .mood { #expect(counts.entries(facet).isEmpty) }
        counts.add(e, only: .skipped)
        #expect(counts.entries(.skipped) == [FacetEntry(value: "false", count: 1)])
        #expect(counts.entries(.completed).isEmpty)
    }
}
