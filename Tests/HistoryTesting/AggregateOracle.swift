import History
import MusicModel

/// What both stores' aggregate tests compare against: the window's own code (`EventFilter`,
/// `FacetSummary`) over the same listens, random filters over the text corners where SQL and
/// Swift could differ, and the answers in comparable form.
public enum AggregateOracle {
    /// Spellings SQL must not decide on its own: precomposed and decomposed é, non-ASCII case,
    /// the Kelvin sign (lowercases to ASCII k), a Greek question mark (canonically ";"), and
    /// characters with a meaning in SQL, JSON or PostgreSQL's array syntax.
    public static let variants = [
        "Pop", "POP", "pop", "Café", "Cafe\u{301}", "CAFÉ", "cafe", "Zürich", "ZÜRICH", "zurich",
        "\u{212A}ilo", "kilo", "semi\u{037E}colon", "semi;colon", "Ab", "aB c", "quote\"back\\slash", "{braces,comma}",
    ]

    /// Replaces about a sixth of the listens' filterable text fields by a variant.
    public static func sprinkleVariants(_ events: inout [ListenEvent], dice: inout Dice) {
        let fields: [WritableKeyPath<ListenEvent, String>] = [\.genre, \.platform, \.mood, \.country, \.artist, \.title, \.username]
        for i in events.indices {
            for field in fields where dice.below(6) == 0 {
                events[i][keyPath: field] = variants[dice.below(variants.count)]
            }
        }
    }

    /// A random filter over the listens' own values and the variants, in random case.
    public static func filter(_ dice: inout Dice, over events: [ListenEvent]) -> EventFilter {
        func value(_ field: KeyPath<ListenEvent, String>) -> String {
            let text = dice.below(3) == 0 ? variants[dice.below(variants.count)] : events[dice.below(events.count)][keyPath: field]
            switch dice.below(4) {
            case 0: return text.lowercased()
            case 1: return text.uppercased()
            case 2:
                let characters = Array(text)
                guard characters.count > 2 else { return text }
                let start = dice.below(characters.count - 1)
                return String(characters[start..<min(characters.count, start + 1 + dice.below(4))])
            default: return text
            }
        }
        func some() -> Bool { dice.below(3) == 0 }
        var filter = EventFilter()
        if some() { filter.genres = (0...dice.below(2)).map { _ in value(\.genre) } }
        if some() { filter.platforms = (0...dice.below(2)).map { _ in value(\.platform) } }
        if dice.below(4) == 0 { filter.moods = [value(\.mood)] }
        if dice.below(4) == 0 { filter.countries = (0...dice.below(2)).map { _ in value(\.country) } }
        if dice.below(4) == 0 { filter.artist = value(\.artist) }
        if dice.below(5) == 0 { filter.q = value(\.title) }
        if dice.below(10) == 0 { filter.userID = events[dice.below(events.count)].userID }
        if dice.below(12) == 0 { filter.trackID = events[dice.below(events.count)].trackID }
        if some() { filter.minRating = dice.below(6) }
        if dice.below(5) == 0 { filter.skipped = dice.below(2) == 0 }
        if dice.below(5) == 0 { filter.completed = dice.below(2) == 0 }
        if some() { filter.since = events[dice.below(events.count)].timestamp }
        if dice.below(4) == 0 { filter.until = events[dice.below(events.count)].timestamp + 1 }
        return filter
    }

    /// Facet counts as comparable dictionaries (keyed by Swift's String equality, as the window counts).
    public static func tallies(_ summary: FacetSummary) -> [Facet: [String: Int]] {
        var result: [Facet: [String: Int]] = [:]
        for facet in Facet.allCases {
            result[facet] = Dictionary(summary.entries(facet).map { ($0.value, $0.count) }, uniquingKeysWith: +)
        }
        return result
    }

    /// The timeline the window's code gives: per bucket start, [listens, skipped].
    public static func timeline(_ events: [ListenEvent], _ filter: EventFilter, bucket: Int64) -> [Int64: [Int]] {
        var counts: [Int64: [Int]] = [:]
        for event in events where filter.matches(event) {
            let start = Timeline.bucketStart(event.timestamp, bucket)!
            counts[start, default: [0, 0]][0] += 1
            if event.skipped { counts[start, default: [0, 0]][1] += 1 }
        }
        return counts
    }

    /// A store's timeline in the oracle's form.
    public static func comparable(_ counts: [Int64: (count: Int, skipped: Int)]) -> [Int64: [Int]] {
        counts.mapValues { [$0.count, $0.skipped] }
    }
}

extension AggregateOracle {
    /// Range-only filters over `events`' own times (whole hours, whole minutes, a millisecond
    /// either side, open ends), the ones roll-ups answer: what `reader` answers differently from
    /// the window's code, one line each; empty when every count, facet and timeline agrees.
    public static func rangeMismatches(
        _ reader: any HistoryReader, _ events: [ListenEvent], rounds: Int, seed: UInt64,
        buckets: [Int64] = [1_000, 60_000, 3_600_000, 86_400_000]
    ) throws -> [String] {
        var dice = Dice(seed: seed)
        let times = events.map(\.timestamp)
        func boundary() -> Int64? {
            switch dice.below(5) {
            case 0: return nil
            case 1: return times[dice.below(times.count)] / 3_600_000 * 3_600_000
            case 2: return times[dice.below(times.count)] / 60_000 * 60_000
            default: return times[dice.below(times.count)] + Int64(dice.below(3)) - 1
            }
        }
        var mismatches: [String] = []
        for _ in 0..<rounds {
            var since = boundary()
            var until = boundary()
            if let s = since, let u = until, s > u { (since, until) = (u, s) }
            let filter = EventFilter(since: since, until: until)
            let expected = FacetSummary.compute(overListens: events, filter: filter)
            let count = try reader.count(matching: filter)
            if count != expected.matching { mismatches.append("count \(count), expected \(expected.matching) in \(filter)") }
            let facets = try reader.facets(matching: filter)
            if facets.matching != expected.matching || tallies(facets) != tallies(expected) {
                mismatches.append("facets \(tallies(facets)), expected \(tallies(expected)) in \(filter)")
            }
            for bucket in buckets {
                let answer = comparable(try reader.timeline(matching: filter, bucketMilliseconds: bucket))
                let wanted = timeline(events, filter, bucket: bucket)
                if answer != wanted { mismatches.append("timeline of \(bucket) \(answer), expected \(wanted) in \(filter)") }
            }
        }
        return mismatches
    }
}
