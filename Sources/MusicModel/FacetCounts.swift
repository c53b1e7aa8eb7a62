/// Counts per facet value, updated incrementally as events enter and leave the window,
/// so facet queries never rescan the window.
///
/// Each facet keeps its own tallies (including the two boolean facets), so a facet can also be
/// fed on its own with `add(_:only:)`: `FacetSummary` uses that to give every facet the counts
/// under the filter minus that facet's own constraint, all in one `FacetCounts`.
public struct FacetCounts: Sendable {
    private var genres: [String: Int] = [:]
    private var platforms: [String: Int] = [:]
    private var moods: [String: Int] = [:]
    private var countries: [String: Int] = [:]
    private var artists: [String: Int] = [:]
    private var ratings = [Int](repeating: 0, count: 6)
    // Index 0 counts `false`, index 1 `true`; separate per facet because `add(_:only:)` may
    // feed one without the other.
    private var skippedCounts = (0, 0)
    private var completedCounts = (0, 0)
    /// Number of events added whole with `add(_:)` (minus those removed); `add(_:only:)`
    /// does not change it.
    public private(set) var total = 0

    public init() {}

    public mutating func add(_ event: ListenEvent) {
        withUnsafePointer(to: event) { add(at: $0) }
    }

    /// Counts only `facet`'s value of the event; `total` is unchanged.
    public mutating func add(_ event: ListenEvent, only facet: Facet) {
        withUnsafePointer(to: event) { add(at: $0, only: facet) }
    }

    /// Reads the fields where the event lies (see `EventWindow.forEachStored`).
    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>) {
        genres[event.pointee.genre, default: 0] += 1
        platforms[event.pointee.platform, default: 0] += 1
        moods[event.pointee.mood, default: 0] += 1
        countries[event.pointee.country, default: 0] += 1
        artists[event.pointee.artist, default: 0] += 1
        ratings[Self.ratingIndex(event.pointee.rating)] += 1
        if ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration) {
            completedCounts.1 += 1
            skippedCounts.0 += 1
        } else {
            completedCounts.0 += 1
            skippedCounts.1 += 1
        }
        total += 1
    }

    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>, only facet: Facet) {
        switch facet {
        case .genre: genres[event.pointee.genre, default: 0] += 1
        case .platform: platforms[event.pointee.platform, default: 0] += 1
        case .mood: moods[event.pointee.mood, default: 0] += 1
        case .country: countries[event.pointee.country, default: 0] += 1
        case .artist: artists[event.pointee.artist, default: 0] += 1
        case .rating: ratings[Self.ratingIndex(event.pointee.rating)] += 1
        case .skipped, .completed:
            let done = ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration)
            if facet == .completed {
                if done { completedCounts.1 += 1 } else { completedCounts.0 += 1 }
            } else {
                if done { skippedCounts.0 += 1 } else { skippedCounts.1 += 1 }
            }
        }
    }

    /// Values reaching zero disappear. Removing an event that was never added is ignored
    /// value by value rather than driving counts negative.
    public mutating func remove(_ event: ListenEvent) {
        guard total > 0 else { return }
        Self.decrement(&genres, event.genre)
        Self.decrement(&platforms, event.platform)
        Self.decrement(&moods, event.mood)
        Self.decrement(&countries, event.country)
        Self.decrement(&artists, event.artist)
        let r = Self.ratingIndex(event.rating)
        if ratings[r] > 0 { ratings[r] -= 1 }
        if event.completed {
            if completedCounts.1 > 0 { completedCounts.1 -= 1 }
            if skippedCounts.0 > 0 { skippedCounts.0 -= 1 }
        } else {
            if completedCounts.0 > 0 { completedCounts.0 -= 1 }
            if skippedCounts.1 > 0 { skippedCounts.1 -= 1 }
        }
        total -= 1
    }

    @inline(__always)
    private static func decrement(_ counts: inout [String: Int], _ key: String) {
        guard let index = counts.index(forKey: key) else { return }
        if counts.values[index] <= 1 {
            counts.remove(at: index)
        } else {
            counts.values[index] -= 1
        }
    }

    @inline(__always)
    private static func ratingIndex(_ rating: Int) -> Int {
        min(5, max(0, rating))
    }

    /// Sorted by count descending, then value ascending; zero counts are omitted.
    public func entries(_ facet: Facet) -> [FacetEntry] {
        var result: [FacetEntry]
        switch facet {
        case .genre: result = Self.entries(genres)
        case .platform: result = Self.entries(platforms)
        case .mood: result = Self.entries(moods)
        case .country: result = Self.entries(countries)
        case .artist: result = Self.entries(artists)
        case .rating:
            result = []
            for (value, count) in ratings.enumerated() where count > 0 {
                result.append(FacetEntry(value: String(value), count: count))
            }
        case .skipped, .completed:
            let (falseCount, trueCount) = facet == .completed ? completedCounts : skippedCounts
            result = []
            if trueCount > 0 { result.append(FacetEntry(value: "true", count: trueCount)) }
            if falseCount > 0 { result.append(FacetEntry(value: "false", count: falseCount)) }
        }
        result.sort { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
        return result
    }

    private static func entries(_ counts: [String: Int]) -> [FacetEntry] {
        counts.map { FacetEntry(value: $0.key, count: $0.value) }
    }
}
