/// What an `EventFilter` checks, in which order, and which failure counts for which facet,
/// written once for every way an event is held (`FilterSubject`). It holds only plain values
/// (the bounds, and which text constraints there are): the subject decides those. A scan copies
/// it for nothing, where reading the filter's arrays of needles from inside the loop cost a
/// retain and a release each, per event.
struct FilterRule {
    let since: Int64?
    let until: Int64?
    let minRating: Int?
    let skipped: Bool?
    let completed: Bool?
    /// Which constraints the subject is asked about.
    let userID: Bool
    let trackID: Bool
    let genre: Bool
    let platform: Bool
    let mood: Bool
    let country: Bool
    let artist: Bool
    let query: Bool

    /// Cheap checks first; the substring scans last.
    @inline(__always)
    func matches<S: FilterSubject>(_ event: S) -> Bool {
        if let since, event.timestamp < since { return false }
        if let until, event.timestamp >= until { return false }
        if let minRating, event.rating < minRating { return false }
        if skipped != nil || completed != nil {
            let isCompleted = event.isCompleted
            if let skipped, skipped == isCompleted { return false }
            if let completed, completed != isCompleted { return false }
        }
        if userID, !event.passesUserID() { return false }
        if trackID, !event.passesTrackID() { return false }
        if genre, !event.passesGenre() { return false }
        if platform, !event.passesPlatform() { return false }
        if mood, !event.passesMood() { return false }
        if country, !event.passesCountry() { return false }
        if artist, !event.passesArtist() { return false }
        if query, !event.passesQuery() { return false }
        return true
    }

    /// Which single facet's constraint (if exactly one) the event fails; stops at the second.
    @inline(__always)
    func verdict<S: FilterSubject>(_ event: S) -> EventFilter.Verdict {
        // Constraints without a facet: failing one excludes the event from every facet.
        if let since, event.timestamp < since { return .fails }
        if let until, event.timestamp >= until { return .fails }
        if userID, !event.passesUserID() { return .fails }
        if trackID, !event.passesTrackID() { return .fails }
        var failed: Facet?
        if let minRating, event.rating < minRating { failed = .rating }
        if skipped != nil || completed != nil {
            let isCompleted = event.isCompleted
            if let skipped, skipped == isCompleted {
                if failed != nil { return .fails }
                failed = .skipped
            }
            if let completed, completed != isCompleted {
                if failed != nil { return .fails }
                failed = .completed
            }
        }
        if genre, !event.passesGenre() {
            if failed != nil { return .fails }
            failed = .genre
        }
        if platform, !event.passesPlatform() {
            if failed != nil { return .fails }
            failed = .platform
        }
        if mood, !event.passesMood() {
            if failed != nil { return .fails }
            failed = .mood
        }
        if country, !event.passesCountry() {
            if failed != nil { return .fails }
            failed = .country
        }
        if artist, !event.passesArtist() {
            if failed != nil { return .fails }
            failed = .artist
        }
        // Most expensive last, and only for events that still count somewhere.
        if query, !event.passesQuery() { return .fails }
        if let failed { return .failsOnly(failed) }
        return .matches
    }
}
