import MusicModel

/// Which of a listen's case-insensitive text columns are pure ASCII: the `ascii_mask` column,
/// computed in Swift when the row is written (and by the schema 2 migration for older rows).
///
/// Why: SQL can repeat `EventFilter`'s text matching exactly only on ASCII. There
/// `FoldedNeedle` compares bytes with A-Z folded, which is what SQLite's `lower()` with `=`
/// and `instr` do. On other text Swift compares `lowercased()` strings by Character: with
/// canonical equivalence ("é" precomposed equals "e" + U+0301) and never splitting a grapheme
/// cluster (needle "e" is not in "e" + U+0301), which no byte comparison repeats. So a query
/// decides in SQL only the rows whose constrained columns are all ASCII, and reads the others
/// back and decides them with `EventFilter` itself (`SQLiteFilter`).
enum SQLiteTextMask {
    static let genre: Int64 = 1 << 0
    static let platform: Int64 = 1 << 1
    static let mood: Int64 = 1 << 2
    static let country: Int64 = 1 << 3
    static let artist: Int64 = 1 << 4
    static let title: Int64 = 1 << 5
    static let username: Int64 = 1 << 6
    /// Never set on a row: a query needing it (a filter value that is not ASCII once
    /// lowercased) decides every row in Swift.
    static let never: Int64 = 1 << 7

    static func of(_ event: ListenEvent) -> Int64 {
        of(genre: event.genre, platform: event.platform, mood: event.mood, country: event.country,
           artist: event.artist, title: event.title, username: event.username)
    }

    static func of(
        genre: String, platform: String, mood: String, country: String, artist: String, title: String, username: String
    ) -> Int64 {
        var mask: Int64 = 0
        if isASCII(genre) { mask |= Self.genre }
        if isASCII(platform) { mask |= Self.platform }
        if isASCII(mood) { mask |= Self.mood }
        if isASCII(country) { mask |= Self.country }
        if isASCII(artist) { mask |= Self.artist }
        if isASCII(title) { mask |= Self.title }
        if isASCII(username) { mask |= Self.username }
        return mask
    }

    static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }
}
