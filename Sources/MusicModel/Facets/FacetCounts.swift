/// Counts per facet value, updated incrementally as events enter and leave the window,
/// so facet queries never rescan the window.
///
/// The five text facets are `ValueTable`s: besides counting, they give every value a small id,
/// which the window stores with each event (`FacetKeys`) so that eviction and filtered scans
/// work on ids rather than strings. Each facet keeps its own tallies (including the two boolean
/// facets), so a facet can also be fed on its own with `add(_:only:)`.
public struct FacetCounts: Sendable {
    private(set) var genres = ValueTable()
    private(set) var platforms = ValueTable()
    private(set) var moods = ValueTable()
    private(set) var countries = ValueTable()
    private(set) var artists = ValueTable()
    private var scalars = ScalarFacetCounts()
    /// Number of events added whole with `add(_:)` (minus those removed); `add(_:only:)`
    /// does not change it.
    public private(set) var total = 0

    public init() {}

    public mutating func add(_ event: ListenEvent) {
        _ = withUnsafePointer(to: event) { insert(at: $0) }
    }

    /// Counts only `facet`'s value of the event; `total` is unchanged.
    public mutating func add(_ event: ListenEvent, only facet: Facet) {
        withUnsafePointer(to: event) { add(at: $0, only: facet) }
    }

    /// Counts the event and returns the ids its text values have here. Reads the fields where
    /// the event lies: the window files an event it is handed without copying it.
    @inline(__always)
    mutating func insert(at event: UnsafePointer<ListenEvent>) -> FacetKeys {
        let keys = FacetKeys(
            genre: genres.retain(event.pointee.genre),
            platform: platforms.retain(event.pointee.platform),
            mood: moods.retain(event.pointee.mood),
            country: countries.retain(event.pointee.country),
            artist: artists.retain(event.pointee.artist))
        scalars.add(at: event)
        total += 1
        return keys
    }

    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>, only facet: Facet) {
        switch facet {
        case .genre: _ = genres.retain(event.pointee.genre)
        case .platform: _ = platforms.retain(event.pointee.platform)
        case .mood: _ = moods.retain(event.pointee.mood)
        case .country: _ = countries.retain(event.pointee.country)
        case .artist: _ = artists.retain(event.pointee.artist)
        case .rating, .skipped, .completed: scalars.add(at: event, only: facet)
        }
    }

    /// Values reaching zero disappear. Removing an event that was never added is ignored
    /// value by value rather than driving counts negative.
    public mutating func remove(_ event: ListenEvent) {
        guard total > 0 else { return }
        if let id = genres.id(of: event.genre) { genres.release(id) }
        if let id = platforms.id(of: event.platform) { platforms.release(id) }
        if let id = moods.id(of: event.mood) { moods.release(id) }
        if let id = countries.id(of: event.country) { countries.release(id) }
        if let id = artists.id(of: event.artist) { artists.release(id) }
        removeScalars(rating: event.rating, completed: event.completed)
    }

    /// The window's way to uncount an event it inserted: by the ids `insert` returned.
    @inline(__always)
    mutating func remove(keys: FacetKeys, rating: Int, completed: Bool) {
        guard total > 0 else { return }
        genres.release(keys.genre)
        platforms.release(keys.platform)
        moods.release(keys.mood)
        countries.release(keys.country)
        artists.release(keys.artist)
        removeScalars(rating: rating, completed: completed)
    }

    @inline(__always)
    private mutating func removeScalars(rating: Int, completed: Bool) {
        scalars.remove(rating: rating, completed: completed)
        total -= 1
    }

    /// The table behind a text facet; nil for rating and the boolean facets.
    func table(_ facet: Facet) -> ValueTable? {
        switch facet {
        case .genre: genres
        case .platform: platforms
        case .mood: moods
        case .country: countries
        case .artist: artists
        case .rating, .skipped, .completed: nil
        }
    }

    /// Sorted by count descending, then value ascending; zero counts are omitted.
    public func entries(_ facet: Facet) -> [FacetEntry] {
        if let table = table(facet) { return FacetEntry.ranked(table.entries()) }
        return scalars.entries(facet)
    }
}
