/// A filter resolved against one window's value tables: each text constraint becomes a mask by
/// value id, computed once per request over the distinct values (a few dozen genres, a few
/// hundred artists) instead of once per event. Window scans then decide "genre=pop" with one
/// array lookup. Valid only while the window is unchanged, i.e. within one request on the loop
/// thread.
struct ResolvedFilter: TextConstraintTest {
    let filter: EventFilter
    private let genre: [Bool]
    private let platform: [Bool]
    private let mood: [Bool]
    private let country: [Bool]
    private let artist: [Bool]

    init(_ filter: EventFilter, in counts: FacetCounts) {
        self.filter = filter
        func mask(_ facet: Facet, _ table: ValueTable) -> [Bool] {
            filter.constrains(facet) ? table.mask { filter.passes(facet, value: $0) } : []
        }
        genre = mask(.genre, counts.genres)
        platform = mask(.platform, counts.platforms)
        mood = mask(.mood, counts.moods)
        country = mask(.country, counts.countries)
        artist = mask(.artist, counts.artists)
    }

    @inline(__always)
    func matches(at event: UnsafePointer<ListenEvent>, keys: FacetKeys) -> Bool {
        filter.matches(at: event, keys: keys, self)
    }

    @inline(__always)
    func verdict(at event: UnsafePointer<ListenEvent>, keys: FacetKeys) -> EventFilter.Verdict {
        filter.verdict(at: event, keys: keys, self)
    }

    @inline(__always) func passesGenre(_ e: UnsafePointer<ListenEvent>, _ k: FacetKeys) -> Bool { genre[Int(k.genre)] }
    @inline(__always) func passesPlatform(_ e: UnsafePointer<ListenEvent>, _ k: FacetKeys) -> Bool { platform[Int(k.platform)] }
    @inline(__always) func passesMood(_ e: UnsafePointer<ListenEvent>, _ k: FacetKeys) -> Bool { mood[Int(k.mood)] }
    @inline(__always) func passesCountry(_ e: UnsafePointer<ListenEvent>, _ k: FacetKeys) -> Bool { country[Int(k.country)] }
    @inline(__always) func passesArtist(_ e: UnsafePointer<ListenEvent>, _ k: FacetKeys) -> Bool { artist[Int(k.artist)] }
}
