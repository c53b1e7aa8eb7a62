import MusicModel
import Testing
@testable import History
import HistoryTesting

/// The SQL aggregates against the window's own code over the same listens: for many random
/// filters, `count`, `facets` and `timeline` must equal what `EventFilter.matches` and
/// `FacetSummary.compute` say. The listens carry the text corners where SQL and Swift could
/// differ (case, non-ASCII case, canonically equivalent spellings, combining marks), so a
/// semantic slip in `SQLiteFilter` or `SQLiteTextLookup` shows up as a difference.
@Suite struct SQLiteAggregateTests {
    static let events: [ListenEvent] = {
        var dice = Dice(seed: 99)
        var events = listens(1_500, seed: 3, perTimestamp: 2)
        AggregateOracle.sprinkleVariants(&events, dice: &dice)
        return events
    }()

    static func tallies(_ summary: FacetSummary) -> [Facet: [String: Int]] { AggregateOracle.tallies(summary) }

    static func comparable(_ counts: [Int64: (count: Int, skipped: Int)]) -> [Int64: [Int]] {
        AggregateOracle.comparable(counts)
    }

    /// Every aggregate of `reader` against the Swift oracle, over `rounds` random filters.
    static func check(_ reader: any HistoryReader, rounds: Int, seed: UInt64) throws {
        var dice = Dice(seed: seed)
        for round in 0..<rounds {
            let filter = round == 0 ? EventFilter() : AggregateOracle.filter(&dice, over: events)
            let matching = events.filter { filter.matches($0) }
            #expect(try reader.count(matching: filter) == matching.count, "count under \(filter)")
            let expected = FacetSummary.compute(overListens: events, filter: filter)
            let facets = try reader.facets(matching: filter)
            #expect(facets.matching == expected.matching, "matching under \(filter)")
            #expect(tallies(facets) == tallies(expected), "facets under \(filter)")
            let bucket = [1_000, 60_000, 3_600_000, 86_400_000][round % 4] as Int64
            #expect(comparable(try reader.timeline(matching: filter, bucketMilliseconds: bucket))
                == AggregateOracle.timeline(events, filter, bucket: bucket), "timeline under \(filter)")
        }
    }

    @Test func sqlAggregatesEqualTheWindowsCode() throws {
        try withStore { store in
            let writer = try store.openWriter()
            _ = try writer.write(records(Self.events), topic: "t", nextOffsets: [:])
            try Self.check(try store.openReader(), rounds: 300, seed: 1)
        }
    }

    @Test func theDefaultScanningAggregatesAgreeToo() throws {
        try withStore { store in
            let writer = try store.openWriter()
            _ = try writer.write(records(Self.events), topic: "t", nextOffsets: [:])
            try Self.check(ListensOnlyReader(base: try store.openReader()), rounds: 60, seed: 2)
        }
    }

    /// A reader keeps what each criterion accepted and looks only at values added since: a
    /// value first written after the reader's first answer is still matched (or refused).
    @Test func aReaderMatchesValuesWrittenAfterItsFirstAnswer() throws {
        try withStore { store in
            let writer = try store.openWriter()
            var first = Self.events[0], second = Self.events[1], third = Self.events[2]
            first.genre = "Pop"
            second.genre = "PÖP"
            third.genre = "Cafe\u{301}"
            _ = try writer.write(records([first]), topic: "t", nextOffsets: [:])
            let reader = try store.openReader()
            #expect(try reader.count(matching: EventFilter(genres: ["pop", "café"])) == 1)
            #expect(try reader.count(matching: EventFilter(q: "zzz")) == 0)
            _ = try writer.write(records([second, third], firstOffset: 10), topic: "t", nextOffsets: [:])
            // "Café" equals the decomposed spelling as Swift compares; "PÖP" is not "pop".
            #expect(try reader.count(matching: EventFilter(genres: ["pop", "café"])) == 2)
            #expect(try reader.facets(matching: EventFilter(genres: ["pöp"])).matching == 1)
        }
    }

    /// Every text comes back byte for byte as written, though Swift's String equality would
    /// call "Café" and "Cafe\u{301}" one value (a dictionary keyed by String would merge them).
    @Test func textComesBackByteForByte() throws {
        try withStore { store in
            _ = try store.openWriter().write(records(Self.events), topic: "t", nextOffsets: [:])
            let stored = try walk(try store.openReader(), .oldestFirst, limit: 500).listens
            let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.eventID, $0) })
            let fields: [KeyPath<ListenEvent, String>] = [\.genre, \.platform, \.mood, \.country, \.artist, \.title, \.username]
            #expect(byID.count == Self.events.count)
            for event in Self.events {
                for field in fields {
                    #expect(byID[event.eventID].map { Array($0[keyPath: field].utf8) } == Array(event[keyPath: field].utf8))
                }
            }
        }
    }

    /// Past its deadline a query is abandoned (the pool has answered 503 by then), and the
    /// reader works again once the limit is lifted.
    @Test func aQueryPastItsDeadlineIsInterrupted() throws {
        try withStore { store in
            _ = try store.openWriter().write(records(Self.events), topic: "t", nextOffsets: [:])
            let reader = try store.openReader()
            reader.limitQueries(until: ContinuousClock.now - .seconds(1))
            #expect {
                _ = try reader.facets(matching: EventFilter(genres: ["pop"]))
            } throws: { error in
                (error as? HistoryError)?.isUnavailable == true
            }
            reader.limitQueries(until: ContinuousClock.now + .seconds(60))
            #expect(try reader.count(matching: EventFilter()) == Self.events.count)
            reader.limitQueries(until: nil)
            #expect(try reader.count(matching: EventFilter()) == Self.events.count)
        }
    }

    @Test func anEmptyRangeCountsNothing() throws {
        try withStore { store in
            _ = try store.openWriter().write(records(Self.events), topic: "t", nextOffsets: [:])
            let reader = try store.openReader()
            let filter = EventFilter(since: baseTime + 10, until: baseTime + 10)
            #expect(try reader.count(matching: filter) == 0)
            #expect(try reader.facets(matching: filter).matching == 0)
            #expect(try reader.timeline(matching: filter, bucketMilliseconds: 1_000).isEmpty)
        }
    }
}

/// A reader that implements only the protocol's original requirements, so the aggregates are
/// the protocol's default ones (what a store without its own SQL, e.g. PostgreSQL today, runs).
final class ListensOnlyReader: HistoryReader {
    let base: any HistoryReader
    init(base: any HistoryReader) { self.base = base }

    func listens(
        matching filter: EventFilter, order: HistoryOrder, after cursor: HistoryCursor?, limit: Int, scanLimit: Int
    ) throws(HistoryError) -> HistoryPage {
        // A small scan limit, so the default's paging (and sparse pages) is exercised.
        try base.listens(matching: filter, order: order, after: cursor, limit: min(limit, 97), scanLimit: 113)
    }

    func userSummary(userID: String, since: Int64?, until: Int64?, top: Int) throws(HistoryError) -> UserSummary? {
        try base.userSummary(userID: userID, since: since, until: until, top: top)
    }

    func extent() throws(HistoryError) -> HistoryExtent { try base.extent() }

    func listens(of log: String, in ranges: [Int32: ClosedRange<Int64>], limit: Int) throws(HistoryError) -> [HistoryRecord]? {
        try base.listens(of: log, in: ranges, limit: limit)
    }
}
