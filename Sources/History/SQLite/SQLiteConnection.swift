internal import CSQLite

/// One sqlite3 connection, used by one thread at a time (the writer's or a reader's owner), so
/// it is opened without SQLite's per-connection mutex. Every failure becomes a `HistoryError`
/// that names what was being done and carries sqlite3_errmsg.
final class SQLiteConnection {
    private let handle: OpaquePointer
    /// The database file, for error messages.
    let path: String
    /// When set, statements running past it are interrupted (`limit(until:)`).
    private var deadline: ContinuousClock.Instant?

    /// Opens `path`: read-write (creating the file when missing) or read-only. A locked database
    /// is retried for up to `busyTimeout` ms before the call fails with SQLITE_BUSY.
    init(path: String, readOnly: Bool, busyTimeout: Int32) throws(HistoryError) {
        _ = Self.configured
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            // Even a failed open may allocate a handle (it carries the message); it must be closed.
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw Self.error(code: code, message: message, path: path, doing: readOnly ? "opening read-only" : "opening")
        }
        handle = opened
        sqlite3_busy_timeout(handle, busyTimeout)
    }

    /// Process-wide settings, made once before the first connection. Memory statistics off:
    /// with them on, every allocation SQLite makes takes a global mutex (~4 % of the sink's
    /// time in a profile of 300,000 listens stored), and nothing here reads the statistics.
    private static let configured: Bool = musicstream_sqlite_disable_memstatus() == SQLITE_OK

    deinit {
        // close_v2: if a statement were still alive the handle would close when it is finalized,
        // but statements hold their connection, so by now none is left.
        sqlite3_close_v2(handle)
    }

    /// Interrupts any statement still running at `deadline` (it fails with SQLITE_INTERRUPT),
    /// checked by SQLite's progress handler every few thousand virtual-machine steps, so a
    /// long aggregate stops within about a millisecond of it; nil removes the limit.
    func limit(until deadline: ContinuousClock.Instant?) {
        self.deadline = deadline
        guard deadline != nil else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            return
        }
        // Unretained: the handler belongs to this connection's handle, which dies with it.
        sqlite3_progress_handler(handle, 4_000, { context in
            guard let context else { return 0 }
            let connection = Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue()
            guard let deadline = connection.deadline else { return 0 }
            return ContinuousClock.now >= deadline ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Throws SQLite's interruption error when the query's deadline has passed: for work done in
    /// Swift between steps (the facet blocks' rows), which the progress handler does not see.
    func checkDeadline(doing: String) throws(HistoryError) {
        if let deadline, ContinuousClock.now >= deadline { throw error(SQLITE_INTERRUPT, doing: doing) }
    }

    /// Runs SQL without results (one or more statements separated by semicolons).
    func exec(_ sql: String, doing: String) throws(HistoryError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, doing: doing) }
    }

    /// Compiles one statement. `persistent` tells SQLite the statement is kept and reused
    /// (the writer's insert), so it allocates it outside its small-object lookaside memory.
    func prepare(_ sql: String, doing: String, persistent: Bool = false) throws(HistoryError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sqlite3_prepare_v3(handle, sql, -1, flags, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw error(code, doing: "preparing the statement for \(doing)")
        }
        return SQLiteStatement(handle: statement, connection: self, doing: doing)
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` takes the write lock at once, so a
    /// writer never fails halfway on a lock another writer holds). Any error rolls everything
    /// back before it is thrown: all or nothing.
    func transaction<T>(
        immediate: Bool, doing: String, _ body: () throws(HistoryError) -> T
    ) throws(HistoryError) -> T {
        try exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN", doing: "beginning a transaction for \(doing)")
        do throws(HistoryError) {
            let result = try body()
            try exec("COMMIT", doing: "committing \(doing)")
            return result
        } catch {
            rollback()
            throw error
        }
    }

    /// Rolls back the open transaction, if SQLite has not already (it does on some errors).
    private func rollback() {
        if sqlite3_get_autocommit(handle) == 0 {
            // A failed ROLLBACK leaves nothing better to do than report the original error.
            _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE (a skipped duplicate is not one).
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// The rowid of the last row this connection inserted.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The connection's latest error as a `HistoryError`.
    /// Whether `error` is SQLite's SQLITE_BUSY (any of its extended codes), by the code its
    /// message ends with.
    static func isBusy(_ error: HistoryError) -> Bool {
        guard error.message.hasSuffix(")"), let last = error.message.split(separator: " ").last,
              let code = Int32(last.dropLast()) else { return false }
        return code & 0xFF == SQLITE_BUSY
    }

    func error(_ code: Int32, doing: String) -> HistoryError {
        Self.error(code: code, message: String(cString: sqlite3_errmsg(handle)), path: path, doing: doing)
    }

    /// "sqlite <file>: <what was being done>: <SQLite's message> (code <extended code>)": the
    /// file, because an operator reading the log must know which one to look at.
    private static func error(code: Int32, message: String, path: String, doing: String) -> HistoryError {
        // Failures of the file or the machine rather than of this request: the store is
        // unavailable until someone looks (or the lock holder lets go).
        let unavailable: Set<Int32> = [
            SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT,
            SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_NOTADB, SQLITE_PERM,
            // Past its time limit (`limit(until:)`): the store could not answer in time.
            SQLITE_INTERRUPT,
        ]
        return HistoryError(
            "sqlite \(path): \(doing): \(message) (code \(code))", isUnavailable: unavailable.contains(code & 0xFF))
    }
}
