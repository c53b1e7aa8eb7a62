/// The writer's side of `facet_blocks` (schema 4): every stored listen's `SQLiteFacetRow`,
/// packed, in blocks of one minute each. Written in the transaction that stores the listens
/// (and changed in the one that deletes them), so a reader's snapshot sees the same listens in
/// the blocks as in `listens`.
///
/// A minute's rows are appended to its newest block until that holds `blockBytes`, then a new
/// block starts: a sink writing small batches at a production pace does not leave thousands of
/// tiny blocks per minute, and no append rewrites more than `blockBytes`.
struct SQLiteFacetBlocks {
    static let schema = """
        CREATE TABLE IF NOT EXISTS facet_blocks (
            id INTEGER PRIMARY KEY,
            minute INTEGER NOT NULL,
            rows BLOB NOT NULL
        ) STRICT;
        CREATE INDEX IF NOT EXISTS facet_blocks_by_minute ON facet_blocks (minute, id);
        """

    /// Largest block, in bytes (2,730 listens).
    static let blockBytes = SQLiteFacetRow.packedSize * 2_730

    private let newest: SQLiteStatement
    private let extend: SQLiteStatement
    private let insert: SQLiteStatement
    private let selectMinute: SQLiteStatement
    private let deleteMinute: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(HistoryError) {
        newest = try connection.prepare(
            "SELECT id, rows FROM facet_blocks WHERE minute = ?1 ORDER BY id DESC LIMIT 1",
            doing: "finding a minute's newest facet block", persistent: true)
        extend = try connection.prepare(
            "UPDATE facet_blocks SET rows = ?2 WHERE id = ?1",
            doing: "extending a facet block", persistent: true)
        insert = try connection.prepare(
            "INSERT INTO facet_blocks (minute, rows) VALUES (?1, ?2)",
            doing: "adding a facet block", persistent: true)
        selectMinute = try connection.prepare(
            "SELECT rows FROM facet_blocks WHERE minute = ?1 ORDER BY id",
            doing: "reading a minute's facet blocks", persistent: true)
        deleteMinute = try connection.prepare(
            "DELETE FROM facet_blocks WHERE minute = ?1", doing: "deleting a minute's facet blocks", persistent: true)
    }

    /// Adds `rows` (listens just stored) to their minutes' blocks.
    func append(_ rows: [SQLiteFacetRow]) throws(HistoryError) {
        for (minute, rows) in Self.byMinute(rows) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(rows.count * SQLiteFacetRow.packedSize)
            for row in rows { row.pack(into: &bytes) }
            try append(bytes, to: minute)
        }
    }

    /// Removes one packed row equal to each of `rows` (listens just deleted) from their minutes:
    /// equal rows count the same in every aggregate, so which of them goes does not matter.
    /// Each touched minute is rewritten in full blocks; retention deletes the oldest listens, a
    /// few minutes at a time.
    func remove(_ rows: [SQLiteFacetRow]) throws(HistoryError) {
        for (minute, gone) in Self.byMinute(rows) {
            var toRemove: [SQLiteFacetRow: Int] = [:]
            for row in gone { toRemove[row, default: 0] += 1 }
            var kept: [SQLiteFacetRow] = []
            try selectMinute.bind(minute, at: 1)
            do throws(HistoryError) {
                while try selectMinute.step() {
                    try selectMinute.withBlob(at: 0) { bytes throws(HistoryError) in
                        SQLiteFacetRow.forEach(in: bytes, minute: minute) { row in
                            if let count = toRemove[row], count > 0 {
                                toRemove[row] = count - 1
                            } else {
                                kept.append(row)
                            }
                        }
                    }
                }
            } catch {
                selectMinute.reset()
                throw error
            }
            selectMinute.reset()
            defer { deleteMinute.reset() }
            try deleteMinute.bind(minute, at: 1)
            try deleteMinute.run()
            var bytes: [UInt8] = []
            for row in kept { row.pack(into: &bytes) }
            try append(bytes, to: minute)
        }
    }

    /// Appends packed rows to the minute's newest block while it has room, the rest in new blocks.
    private func append(_ bytes: [UInt8], to minute: Int64) throws(HistoryError) {
        var start = 0
        if !bytes.isEmpty {
            defer { newest.reset() }
            try newest.bind(minute, at: 1)
            if try newest.step() {
                // Read and written back whole (SQLite's || would make text of the bytes).
                let id = newest.int64(at: 0)
                var block = try newest.withBlob(at: 1) { bytes throws(HistoryError) in [UInt8](bytes) }
                let room = (Self.blockBytes - block.count) / SQLiteFacetRow.packedSize * SQLiteFacetRow.packedSize
                if room > 0 {
                    start = min(room, bytes.count)
                    block += bytes[0..<start]
                    defer { extend.reset() }
                    try extend.bind(id, at: 1)
                    try extend.bind(block[...], at: 2)
                    try extend.run()
                }
            }
        }
        while start < bytes.count {
            let end = min(start + Self.blockBytes, bytes.count)
            defer { insert.reset() }
            try insert.bind(minute, at: 1)
            try insert.bind(bytes[start..<end], at: 2)
            try insert.run()
            start = end
        }
    }

    private static func byMinute(_ rows: [SQLiteFacetRow]) -> [Int64: [SQLiteFacetRow]] {
        var minutes: [Int64: [SQLiteFacetRow]] = [:]
        for row in rows { minutes[SQLiteFacetRow.minute(of: row.timestamp), default: []].append(row) }
        return minutes
    }
}
