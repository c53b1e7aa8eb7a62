/// The window's tables of the text fields that are not facets: user id, username, email,
/// track id, title and city. Each value is held once, however many listens carry it, and each
/// slot of the ring holds only its ids (`DetailKeys`). Like the facet tables, an id is freed
/// when the last listen carrying it leaves, so hostile input cannot grow them past the window.
struct DetailTables: Sendable {
    // Users and tracks number in the hundreds or thousands and arrive interleaved, so the
    // recent-value caches are larger than the facets' (the misses hash the text).
    private(set) var userIDs = ValueTable(recentSlots: 1024)
    private(set) var usernames = ValueTable(recentSlots: 1024)
    private(set) var emails = ValueTable(recentSlots: 1024)
    private(set) var trackIDs = ValueTable(recentSlots: 1024)
    private(set) var titles = ValueTable(recentSlots: 1024)
    private(set) var cities = ValueTable(recentSlots: 256)

    /// Counts the event's values and returns their ids.
    @inline(__always)
    mutating func retain(_ event: UnsafePointer<ListenEvent>) -> DetailKeys {
        DetailKeys(
            userID: userIDs.retain(event.pointee.userID),
            username: usernames.retain(event.pointee.username),
            email: emails.retain(event.pointee.email),
            trackID: trackIDs.retain(event.pointee.trackID),
            title: titles.retain(event.pointee.title),
            city: cities.retain(event.pointee.city))
    }

    @inline(__always)
    mutating func release(_ keys: DetailKeys) {
        userIDs.release(keys.userID)
        usernames.release(keys.username)
        emails.release(keys.email)
        trackIDs.release(keys.trackID)
        titles.release(keys.title)
        cities.release(keys.city)
    }
}
