/// The writer's side of `texts`: the id of each text value, assigning new ids as new values
/// arrive. Most values repeat (a few dozen genres, countries and moods; each user's name and
/// e-mail on every listen), so ids are remembered per column and the table is asked only on a
/// miss. Used inside the writer's transaction: a batch rolled back takes its new values with
/// it, and `forgetUncommitted` then drops the ids the rollback took away.
final class SQLiteTextDictionary {
    /// Values remembered per column before the memory is emptied and refilled from misses:
    /// bounded, whatever the number of distinct users or tracks.
    static let capacity = 200_000

    private let select: SQLiteStatement
    private let insert: SQLiteStatement
    private let connection: SQLiteConnection
    /// Per column, by exact bytes (two canonically equivalent spellings are two values).
    private var ids: [[ExactText: Int64]]
    /// Values added to `ids` since the last commit, which a rollback would take away.
    private var uncommitted: [(slot: Int, value: ExactText, id: Int64)] = []

    init(_ connection: SQLiteConnection) throws(HistoryError) {
        self.connection = connection
        select = try connection.prepare(
            "SELECT id FROM texts WHERE kind = ?1 AND value = ?2", doing: "looking up a text", persistent: true)
        insert = try connection.prepare(
            "INSERT INTO texts (kind, value) VALUES (?1, ?2)", doing: "adding a text", persistent: true)
        ids = Array(repeating: [:], count: ListenTextColumn.allCases.count + 1)
    }

    /// The id of `value` in `column`, added to `texts` when new (inside the caller's transaction).
    func id(of value: String, in column: ListenTextColumn) throws(HistoryError) -> Int64 {
        let slot = Int(column.rawValue)
        let key = ExactText(value)
        if let id = ids[slot][key] { return id }
        let id: Int64
        if let known = try stored(value, column) { id = known } else { id = try added(value, column) }
        if ids[slot].count >= Self.capacity { ids[slot].removeAll(keepingCapacity: true) }
        ids[slot][key] = id
        uncommitted.append((slot, key, id))
        return id
    }

    /// The transaction committed: what it added is there for good. Returns the ids it looked up
    /// or assigned (column in `ListenTextColumn.allCases` order), for `SQLiteBatchPreparer`.
    func committed() -> [(column: Int, value: ExactText, id: Int64)] {
        defer { uncommitted.removeAll(keepingCapacity: true) }
        return uncommitted.map { ($0.slot - 1, $0.value, $0.id) }
    }

    /// The transaction rolled back: ids it assigned may be given to other values next time.
    func forgetUncommitted() {
        for (slot, value, _) in uncommitted { ids[slot][value] = nil }
        uncommitted.removeAll(keepingCapacity: true)
    }

    private func stored(_ value: String, _ column: ListenTextColumn) throws(HistoryError) -> Int64? {
        defer { select.reset() }
        try select.bind(column.rawValue, at: 1)
        try select.bind(value, at: 2)
        return try select.step() ? select.int64(at: 0) : nil
    }

    private func added(_ value: String, _ column: ListenTextColumn) throws(HistoryError) -> Int64 {
        defer { insert.reset() }
        try insert.bind(column.rawValue, at: 1)
        try insert.bind(value, at: 2)
        try insert.run()
        return connection.lastInsertRowID
    }
}
