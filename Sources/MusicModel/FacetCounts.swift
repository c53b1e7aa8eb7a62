/// Counts per facet value, updated incrementally as events enter and leave the window,
/// so facet queries never rescan the window.
public struct FacetCounts: Sendable {
    private var genres: [String: Int] = [:]
    private var platforms: [String: Int] = [:]
    private var moods: [String: Int] = [:]
    private var countries: [String: Int] = [:]
    private var artists: [String: Int] = [:]
    private var ratings = [Int](repeating: 0, count: 6)
    private var completedCount = 0
    /// Number of events currently counted.
    public private(set) var total = 0

    public init() {}

    public mutating func add(_ event: ListenEvent) {
        genres[event.genre, default: 0] += 1
        platforms[event.platform, default: 0] += 1
        moods[event.mood, default: 0] += 1
        countries[event.country, default: 0] += 1
        artists[event.artist, default: 0] += 1
        ratings[Self.ratingIndex(event.rating)] += 1
        if event.completed { completedCount += 1 }
        total += 1
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
        if event.completed && completedCount > 0 { completedCount -= 1 }
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
            let trueCount = facet == .completed ? completedCount : total - completedCount
            result = []
            if trueCount > 0 { result.append(FacetEntry(value: "true", count: trueCount)) }
            if total - trueCount > 0 { result.append(FacetEntry(value: "false", count: total - trueCount)) }
        }
        result.sort { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
        return result
    }

    private static func entries(_ counts: [String: Int]) -> [FacetEntry] {
        counts.map { FacetEntry(value: $0.key, count: $0.value) }
    }
}
