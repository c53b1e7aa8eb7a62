import Testing
@testable import History
import HistoryTesting
import MusicModel

/// PostgreSQL's SQL aggregates against the window's own code over the same listens: for many
/// random filters, `count`, `facets` and `timeline` must equal what `EventFilter.matches` and
/// `FacetSummary.compute` say. The listens carry the text corners where SQL and Swift could
/// differ (case, non-ASCII case, canonically equivalent spellings, combining marks).
@Suite struct PostgresAggregateTests {
    struct Dataset: Sendable {
        var store: PostgresHistoryStore
        var events: [ListenEvent]
    }

    /// 1,200 listens over three days, a sixth of their text fields replaced by a variant.
    static let dataset = Result { () throws -> Dataset in
        let (_, store) = try Fixtures.freshStore()
        var dice = Dice(seed: 11)
        var records = Fixtures.records(count: 1_200, days: 3, seed: 5)
        var events = records.map(\.event)
        AggregateOracle.sprinkleVariants(&events, dice: &dice)
        for i in records.indices { records[i].event = events[i] }
        _ = try store.openWriter().write(records, topic: Fixtures.topic, nextOffsets: [:])
        return Dataset(store: store, events: records.map(\.event))
    }

    @Test func sqlAggregatesEqualTheWindowsCode() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        var dice = Dice(seed: 3)
        for round in 0..<200 {
            let filter = round == 0 ? EventFilter() : AggregateOracle.filter(&dice, over: data.events)
            let matching = data.events.filter { filter.matches($0) }
            #expect(try reader.count(matching: filter) == matching.count, "count under \(filter)")
            let expected = FacetSummary.compute(overListens: data.events, filter: filter)
            let facets = try reader.facets(matching: filter)
            #expect(facets.matching == expected.matching, "matching under \(filter)")
            #expect(AggregateOracle.tallies(facets) == AggregateOracle.tallies(expected), "facets under \(filter)")
            let bucket = [1_000, 60_000, 3_600_000, 86_400_000][round % 4] as Int64
            #expect(AggregateOracle.comparable(try reader.timeline(matching: filter, bucketMilliseconds: bucket))
                == AggregateOracle.timeline(data.events, filter, bucket: bucket), "timeline under \(filter)")
        }
    }

    /// The values a criterion accepts are read when it is asked: a value first written after
    /// the reader's first answer is matched too.
    @Test func valuesWrittenAfterAReadersFirstAnswerAreMatched() throws {
        let (_, store) = try Fixtures.freshStore()
        var records = Fixtures.records(count: 3, days: 1, seed: 8)
        records[0].event.genre = "Pop"
        records[1].event.genre = "PÖP"
        records[2].event.genre = "Cafe\u{301}"
        let writer = try store.openWriter()
        _ = try writer.write([records[0]], topic: Fixtures.topic, nextOffsets: [:])
        let reader = try store.openReader()
        #expect(try reader.count(matching: EventFilter(genres: ["pop", "café"])) == 1)
        _ = try writer.write(Array(records[1...]), topic: Fixtures.topic, nextOffsets: [:])
        #expect(try reader.count(matching: EventFilter(genres: ["pop", "café"])) == 2)
        #expect(try reader.facets(matching: EventFilter(genres: ["pöp"])).matching == 1)
    }

    /// Past the deadline an aggregate is refused (PostgreSQL would cancel a running one), and
    /// the reader answers again once the limit is lifted.
    @Test func anAggregatePastItsDeadlineFails() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        reader.limitQueries(until: .now - .seconds(1))
        #expect(throws: HistoryError.self) { try reader.facets(matching: EventFilter()) }
        reader.limitQueries(until: nil)
        #expect(try reader.count(matching: EventFilter()) == data.events.count)
    }
}
