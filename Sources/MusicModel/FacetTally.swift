/// Facet counts over part of a window, kept by value id: a filtered facet scan adds to arrays
/// instead of hashing strings, and names the values once at the end. Ids come from the window's
/// `FacetCounts`, which must not change while the tally is in use (one request on the loop thread).
struct FacetTally {
    private var genres: [Int]
    private var platforms: [Int]
    private var moods: [Int]
    private var countries: [Int]
    private var artists: [Int]
    private var ratings = [Int](repeating: 0, count: 6)
    private var skippedCounts = (0, 0)
    private var completedCounts = (0, 0)

    init(sizedFor counts: FacetCounts) {
        genres = [Int](repeating: 0, count: counts.genres.idLimit)
        platforms = [Int](repeating: 0, count: counts.platforms.idLimit)
        moods = [Int](repeating: 0, count: counts.moods.idLimit)
        countries = [Int](repeating: 0, count: counts.countries.idLimit)
        artists = [Int](repeating: 0, count: counts.artists.idLimit)
    }

    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>, keys: FacetKeys) {
        genres[Int(keys.genre)] += 1
        platforms[Int(keys.platform)] += 1
        moods[Int(keys.mood)] += 1
        countries[Int(keys.country)] += 1
        artists[Int(keys.artist)] += 1
        ratings[FacetCounts.ratingIndex(event.pointee.rating)] += 1
        if ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration) {
            completedCounts.1 += 1
            skippedCounts.0 += 1
        } else {
            completedCounts.0 += 1
            skippedCounts.1 += 1
        }
    }

    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>, keys: FacetKeys, only facet: Facet) {
        switch facet {
        case .genre: genres[Int(keys.genre)] += 1
        case .platform: platforms[Int(keys.platform)] += 1
        case .mood: moods[Int(keys.mood)] += 1
        case .country: countries[Int(keys.country)] += 1
        case .artist: artists[Int(keys.artist)] += 1
        case .rating: ratings[FacetCounts.ratingIndex(event.pointee.rating)] += 1
        case .skipped, .completed:
            let done = ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration)
            if facet == .completed {
                if done { completedCounts.1 += 1 } else { completedCounts.0 += 1 }
            } else {
                if done { skippedCounts.0 += 1 } else { skippedCounts.1 += 1 }
            }
        }
    }

    /// Ranked like `FacetCounts.entries`, with values named from the tables the ids came from.
    func entries(_ facet: Facet, names counts: FacetCounts) -> [FacetEntry] {
        func named(_ tally: [Int], _ table: ValueTable) -> [FacetEntry] {
            var result: [FacetEntry] = []
            for (id, count) in tally.enumerated() where count > 0 {
                result.append(FacetEntry(value: table.values[id], count: count))
            }
            return FacetEntry.ranked(result)
        }
        switch facet {
        case .genre: return named(genres, counts.genres)
        case .platform: return named(platforms, counts.platforms)
        case .mood: return named(moods, counts.moods)
        case .country: return named(countries, counts.countries)
        case .artist: return named(artists, counts.artists)
        case .rating: return FacetEntry.ranked(ratings: ratings)
        case .completed: return FacetEntry.ranked(falseCount: completedCounts.0, trueCount: completedCounts.1)
        case .skipped: return FacetEntry.ranked(falseCount: skippedCounts.0, trueCount: skippedCounts.1)
        }
    }
}
