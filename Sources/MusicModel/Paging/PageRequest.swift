/// What a caller asks `Pager` for: filter, order, page size and where to continue.
public struct PageRequest: Sendable {
    public var filter: EventFilter
    public var sortBy: SortField
    public var order: SortOrder
    /// Clamped to 1...`Pager.maxLimit` by the pager.
    public var limit: Int
    /// The previous page's `next`; nil or empty for the first page.
    public var cursor: String?

    public init(
        filter: EventFilter = EventFilter(), sortBy: SortField = .timestamp, order: SortOrder = .desc,
        limit: Int = 50, cursor: String? = nil
    ) {
        self.filter = filter
        self.sortBy = sortBy
        self.order = order
        self.limit = limit
        self.cursor = cursor
    }
}
