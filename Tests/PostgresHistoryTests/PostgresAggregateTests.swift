import Testing
@testable import History
import MusicModel

/// PostgreSQL's SQL aggregates against the window's own code over the same listens: for many
/// random filters, `count`, `facets` and `timeline` must equal what `EventFilter.matches` and
/// `FacetSummary.compute` say. The listens carry the text corners where SQL and Swift could
/// differ (case, non-ASCII case, canonically equivalent spellings, combining marks).
@Suite struct PostgresAggregateTests {
    static let variants = [
        "Pop", "POP", "pop", "Café", "Cafe\u{301}", "CAFÉ", "cafe", "Zürich", "ZÜRICH", "zurich",
        "\u{212A}ilo", "kilo", "semi\u{037E}colon", "semi;colon", "Ab", "aB c", "quote\"back\\slash", "{braces,comma}",
    ]

    struct Dataset: Sendable {
        var store: PostgresHistoryStore
        var events: [ListenEvent]
    }

    /// 1,200 listens over three days, a sixth of their text fields replaced by a variant.
    static let dataset = Result { () throws -> Dataset in
        let (_, store) = try Fixtures.freshStore()
        var random = SplitMix(seed: 11)
        var records = Fixtures.records(count: 1_200, days: 3, seed: 5)
        for i in records.indices {
            for field in [\ListenEvent.genre, \.platform, \.mood, \.country, \.artist, \.title, \.username]
            where random.below(6) == 0 {
                records[i].event[keyPath: field] = variants[random.below(variants.count)]
            }
        }
        _ = try store.openWriter().write(records, topic: Fixtures.topic, nextOffsets: [:])
        return Dataset(store: store, events: records.map(\.event))
    }

    /// A random filter over the listens' own values and the variants, in random case.
    static func filter(_ random: inout SplitMix, _ events: [ListenEvent]) -> EventFilter {
        func value(_ field: KeyPath<ListenEvent, String>) -> String {
            let text = random.below(3) == 0 ? variants[random.below(variants.count)] : events[random.below(events.count)][keyPath: field]
            switch random.below(4) {
            case 0: return text.lowercased()
            case 1: return text.uppercased()
            case 2:
                let characters = Array(text)
                guard characters.count > 2 else { return text }
                let start = random.below(characters.count - 1)
                return String(characters[start..<min(characters.count, start + 1 + random.below(4))])
            default: return text
            }
        }
        var filter = EventFilter()
        if random.below(3) == 0 { filter.genres = (0...random.below(2)).map { _ in value(\.genre) } }
        if random.below(3) == 0 { filter.platforms = [value(\.platform)] }
        if random.below(4) == 0 { filter.moods = [value(\.mood)] }
        if random.below(4) == 0 { filter.countries = (0...random.below(2)).map { _ in value(\.country) } }
        if random.below(4) == 0 { filter.artist = value(\.artist) }
        if random.below(5) == 0 { filter.q = value(\.title) }
        if random.below(10) == 0 { filter.userID = events[random.below(events.count)].userID }
        if random.below(12) == 0 { filter.trackID = events[random.below(events.count)].trackID }
        if random.below(3) == 0 { filter.minRating = random.below(6) }
        if random.below(5) == 0 { filter.skipped = random.below(2) == 0 }
        if random.below(5) == 0 { filter.completed = random.below(2) == 0 }
        if random.below(3) == 0 { filter.since = events[random.below(events.count)].timestamp }
        if random.below(4) == 0 { filter.until = events[random.below(events.count)].timestamp + 1 }
        return filter
    }

    static func tallies(_ summary: FacetSummary) -> [Facet: [String: Int]] {
        var result: [Facet: [String: Int]] = [:]
        for facet in Facet.allCases {
            result[facet] = Dictionary(summary.entries(facet).map { ($0.value, $0.count) }, uniquingKeysWith: +)
        }
        return result
    }

    @Test func sqlAggregatesEqualTheWindowsCode() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        var random = SplitMix(seed: 3)
        for round in 0..<200 {
            let filter = round == 0 ? EventFilter() : Self.filter(&random, data.events)
            let matching = data.events.filter { filter.matches($0) }
            #expect(try reader.count(matching: filter) == matching.count, "count under \(filter)")
            let expected = FacetSummary.compute(overListens: data.events, filter: filter)
            let facets = try reader.facets(matching: filter)
            #expect(facets.matching == expected.matching, "matching under \(filter)")
            #expect(Self.tallies(facets) == Self.tallies(expected), "facets under \(filter)")
            let bucket = [1_000, 60_000, 3_600_000, 86_400_000][round % 4] as Int64
            var timeline: [Int64: [Int]] = [:]
            for event in matching {
                let start = Timeline.bucketStart(event.timestamp, bucket)!
                timeline[start, default: [0, 0]][0] += 1
                if event.skipped { timeline[start, default: [0, 0]][1] += 1 }
            }
            #expect(try reader.timeline(matching: filter, bucketMilliseconds: bucket).mapValues { [$0.count, $0.skipped] }
                == timeline, "timeline under \(filter)")
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

/// A seeded generator, so a failing round can be run again.
struct SplitMix {
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
