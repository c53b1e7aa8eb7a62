import MusicModel

/// One text criterion of a filter (genre, platform, mood, country, artist or q), as both stores
/// decide it: by asking `single`, a filter with nothing but this criterion, about each distinct
/// value of `columns` (`ListenTextColumn.probe`), then comparing the accepted values in SQL.
struct TextCriterion: Hashable {
    /// The facet it constrains; nil for q, which belongs to none.
    var facet: Facet?
    var columns: [ListenTextColumn]
    var single: EventFilter
    /// What the criterion is, as text (its kind and lowercased values): equal keys decide alike.
    var key: String

    /// Equal when they decide alike: same key, same columns.
    static func == (a: TextCriterion, b: TextCriterion) -> Bool { a.key == b.key && a.columns == b.columns }

    func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(columns)
    }

    /// The filter's text criteria. A criterion without values, or with an empty one (which
    /// matches anything), is none.
    static func all(of filter: EventFilter) -> [TextCriterion] {
        var criteria: [TextCriterion] = []
        func add(_ facet: Facet?, _ columns: [ListenTextColumn], _ values: [String], _ single: EventFilter) {
            guard !values.isEmpty, !values.contains("") else { return }
            let key = (facet?.rawValue ?? "q") + "=" + values.map { $0.lowercased() }.joined(separator: "\u{1F}")
            criteria.append(TextCriterion(facet: facet, columns: columns, single: single, key: key))
        }
        add(.genre, [.genre], filter.genres, EventFilter(genres: filter.genres))
        add(.platform, [.platform], filter.platforms, EventFilter(platforms: filter.platforms))
        add(.mood, [.mood], filter.moods, EventFilter(moods: filter.moods))
        add(.country, [.country], filter.countries, EventFilter(countries: filter.countries))
        if let artist = filter.artist { add(.artist, [.artist], [artist], EventFilter(artist: artist)) }
        if let q = filter.q { add(nil, [.title, .artist, .username], [q], EventFilter(q: q)) }
        return criteria
    }
}
