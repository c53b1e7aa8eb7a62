import MusicModel

/// The listen's text fields, each stored in `listens` as the id of its value in `texts`
/// (schema 3). The raw value is the `kind` of the value's `texts` row: each column has its own
/// dictionary, so a filter on one column looks only at that column's values.
enum SQLiteTextColumn: Int64, CaseIterable {
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
}
