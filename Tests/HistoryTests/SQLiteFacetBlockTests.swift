import Testing
import MusicModel
@testable import History

/// `facet_blocks` hold exactly the stored listens however they were written and deleted: many
/// small batches into one minute (blocks extended, then new ones started), duplicates skipped,
/// retention stopping part-way through a minute and a millisecond.
@Suite struct SQLiteFacetBlockTests {
    /// Packed rows in the file, and blocks, counted directly.
    private static func blockFigures(_ store: SQLiteHistoryStore) throws -> (rows: Int, blocks: Int, largest: Int) {
        let statement = try rawConnection(store, readOnly: true).prepare(
            "SELECT COALESCE(SUM(length(rows)), 0), COUNT(*), COALESCE(MAX(length(rows)), 0) FROM facet_blocks",
            doing: "counting facet blocks")
        defer { statement.reset() }
        guard try statement.step() else { return (0, 0, 0) }
        return (statement.int(at: 0) / SQLiteFacetRow.packedSize, statement.int(at: 1), statement.int(at: 2))
    }

    /// Filters the blocks answer (facet criteria and ranges only), checked against the window's code.
    private static func checkFacets(_ store: SQLiteHistoryStore, _ events: [ListenEvent]) throws {
        let reader = try store.openReader()
        let first = events[0]
        let filters = [
            EventFilter(),
            EventFilter(genres: [first.genre]),
            EventFilter(genres: [first.genre], countries: [first.country]),
            EventFilter(minRating: 3, skipped: true),
            EventFilter(artist: String(first.artist.prefix(3)), since: events[events.count / 2].timestamp),
        ]
        for filter in filters {
            let expected = FacetSummary.compute(overListens: events, filter: filter)
            let facets = try reader.facets(matching: filter)
            #expect(facets.matching == expected.matching, "matching in \(filter)")
            #expect(SQLiteAggregateTests.tallies(facets) == SQLiteAggregateTests.tallies(expected), "facets in \(filter)")
            #expect(try reader.count(matching: filter) == expected.matching, "count in \(filter)")
        }
    }

    @Test func smallBatchesIntoOneMinuteFillBlocksAndStartNewOnes() throws {
        try withStore { store in
            var events = listens(6_000, seed: 31)
            for i in events.indices { events[i].timestamp = baseTime + Int64(i % 59_000) }
            let writer = try store.openWriter()
            var start = 0
            while start < events.count {
                let end = min(start + 97, events.count)
                _ = try writer.write(records(Array(events[start..<end]), firstOffset: Int64(start)), topic: "t", nextOffsets: [:])
                start = end
            }
            // Written again: skipped by the unique guard, and so not packed twice.
            #expect(try writer.write(records(Array(events[0..<500])), topic: "t", nextOffsets: [:]) == 0)
            let figures = try Self.blockFigures(store)
            #expect(figures.rows == events.count)
            #expect(figures.blocks == (events.count + 2_729) / 2_730)
            #expect(figures.largest <= SQLiteFacetBlocks.blockBytes)
            try Self.checkFacets(store, events)
        }
    }

    @Test func retentionPartWayThroughAMinuteTakesExactlyItsListens() throws {
        try withStore { store in
            // ~5 listens a millisecond over three minutes.
            var events = listens(3_000, seed: 32)
            for i in events.indices { events[i].timestamp = baseTime + Int64(i / 5) * 60 }
            let writer = try store.openWriter()
            _ = try writer.write(records(events), topic: "t", nextOffsets: [:])
            let cut = events[1_503].timestamp
            // Small rounds: the first ones stop inside a minute and inside a millisecond.
            var removed = 0
            while true {
                let round = try writer.deleteListens(before: cut, limit: 333)
                if round == 0 { break }
                removed += round
                // Which listens of the cut's millisecond went is SQLite's choice: the rows left
                // are the truth the blocks must agree with.
                let kept = try walk(try store.openReader(), .oldestFirst, limit: 1_000).listens
                #expect(kept.count == events.count - removed)
                #expect(try Self.blockFigures(store).rows == kept.count)
                try Self.checkFacets(store, kept)
            }
            #expect(removed == 1_500)
        }
    }
}
