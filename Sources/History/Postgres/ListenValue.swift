/// A value of a filterable column as `listen_values` keeps it: by exact bytes, as the table's
/// primary key (COLLATE "C") tells values apart.
struct ListenValue: Hashable, Sendable {
    var kind: Int64
    var value: ExactText

    /// The records' distinct values of `ListenTextColumn.filterable`, in the table's order.
    static func distinct(in records: [HistoryRecord]) -> [ListenValue] {
        var found: Set<ListenValue> = []
        for record in records {
            for column in ListenTextColumn.filterable {
                found.insert(ListenValue(kind: column.rawValue, value: ExactText(column.value(in: record.event))))
            }
        }
        return found.sorted(by: inTableOrder)
    }

    /// The table's order (kind, then bytes): replicas adding the same new values at once then
    /// wait for each other instead of deadlocking on each other's half.
    static func inTableOrder(_ a: ListenValue, _ b: ListenValue) -> Bool {
        a.kind != b.kind ? a.kind < b.kind : a.value.text.utf8.lexicographicallyPrecedes(b.value.text.utf8)
    }
}
