import MusicModel

/// A reader's side of `texts`: the text of an id (for the rows it returns), the id of a value
/// (an exact user_id or track_id), and the ids of every value a filter criterion accepts.
///
/// The criteria are decided by `EventFilter` itself, on each distinct value once, so the store
/// matches exactly as the window does (case folding, substrings, any Unicode) while SQL compares
/// only integers. `texts` only grows and an id never changes its value, so what is learned here
/// stays true: the accepted ids of a criterion are kept with the highest id looked at, and a
/// later query looks only at values added since.
final class SQLiteTextLookup {
    /// Texts remembered by id before the memory is emptied and refilled from misses.
    static let capacity = 200_000
    /// Criteria whose accepted ids are kept; past this the oldest half is dropped.
    static let criteriaKept = 64

    private let connection: SQLiteConnection
    private let selectText: SQLiteStatement
    private let selectID: SQLiteStatement
    private let selectNewer: SQLiteStatement
    private let selectMaxID: SQLiteStatement
    private var texts: [Int64: String] = [:]

    /// What a criterion accepted so far, with the highest id it has looked at.
    private struct Accepted {
        var ids: Set<Int64>
        var through: Int64
        var used: Int
    }

    private var accepted: [TextCriterion: Accepted] = [:]
    private var uses = 0

    init(_ connection: SQLiteConnection) throws(HistoryError) {
        self.connection = connection
        selectText = try connection.prepare("SELECT value FROM texts WHERE id = ?1", doing: "reading a text", persistent: true)
        selectID = try connection.prepare(
            "SELECT id FROM texts WHERE kind = ?1 AND value = ?2", doing: "looking up a text", persistent: true)
        selectNewer = try connection.prepare(
            "SELECT id, value FROM texts WHERE id > ?1 AND kind = ?2", doing: "reading new texts", persistent: true)
        selectMaxID = try connection.prepare(
            "SELECT COALESCE(MAX(id), 0) FROM texts WHERE kind = ?1", doing: "reading a column's largest text id",
            persistent: true)
    }

    /// The text of `id` ("" for an id `texts` does not hold, which a CHECK-less row cannot
    /// have: the writer adds the text in the row's own transaction).
    func text(_ id: Int64) throws(HistoryError) -> String {
        if let text = texts[id] { return text }
        defer { selectText.reset() }
        try selectText.bind(id, at: 1)
        let text = try selectText.step() ? selectText.text(at: 0) : ""
        if texts.count >= Self.capacity { texts.removeAll(keepingCapacity: true) }
        texts[id] = text
        return text
    }

    /// The id of exactly `value` in `column`, or nil when no listen ever had it.
    func id(of value: String, in column: ListenTextColumn) throws(HistoryError) -> Int64? {
        defer { selectID.reset() }
        try selectID.bind(column.rawValue, at: 1)
        try selectID.bind(value, at: 2)
        return try selectID.step() ? selectID.int64(at: 0) : nil
    }

    /// The largest id of `column`'s values (0 when it has none).
    func maxID(of column: ListenTextColumn) throws(HistoryError) -> Int64 {
        defer { selectMaxID.reset() }
        try selectMaxID.bind(column.rawValue, at: 1)
        return try selectMaxID.step() ? selectMaxID.int64(at: 0) : 0
    }

    /// The ids of the values of `criterion.columns` that `criterion.single` accepts. An id
    /// accepted for one column is accepted in that column only (the kinds keep them apart).
    func acceptedIDs(_ criterion: TextCriterion) throws(HistoryError) -> Set<Int64> {
        uses += 1
        var entry = accepted[criterion] ?? Accepted(ids: [], through: 0, used: uses)
        var newest = entry.through
        for column in criterion.columns {
            defer { selectNewer.reset() }
            try selectNewer.bind(entry.through, at: 1)
            try selectNewer.bind(column.rawValue, at: 2)
            while try selectNewer.step() {
                let id = selectNewer.int64(at: 0)
                newest = max(newest, id)
                if criterion.single.matches(column.probe(selectNewer.text(at: 1))) { entry.ids.insert(id) }
            }
        }
        entry.through = newest
        entry.used = uses
        if accepted[criterion] == nil && accepted.count >= Self.criteriaKept {
            let oldest = accepted.sorted { $0.value.used < $1.value.used }.prefix(Self.criteriaKept / 2)
            for (key, _) in oldest { accepted[key] = nil }
        }
        accepted[criterion] = entry
        return entry.ids
    }
}
