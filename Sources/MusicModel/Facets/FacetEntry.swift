/// One facet value and how many events in the window have it.
/// Rating values are "0"..."5"; boolean facets use "true"/"false".
public struct FacetEntry: Sendable, Equatable {
    public var value: String
    public var count: Int

    public init(value: String, count: Int) {
        self.value = value
        self.count = count
    }

    /// The order every facet list is served in: count descending, then value ascending.
    static func ranked(_ entries: [FacetEntry]) -> [FacetEntry] {
        entries.sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
    }

    /// Ratings 0...5 by index, zero counts left out.
    static func ranked(ratings: [Int]) -> [FacetEntry] {
        ranked(ratings.enumerated().filter { $0.element > 0 }.map { FacetEntry(value: String($0.offset), count: $0.element) })
    }

    /// A boolean facet's two values, zero counts left out.
    static func ranked(falseCount: Int, trueCount: Int) -> [FacetEntry] {
        var result: [FacetEntry] = []
        if trueCount > 0 { result.append(FacetEntry(value: "true", count: trueCount)) }
        if falseCount > 0 { result.append(FacetEntry(value: "false", count: falseCount)) }
        return ranked(result)
    }
}
