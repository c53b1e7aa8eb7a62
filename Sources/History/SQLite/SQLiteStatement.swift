internal import CSQLite

/// A prepared statement, kept and reused: `reset()` after each use puts it back to the start
/// with no parameters bound (and ends the read a half-stepped query holds open). Parameter and
/// column indexes are SQLite's: parameters from 1, columns from 0.
final class SQLiteStatement {
    private let handle: OpaquePointer
    /// Held so the connection outlives its statements.
    private let connection: SQLiteConnection
    /// What the statement is for, named in its errors.
    let doing: String

    init(handle: OpaquePointer, connection: SQLiteConnection, doing: String) {
        self.handle = handle
        self.connection = connection
        self.doing = doing
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// SQLite's SQLITE_TRANSIENT (a macro Swift does not import): SQLite copies the bytes
    /// during the bind call, so the Swift buffer may go away right after it.
    private static var transient: sqlite3_destructor_type {
        unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)
    }

    func bind(_ value: Int64, at index: Int32) throws(HistoryError) {
        try check(sqlite3_bind_int64(handle, index, value), binding: index)
    }

    func bind(_ value: Int, at index: Int32) throws(HistoryError) {
        try bind(Int64(value), at: index)
    }

    /// Binds text with its exact byte length, so a NUL inside it is kept. The bytes are
    /// copied (transient): Swift lends them only for the duration of `withUTF8`, which ends
    /// before the statement is stepped.
    func bind(_ value: String, at index: Int32) throws(HistoryError) {
        var text = value
        let code = text.withUTF8 { bytes -> Int32 in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                // A nil pointer would bind NULL; the empty string is still a string.
                return sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(handle, index, $0, UInt64(bytes.count), Self.transient, UInt8(SQLITE_UTF8))
            }
        }
        try check(code, binding: index)
    }

    /// Binds bytes as a blob (copied, like text).
    func bind(_ value: ArraySlice<UInt8>, at index: Int32) throws(HistoryError) {
        let code = value.withUnsafeBytes { bytes -> Int32 in
            // A nil pointer would bind NULL; an empty blob is still a blob.
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
            return sqlite3_bind_blob64(handle, index, base, UInt64(bytes.count), Self.transient)
        }
        try check(code, binding: index)
    }

    private func check(_ code: Int32, binding index: Int32) throws(HistoryError) {
        guard code == SQLITE_OK else { throw connection.error(code, doing: "\(doing) (parameter \(index))") }
    }

    /// Advances to the next row: true when there is one, false when the statement is done.
    func step() throws(HistoryError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw connection.error(code, doing: doing)
        }
    }

    /// Runs a statement that returns no rows (or whose rows do not matter).
    func run() throws(HistoryError) {
        while try step() {}
    }

    /// Back to the start, parameters cleared. The result codes repeat the last step's error,
    /// which `step` has already thrown, so they are not looked at.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func int(at column: Int32) -> Int {
        Int(sqlite3_column_int64(handle, column))
    }

    func double(at column: Int32) -> Double {
        sqlite3_column_double(handle, column)
    }

    func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// The column's text, all of its bytes (NULs included); "" for NULL.
    func text(at column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Lends the column's blob bytes to `body` (valid only during the call: SQLite owns them
    /// until the next step or reset); empty for NULL.
    func withBlob<T>(at column: Int32, _ body: (UnsafeRawBufferPointer) throws(HistoryError) -> T) throws(HistoryError) -> T {
        let base = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: count > 0 ? base : nil, count: count))
    }
}
