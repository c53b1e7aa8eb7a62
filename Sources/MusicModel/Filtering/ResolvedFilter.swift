/// A filter resolved against one window's value tables: each text constraint becomes a mask by
/// value id, computed once per request over the distinct values (a few dozen genres, a few
/// hundred artists or titles) instead of once per event, and `user_id`/`track_id` become the
/// one id they can match. Window scans then decide "genre=pop" with one array lookup. Valid only
/// while the window is unchanged, i.e. within one request on the loop thread.
struct ResolvedFilter {
    let filter: EventFilter
    let genre: [Bool]
    let platform: [Bool]
    let mood: [Bool]
    let country: [Bool]
    let artist: [Bool]
    /// `q`: whether each title, artist and username contains the needle.
    let queryTitle: [Bool]
    let queryArtist: [Bool]
    let queryUsername: [Bool]
    /// The id of `user_id`'s value; `UInt32.max` (no slot has it) when the window holds none.
    let userID: UInt32
    let trackID: UInt32

    init(_ filter: EventFilter, facets: FacetCounts, details: DetailTables) {
        self.filter = filter
        func mask(_ facet: Facet, _ table: ValueTable) -> [Bool] {
            filter.constrains(facet) ? table.mask { filter.passes(facet, value: $0) } : []
        }
        genre = mask(.genre, facets.genres)
        platform = mask(.platform, facets.platforms)
        mood = mask(.mood, facets.moods)
        country = mask(.country, facets.countries)
        artist = mask(.artist, facets.artists)
        if let needle = filter.qNeedle {
            queryTitle = details.titles.mask { needle.isContained(in: $0) }
            queryArtist = facets.artists.mask { needle.isContained(in: $0) }
            queryUsername = details.usernames.mask { needle.isContained(in: $0) }
        } else {
            (queryTitle, queryArtist, queryUsername) = ([], [], [])
        }
        userID = filter.userID.flatMap { details.userIDs.id(of: $0) } ?? .max
        trackID = filter.trackID.flatMap { details.trackIDs.id(of: $0) } ?? .max
    }
}
