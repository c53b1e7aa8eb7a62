/// A filter resolved against one window's value tables: each text constraint becomes a mask by
/// value id, computed once per request over the distinct values (a few dozen genres, a few
/// hundred artists or titles) instead of once per event, and `user_id`/`track_id` become the
/// one id they can match. Window scans then decide "genre=pop" with one array lookup. Valid only
/// while the window is unchanged, i.e. within one request on the loop thread.
///
/// A class, so that a scan holds one reference: as a struct reached through a pointer in the
/// scan's closure, the compiler copied it (a retain and release of each of its arrays) for
/// every event scanned, which made a page of a million-event window cost 160 ms.
final class ResolvedFilter {
    /// The filter's checks; the masks below decide its text constraints.
    let rule: FilterRule
    let genre: ValueMask
    let platform: ValueMask
    let mood: ValueMask
    let country: ValueMask
    let artist: ValueMask
    /// `q`: whether each title, artist and username contains the needle.
    let queryTitle: ValueMask
    let queryArtist: ValueMask
    let queryUsername: ValueMask
    /// The id of `user_id`'s value; `UInt32.max` (no slot has it) when the window holds none.
    let userID: UInt32
    let trackID: UInt32

    init(_ filter: EventFilter, facets: FacetCounts, details: DetailTables) {
        self.rule = filter.rule
        func mask(_ facet: Facet, _ table: ValueTable) -> ValueMask {
            ValueMask(filter.constrains(facet) ? table.mask { filter.passes(facet, value: $0) } : [])
        }
        genre = mask(.genre, facets.genres)
        platform = mask(.platform, facets.platforms)
        mood = mask(.mood, facets.moods)
        country = mask(.country, facets.countries)
        artist = mask(.artist, facets.artists)
        if let needle = filter.qNeedle {
            queryTitle = ValueMask(details.titles.mask { needle.isContained(in: $0) })
            queryArtist = ValueMask(facets.artists.mask { needle.isContained(in: $0) })
            queryUsername = ValueMask(details.usernames.mask { needle.isContained(in: $0) })
        } else {
            (queryTitle, queryArtist, queryUsername) = (ValueMask([]), ValueMask([]), ValueMask([]))
        }
        userID = filter.userID.flatMap { details.userIDs.id(of: $0) } ?? .max
        trackID = filter.trackID.flatMap { details.trackIDs.id(of: $0) } ?? .max
    }

    deinit {
        for mask in [genre, platform, mood, country, artist, queryTitle, queryArtist, queryUsername] { mask.deallocate() }
    }

    @inline(__always)
    func matches(_ slot: UnsafePointer<WindowSlot>) -> Bool {
        rule.matches(SlotSubject(slot: slot, resolved: self))
    }

    @inline(__always)
    func verdict(_ slot: UnsafePointer<WindowSlot>) -> EventFilter.Verdict {
        rule.verdict(SlotSubject(slot: slot, resolved: self))
    }
}
