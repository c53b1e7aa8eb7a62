/// Facet counts over part of a window, kept by value id: a filtered facet scan adds to arrays
/// instead of hashing strings, and names the values once at the end. Ids come from the window's
/// `FacetCounts`, which must not change while the tally is in use (one request on the loop thread).
struct FacetTally {
    private var genres: [Int]
    private var platforms: [Int]
    private var moods: [Int]
    private var countries: [Int]
    private var artists: [Int]
    private var scalars = ScalarFacetCounts()

    init(sizedFor counts: FacetCounts) {
        genres = [Int](repeating: 0, count: counts.genres.idLimit)
        platforms = [Int](repeating: 0, count: counts.platforms.idLimit)
        moods = [Int](repeating: 0, count: counts.moods.idLimit)
        countries = [Int](repeating: 0, count: counts.countries.idLimit)
        artists = [Int](repeating: 0, count: counts.artists.idLimit)
    }

    @inline(__always)
    mutating func add(_ slot: UnsafePointer<WindowSlot>) {
        let keys = slot.pointee.facetKeys
        genres[Int(keys.genre)] += 1
        platforms[Int(keys.platform)] += 1
        moods[Int(keys.mood)] += 1
        countries[Int(keys.country)] += 1
        artists[Int(keys.artist)] += 1
        scalars.add(rating: Int(slot.pointee.rating), completed: slot.pointee.isCompleted)
    }

    @inline(__always)
    mutating func add(_ slot: UnsafePointer<WindowSlot>, only facet: Facet) {
        let keys = slot.pointee.facetKeys
        switch facet {
        case .genre: genres[Int(keys.genre)] += 1
        case .platform: platforms[Int(keys.platform)] += 1
        case .mood: moods[Int(keys.mood)] += 1
        case .country: countries[Int(keys.country)] += 1
        case .artist: artists[Int(keys.artist)] += 1
        case .rating, .skipped, .completed:
            scalars.add(rating: Int(slot.pointee.rating), completed: slot.pointee.isCompleted, only: facet)
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
        case .rating, .skipped, .completed: return scalars.entries(facet)
        }
    }
}
