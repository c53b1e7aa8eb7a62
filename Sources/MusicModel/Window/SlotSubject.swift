/// A slot of the window examined by a `ResolvedFilter`: numbers read in place, every text
/// constraint one lookup by id in a mask.
struct SlotSubject: FilterSubject {
    let slot: UnsafePointer<WindowSlot>
    let resolved: UnsafePointer<ResolvedFilter>

    @inline(__always) var timestamp: Int64 { slot.pointee.timestamp }
    @inline(__always) var rating: Int { Int(slot.pointee.rating) }
    @inline(__always) var isCompleted: Bool { slot.pointee.isCompleted }
    @inline(__always) func passesUserID() -> Bool { slot.pointee.detailKeys.userID == resolved.pointee.userID }
    @inline(__always) func passesTrackID() -> Bool { slot.pointee.detailKeys.trackID == resolved.pointee.trackID }
    @inline(__always) func passesGenre() -> Bool { resolved.pointee.genre[Int(slot.pointee.facetKeys.genre)] }
    @inline(__always) func passesPlatform() -> Bool { resolved.pointee.platform[Int(slot.pointee.facetKeys.platform)] }
    @inline(__always) func passesMood() -> Bool { resolved.pointee.mood[Int(slot.pointee.facetKeys.mood)] }
    @inline(__always) func passesCountry() -> Bool { resolved.pointee.country[Int(slot.pointee.facetKeys.country)] }
    @inline(__always) func passesArtist() -> Bool { resolved.pointee.artist[Int(slot.pointee.facetKeys.artist)] }
    @inline(__always) func passesQuery() -> Bool {
        resolved.pointee.queryTitle[Int(slot.pointee.detailKeys.title)]
            || resolved.pointee.queryArtist[Int(slot.pointee.facetKeys.artist)]
            || resolved.pointee.queryUsername[Int(slot.pointee.detailKeys.username)]
    }
}
