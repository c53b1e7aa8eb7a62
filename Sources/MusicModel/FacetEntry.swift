/// One facet value and how many events in the window have it.
/// Rating values are "0"..."5"; boolean facets use "true"/"false".
public struct FacetEntry: Sendable, Equatable {
    public var value: String
    public var count: Int

    public init(value: String, count: Int) {
        self.value = value
        self.count = count
    }
}
