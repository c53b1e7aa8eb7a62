/// The dimensions the dashboard breaks the window down by.
public enum Facet: String, Sendable, CaseIterable {
    case genre, platform, mood, country, artist, rating, skipped, completed
}
