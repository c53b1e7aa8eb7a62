import MusicModel
import Testing
@testable import History

/// The SQL aggregates against the window's own code over the same listens: for many random
/// filters, `count`, `facets` and `timeline` must equal what `EventFilter.matches` and
/// `FacetSummary.compute` say. The listens carry the text corners where SQL and Swift could
/// differ (case, non-ASCII case, canonically equivalent spellings, combining marks), so a
/// semantic slip in `SQLiteFilter` or `SQLiteTextLookup` shows up as a difference.
@Suite struct SQLiteAggregateTests {
    /// Spellings SQL must not decide on its own: precomposed and decomposed é, non-ASCII case,
    /// the Kelvin sign (lowercases to ASCII k), a Greek question mark (canonically ";").
    static let variants = [
        "Pop", "POP", "pop", "Café", "Cafe\u{301}", "CAFÉ", "cafe", "Zürich", "ZÜRICH", "zurich",
        "\u{212A}ilo", "kilo", "semi\u{037E}colon", "semi;colon", "Ab", "aB c",
    ]

    static let events: [ListenEvent] = {
        var rng = Dice(seed: 99)
        var events = listens(1_500, seed: 3, perTimestamp: 2)
        for i in events.indices {
            func maybe(_ field: WritableKeyPath<ListenEvent, String>) {
                if rng.below(6) == 0 { events[i][keyPath: field] = variants[rng.below(variants.count)] }
            }
            maybe(\.genre)
            maybe(\.platform)
            maybe(\.mood)
            maybe(\.country)
            maybe(\.artist)
            maybe(\.title)
            maybe(\.username)
        }
        return events
    }()

    /// A random filter over the listens' own values and the variants, in random case.
    static func filter(_ rng: inout Dice) -> EventFilter {
        func value(_ field: KeyPath<ListenEvent, String>) -> String {
            let text = rng.below(3) == 0 ? variants[rng.below(variants.count)] : events[rng.below(events.count)][keyPath: field]
            switch rng.below(4) {
            case 0: return text.lowercased()
            case 1: return text.uppercased()
            case 2:
                let characters = Array(text)
                guard characters.count > 2 else { return text }
                let start = rng.below(characters.count - 1)
                return String(characters[start..<min(characters.count, start + 1 + rng.below(4))])
            default: return text
            }
        }
        func some() -> Bool { rng.below(3) == 0 }
        var filter = EventFilter()
        if some() { filter.genres = (0...rng.below(2)).map { _ in value(\.genre) } }
        if some() { filter.platforms = (0...rng.below(2)).map { _ in value(\.platform) } }
        if rng.below(4) == 0 { filter.moods = [value(\.mood)] }
        if rng.below(4) == 0 { filter.countries = (0...rng.below(2)).map { _ in value(\.country) } }
        if rng.below(4) == 0 { filter.artist = value(\.artist) }
        if rng.below(5) == 0 { filter.q = value(\.title) }
        if rng.below(10) == 0 { filter.userID = events[rng.below(events.count)].userID }
        if rng.below(12) == 0 { filter.trackID = events[rng.below(events.count)].trackID }
        if some() { filter.minRating = rng.below(6) }
        if rng.below(5) == 0 { filter.skipped = rng.below(2) == 0 }
        if rng.below(5) == 0 { filter.completed = rng.below(2) == 0 }
        if some() { filter.since = events[rng.below(events.count)].timestamp }
        if rng.below(4) == 0 { filter.until = events[rng.below(events.count)].timestamp + 1 }
        return filter
    }

    /// Facet counts as comparable dictionaries (keyed by Swift's String equality, as the window counts).
    static func tallies(_ summary: FacetSummary) -> [Facet: [String: Int]] {
        var result: [Facet: [String: Int]] = [:]
        for facet in Facet.allCases {
            result[facet] = Dictionary(summary.entries(facet).map { ($0.value, $0.count) }, uniquingKeysWith: +)
        }
        return result
    }

    static func expectedTimeline(_ filter: EventFilter, bucket: Int64) -> [Int64: [Int]] {
        var counts: [Int64: [Int]] = [:]
        for event in events where filter.matches(event) {
            let start = Timeline.bucketStart(event.timestamp, bucket)!
            counts[start, default: [0, 0]][0] += 1
            if event.skipped { counts[start, default: [0, 0]][1] += 1 }
        }
        return counts
    }

    static func comparable(_ counts: [Int64: (count: Int, skipped: Int)]) -> [Int64: [Int]] {
        counts.mapValues { [$0.count, $0.skipped] }
    }

    /// Every aggregate of `reader` against the Swift oracle, over `rounds` random filters.
    static func check(_ reader: any HistoryReader, rounds: Int, seed: UInt64) throws {
        var rng = Dice(seed: seed)
        for round in 0..<rounds {
            let filter = round == 0 ? EventFilter() : Self.filter(&rng)
            let matching = events.filter { filter.matches($0) }
            #expect(try reader.count(matching: filter) == matching.count, "count under \(filter)")
            let expected = FacetSummary.compute(overListens: events, filter: filter)
            let facets = try reader.facets(matching: filter)
            #expect(facets.matching == expected.matching, "matching under \(filter)")
            #expect(tallies(facets) == tallies(expected), "facets under \(filter)")
            let bucket = [1_000, 60_000, 3_600_000, 86_400_000][round % 4] as Int64
            #expect(comparable(try reader.timeline(matching: filter, bucketMilliseconds: bucket))
                == expectedTimeline(filter, bucket: bucket), "timeline under \(filter)")
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
}

/// A seeded generator for the tests (the model's own is internal to it): splitmix64.
struct Dice {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func below(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
