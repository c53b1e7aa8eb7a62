/// A sort key value as carried in a cursor: the position a page ended at must survive the
/// eviction of the event that had it, so the cursor holds the value itself.
enum SortKey: Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
}
