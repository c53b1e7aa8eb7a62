/// What /api/events can be ordered by; raw values are the `sort_by` parameter's spellings.
public enum SortField: String, Sendable, CaseIterable {
    case timestamp, username, title, artist, genre, platform, city, country, mood, duration
    case listen_position, percent_listened, rating
}
