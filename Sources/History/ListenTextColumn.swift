import MusicModel

/// The listen's text fields. Both stores keep each column's distinct values apart, numbered by
/// the raw value (`kind`): SQLite stores every text once in `texts` and refers to it by id;
/// PostgreSQL lists the values of the filterable columns in `listen_values`. So a filter on one
/// column looks only at that column's values, and decides each distinct value once.
enum ListenTextColumn: Int64, CaseIterable {
    case userID = 1, username, email, trackID, title, artist, genre, platform, mood, city, country

    /// The column's name in `listens` (and in the listen's JSON).
    var name: String {
        switch self {
        case .userID: "user_id"
        case .username: "username"
        case .email: "email"
        case .trackID: "track_id"
        case .title: "title"
        case .artist: "artist"
        case .genre: "genre"
        case .platform: "platform"
        case .mood: "mood"
        case .city: "city"
        case .country: "country"
        }
    }

    /// The column's value in `event`.
    func value(in event: ListenEvent) -> String {
        switch self {
        case .userID: event.userID
        case .username: event.username
        case .email: event.email
        case .trackID: event.trackID
        case .title: event.title
        case .artist: event.artist
        case .genre: event.genre
        case .platform: event.platform
        case .mood: event.mood
        case .city: event.city
        case .country: event.country
        }
    }

    /// The column of a text facet.
    init?(_ facet: Facet) {
        switch facet {
        case .genre: self = .genre
        case .platform: self = .platform
        case .mood: self = .mood
        case .country: self = .country
        case .artist: self = .artist
        case .rating, .skipped, .completed: return nil
        }
    }

    /// The columns a filter criterion reads (genre, platform, mood, country, artist; q reads
    /// title, artist and username): PostgreSQL lists their values in `listen_values`.
    static let filterable: [ListenTextColumn] = [.username, .title, .artist, .genre, .platform, .mood, .country]

    /// A listen whose only text is `value` in this column: the criteria decided per value read
    /// one column each (q reads three, each probed on its own), and empty text matches no
    /// non-empty needle, so a filter's verdict on it is its verdict on the value.
    func probe(_ value: String) -> ListenEvent {
        var event = ListenEvent(
            eventID: "", userID: "", username: "", email: "", trackID: "", title: "", artist: "", genre: "",
            platform: "", mood: "", city: "", country: "", duration: 1, listenPosition: 0, rating: 0, timestamp: 0)
        switch self {
        case .userID: event.userID = value
        case .username: event.username = value
        case .email: event.email = value
        case .trackID: event.trackID = value
        case .title: event.title = value
        case .artist: event.artist = value
        case .genre: event.genre = value
        case .platform: event.platform = value
        case .mood: event.mood = value
        case .city: event.city = value
        case .country: event.country = value
        }
        return event
    }
}
