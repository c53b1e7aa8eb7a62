/// Direction of a sort; raw values are the `sort_order` parameter's spellings.
public enum SortOrder: String, Sendable, CaseIterable {
    case asc, desc
}
