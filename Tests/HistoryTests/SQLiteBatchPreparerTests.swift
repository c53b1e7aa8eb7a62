import MusicModel
import Testing
@testable import History

/// Batches prepared on another thread (`SQLiteBatchPreparer`: ids known from earlier commits,
/// roll-up changes counted ahead) store exactly what plain writes store, duplicates and
/// failed batches included.
@Suite struct SQLiteBatchPreparerTests {
    /// Every stored listen, and the aggregates the roll-ups and blocks answer.
    private static func contents(_ store: SQLiteHistoryStore) throws -> (listens: [ListenEvent], facets: [Facet: [String: Int]], count: Int) {
        let reader = try store.openReader()
        let listens = try walk(reader, .oldestFirst, limit: 1_000).listens
        let all = EventFilter(since: 0)
        return (listens, SQLiteAggregateTests.tallies(try reader.facets(matching: all)), try reader.count(matching: all))
    }

    @Test func preparedBatchesStoreWhatPlainWritesStore() throws {
        // New values keep arriving (each batch's users and tracks), and batches overlap, so
        // some records are stored already when they come again.
        let events = listens(3_000, seed: 41)
        var batches: [[ListenEvent]] = []
        var start = 0
        while start < events.count {
            let end = min(start + 400, events.count)
            batches.append(Array(events[max(0, start - 50)..<end]))
            start = end
        }
        try withStore { plain in
            try withStore { prepared in
                let plainWriter = try plain.openWriter()
                let writer = try prepared.openWriter()
                let preparer = try #require(writer.makePreparer())
                for (index, batch) in batches.enumerated() {
                    let expected = try plainWriter.write(records(batch), topic: "t", nextOffsets: [0: Int64(index)])
                    let added = try writer.write(preparer.prepare(records(batch)), topic: "t", nextOffsets: [0: Int64(index)])
                    #expect(added == expected)
                }
                let a = try Self.contents(plain)
                let b = try Self.contents(prepared)
                #expect(b.count == events.count)
                #expect(b.listens == a.listens)
                #expect(b.facets == a.facets)
                #expect(b.count == a.count)
                #expect(try writer.nextOffsets(topic: "t") == [0: Int64(batches.count - 1)])
            }
        }
    }

    @Test func aFailedPreparedBatchLeavesNoIDBehind() throws {
        try withStore { store in
            let writer = try store.openWriter()
            let preparer = try #require(writer.makePreparer())
            let first = listens(100, seed: 42)
            #expect(try writer.write(preparer.prepare(records(first)), topic: "t", nextOffsets: [:]) == 100)

            // New texts, then a record breaking a CHECK: the batch rolls back, its new ids with it.
            var failing = listens(100, seed: 43)
            failing[99].rating = 9
            #expect(throws: HistoryError.self) {
                try writer.write(preparer.prepare(records(failing)), topic: "t", nextOffsets: [:])
            }
            // Other new texts take those ids; then the failed batch's texts, prepared again.
            let other = listens(100, seed: 44)
            #expect(try writer.write(preparer.prepare(records(other)), topic: "t", nextOffsets: [:]) == 100)
            failing[99].rating = 3
            #expect(try writer.write(preparer.prepare(records(failing)), topic: "t", nextOffsets: [:]) == 100)
            // Prepared again once their ids are known on the preparing side: all skipped.
            #expect(try writer.write(preparer.prepare(records(first + other)), topic: "t", nextOffsets: [:]) == 0)

            let stored = try Self.contents(store)
            let expected = (first + other + failing).sorted { ($0.timestamp, $0.eventID) < ($1.timestamp, $1.eventID) }
            #expect(stored.listens == expected)
            #expect(stored.facets == SQLiteAggregateTests.tallies(FacetSummary.compute(overListens: expected, filter: EventFilter())))
        }
    }
}
