/// A slot of the window examined by a `ResolvedFilter`: numbers read in place, every text
/// constraint one lookup by id in a mask.
struct SlotSubject: FilterSubject {
    let slot: UnsafePointer<WindowSlot>
    /// Unretained: a subject lives only inside a scan, which holds the filter.
    unowned(unsafe) let resolved: ResolvedFilter

    @inline(__always) var timestamp: Int64 { slot.pointee.timestamp }
    @inline(__always) var rating: Int { Int(slot.pointee.rating) }
    @inline(__always) var isCompleted: Bool { slot.pointee.isCompleted }
    @inline(__always) func passesUserID() -> Bool { slot.pointee.detailKeys.userID == resolved.userID }
    @inline(__always) func passesTrackID() -> Bool { slot.pointee.detailKeys.trackID == resolved.trackID }
    @inline(__always) func passesGenre() -> Bool { resolved.genre[slot.pointee.facetKeys.genre] }
    @inline(__always) func passesPlatform() -> Bool { resolved.platform[slot.pointee.facetKeys.platform] }
    @inline(__always) func passesMood() -> Bool { resolved.mood[slot.pointee.facetKeys.mood] }
    @inline(__always) func passesCountry() -> Bool { resolved.country[slot.pointee.facetKeys.country] }
    @inline(__always) func passesArtist() -> Bool { resolved.artist[slot.pointee.facetKeys.artist] }
    @inline(__always) func passesQuery() -> Bool {
        resolved.queryTitle[slot.pointee.detailKeys.title]
            || resolved.queryArtist[slot.pointee.facetKeys.artist]
            || resolved.queryUsername[slot.pointee.detailKeys.username]
    }
}
