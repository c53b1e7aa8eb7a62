internal import CPostgres

/// One libpq connection, used by one thread at a time (like the writer or reader that owns it).
/// Statements go through `PQexecParams` with text parameters, bulk rows through `COPY ... FROM
/// STDIN` (`copy`); failures become `PostgresError`s
/// carrying libpq's message, and a lost connection is marked unavailable so callers can tell
/// "store down" from "bad statement". A connection found broken is re-established before the
/// next operation (`run`).
final class PostgresConnection {
    private var handle: OpaquePointer?
    /// The connection string or URL as given: it may hold a password, so it never appears in
    /// messages; `label` does.
    private let conninfo: String
    private let connectTimeoutSeconds: Int
    /// The server without the password, for messages.
    let label: String
    /// Statements sent since the current `run` began, to tell a connection that was already dead
    /// when the operation began (redone once on a fresh one: nothing of it reached the server)
    /// from one lost midway (reported: the server may or may not have committed).
    private var statementsInRun = 0
    private var lostOnFirstStatement = false
    /// Server sessions opened so far. Session state (a temporary table) made while this was
    /// another number went with that session.
    private(set) var sessions = 0
    /// COPY data goes to libpq in pieces of this size: its output buffer grows to one piece,
    /// not to the whole batch.
    private static let copyChunk = 1 << 20

    /// Connects at once, so a wrong URL or a server down shows when the store is opened.
    init(conninfo: String, label: String, connectTimeoutSeconds: Int) throws(PostgresError) {
        self.conninfo = conninfo
        self.label = label
        self.connectTimeoutSeconds = connectTimeoutSeconds
        try connect()
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// The server process serving this connection (pg_stat_activity.pid), 0 when not connected.
    var backendPID: Int32 {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return 0 }
        return PQbackendPID(handle)
    }

    private func connect() throws(PostgresError) {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
        // Our defaults first: settings in the URL come later in the arrays and override them.
        let keywords = ["connect_timeout", "application_name", "dbname"]
        let values = [String(connectTimeoutSeconds), "musicstream", conninfo]
        let connection = Self.withCStrings(keywords) { keywordArray in
            Self.withCStrings(values) { valueArray in
                PQconnectdbParams(keywordArray, valueArray, 1)
            }
        }
        guard let connection else {
            throw PostgresError(message: "\(label): cannot connect: out of memory", sqlState: nil, isUnavailable: true)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.text(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(message: "\(label): cannot connect: \(reason)", sqlState: nil, isUnavailable: true)
        }
        // libpq prints notices ("relation already exists, skipping") to stderr by default; the
        // schema's IF NOT EXISTS makes them routine, so they are dropped.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        sessions += 1
    }

    /// Runs one operation (`what` names it in errors). A connection lost since the last call is
    /// re-established first; if the connection turns out dead on the operation's first statement
    /// (a server restarted while this one sat idle), it reconnects and runs `body` once more.
    func run<T>(_ what: String, _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        do throws(PostgresError) {
            do {
                return try runOnce(body)
            } catch {
                guard error.isUnavailable && lostOnFirstStatement else { throw error }
                return try runOnce(body)
            }
        } catch {
            throw PostgresError(message: "\(what): \(error.message)", sqlState: error.sqlState, isUnavailable: error.isUnavailable)
        }
    }

    private func runOnce<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        statementsInRun = 0
        lostOnFirstStatement = false
        if handle == nil || PQstatus(handle) != CONNECTION_OK {
            try connect()
        } else if PQtransactionStatus(handle) != PQTRANS_IDLE {
            // A transaction left open by an interrupted operation would swallow this one's statements.
            rollbackQuietly()
        }
        return try body()
    }

    /// Sends one statement with text parameters ($1, $2, ...) and waits for its result.
    @discardableResult
    func execute(_ sql: String, _ parameters: PostgresParameters = PostgresParameters()) throws(PostgresError) -> PostgresResult {
        guard let handle else {
            throw PostgresError(message: "\(label): not connected", sqlState: nil, isUnavailable: true)
        }
        statementsInRun += 1
        let raw = parameters.withCStrings { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard let raw else {
            throw failure(statusText: nil, sqlState: nil)
        }
        let status = PQresultStatus(raw)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
            return PostgresResult(owning: raw)
        }
        throw failure(clearing: raw)
    }

    /// Runs `sql`, a `COPY ... FROM STDIN`, sending `data` (the whole COPY data, trailer
    /// included), and returns how many rows the server copied. One statement for a whole batch:
    /// no per-row parameters to parse and plan, as a multi-row INSERT has.
    @discardableResult
    func copy(_ sql: String, data: [UInt8]) throws(PostgresError) -> Int {
        guard let handle else {
            throw PostgresError(message: "\(label): not connected", sqlState: nil, isUnavailable: true)
        }
        statementsInRun += 1
        guard let started = PQexec(handle, sql) else {
            throw failure(statusText: nil, sqlState: nil)
        }
        guard PQresultStatus(started) == PGRES_COPY_IN else {
            throw failure(clearing: started)
        }
        PQclear(started)
        let sent = data.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                var offset = 0
                while offset < chars.count {
                    let length = min(Self.copyChunk, chars.count - offset)
                    guard PQputCopyData(handle, chars.baseAddress! + offset, Int32(length)) == 1 else { return false }
                    offset += length
                }
                return true
            }
        }
        // Ended either way: a failed send ends it with an error, so the server rolls it back.
        let ended = PQputCopyEnd(handle, sent ? nil : "the client could not send the COPY data") == 1
        // The COPY's result, then NULL. A server that refused the data early says so here.
        var copied = 0
        var error: PostgresError?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                copied = PostgresResult(owning: result).affectedRows
                continue
            }
            if status == PGRES_COPY_IN {
                // Still copying: the end did not get through. Nothing else can run on this
                // session, so it is closed (the server rolls back) and the next `run` reconnects.
                PQclear(result)
                PQfinish(handle)
                self.handle = nil
                error = error ?? failure(statusText: "the COPY could not be ended", sqlState: nil)
                break
            }
            let refused = failure(clearing: result)
            error = error ?? refused
        }
        if let error { throw error }
        guard sent, ended else { throw failure(statusText: nil, sqlState: nil) }
        return copied
    }

    /// The error a failed result reports; frees the result.
    private func failure(clearing raw: OpaquePointer) -> PostgresError {
        let message = Self.text(PQresultErrorMessage(raw))
        let sqlState = PQresultErrorField(raw, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        PQclear(raw)
        return failure(statusText: message, sqlState: sqlState)
    }

    /// Convenience for statements built with a closure filling the parameters.
    @discardableResult
    func execute(_ sql: String, parameters fill: (inout PostgresParameters) -> Void) throws(PostgresError) -> PostgresResult {
        var parameters = PostgresParameters()
        fill(&parameters)
        return try execute(sql, parameters)
    }

    /// Ends an open transaction after a failure; errors are ignored (the connection may be gone,
    /// in which case the server has rolled back already).
    func rollbackQuietly() {
        guard let handle, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) != PQTRANS_IDLE else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    /// Runs `body` between BEGIN and COMMIT, rolling back when it throws. `begin` may carry
    /// options ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").
    func transaction<T>(_ begin: String = "BEGIN", _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute(begin)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            rollbackQuietly()
            throw error
        }
    }

    private func failure(statusText: String?, sqlState: String?) -> PostgresError {
        let lost = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        if lost && statementsInRun == 1 { lostOnFirstStatement = true }
        var message = statusText ?? ""
        if message.isEmpty, let handle { message = Self.text(PQerrorMessage(handle)) }
        if message.isEmpty { message = "no result from the server" }
        let unavailable = lost || sqlState.map(PostgresError.isUnavailable(sqlState:)) ?? false
        return PostgresError(message: "\(label): \(message)", sqlState: sqlState, isUnavailable: unavailable)
    }

    /// libpq's messages end with a newline and may span lines; one line reads better in logs.
    private static func text(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var lines: [Substring] = []
        for line in String(cString: message).split(whereSeparator: \.isNewline) {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if !trimmed.isEmpty { lines.append(trimmed) }
        }
        return lines.joined(separator: " ")
    }

    /// A NULL-terminated array of C strings, valid only inside `body`.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var parameters = PostgresParameters(capacity: strings.count + 1)
        for string in strings { parameters.append(string) }
        parameters.appendNull()
        return parameters.withCStrings { array in body(array!) }
    }
}
