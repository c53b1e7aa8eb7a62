/// A `ListenEvent` examined where it lies, its text compared with the filter's needles. Two
/// pointers, so a scan neither copies the event (a retain and release per string) nor the filter.
struct ListenSubject: FilterSubject {
    let event: UnsafePointer<ListenEvent>
    let filter: UnsafePointer<EventFilter>

    @inline(__always) var timestamp: Int64 { event.pointee.timestamp }
    @inline(__always) var rating: Int { event.pointee.rating }
    @inline(__always) var isCompleted: Bool {
        ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration)
    }
    @inline(__always) func passesUserID() -> Bool { filter.pointee.userID.map { event.pointee.userID == $0 } ?? true }
    @inline(__always) func passesTrackID() -> Bool { filter.pointee.trackID.map { event.pointee.trackID == $0 } ?? true }
    @inline(__always) func passesGenre() -> Bool { EventFilter.anyEqual(filter.pointee.genreNeedles, event.pointee.genre) }
    @inline(__always) func passesPlatform() -> Bool { EventFilter.anyEqual(filter.pointee.platformNeedles, event.pointee.platform) }
    @inline(__always) func passesMood() -> Bool { EventFilter.anyEqual(filter.pointee.moodNeedles, event.pointee.mood) }
    @inline(__always) func passesCountry() -> Bool { EventFilter.anyContained(filter.pointee.countryNeedles, event.pointee.country) }
    @inline(__always) func passesArtist() -> Bool { filter.pointee.artistNeedle.map { $0.isContained(in: event.pointee.artist) } ?? true }
    @inline(__always) func passesQuery() -> Bool {
        guard let needle = filter.pointee.qNeedle else { return true }
        return EventFilter.queryMatches(needle, title: event.pointee.title, artist: event.pointee.artist, username: event.pointee.username)
    }
}
