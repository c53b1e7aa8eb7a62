internal import CPostgres

/// The shared history store on PostgreSQL (`--history postgres://user@host:port/db`): several
/// replicas write to and read from one database. Holds only the URL and settings, so it is a
/// plain Sendable value; every writer and reader it opens has its own connection.
/// Printing, `dump` and debuggers show `description` only: the URL may hold a password.
public struct PostgresHistoryStore: HistoryStore, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public struct Settings: Sendable, Equatable {
        /// How long opening a connection may take before the store counts as down.
        public var connectTimeoutSeconds: Int

        public init(connectTimeoutSeconds: Int = 5) {
            self.connectTimeoutSeconds = max(connectTimeoutSeconds, 1)
        }
    }

    /// As given: may hold a password, so it stays private and out of every message.
    private let url: String
    public let settings: Settings
    /// "postgres://user@host:port/db": the URL's parts without the password or other options.
    public let description: String

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["description": description, "settings": settings])
    }

    /// Checks the URL's syntax (libpq's own parser, so both URLs and `key=value` strings work)
    /// without connecting: a typo fails at start, a server down only when a connection opens.
    public init(url: String, settings: Settings = Settings()) throws(HistoryError) {
        self.url = url
        self.settings = settings
        self.description = try Self.describe(url)
    }

    public func openWriter() throws(HistoryError) -> any HistoryWriter {
        do {
            return try PostgresHistoryWriter(connection: connect())
        } catch {
            throw error.historyError
        }
    }

    public func openReader() throws(HistoryError) -> any HistoryReader {
        do {
            return try PostgresHistoryReader(connection: connect())
        } catch {
            throw error.historyError
        }
    }

    /// A connection with the schema in place (created by the first writer or reader to find it
    /// missing).
    private func connect() throws(PostgresError) -> PostgresConnection {
        let connection = try PostgresConnection(
            conninfo: url, label: description, connectTimeoutSeconds: settings.connectTimeoutSeconds)
        try connection.run("creating the history schema") { () throws(PostgresError) in
            try PostgresSchema.ensure(on: connection)
        }
        return connection
    }

    /// The description from libpq's parse of `url`: user, host, port and database only.
    private static func describe(_ url: String) throws(HistoryError) -> String {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &error) else {
            let reason = error.map { String(cString: $0) } ?? "out of memory"
            if let error { PQfreemem(error) }
            // libpq's message may quote the URL (and a password in it), so only its first words are kept.
            let firstLine = reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? reason
            let safe = firstLine.split(separator: "\"").first.map(String.init) ?? firstLine
            throw HistoryError("invalid PostgreSQL URL: \(safe)")
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        var text = "postgres://"
        if let user = values["user"], !user.isEmpty { text += user + "@" }
        text += values["host"] ?? values["hostaddr"] ?? ""
        if let port = values["port"], !port.isEmpty { text += ":" + port }
        if let database = values["dbname"], !database.isEmpty { text += "/" + database }
        return text
    }
}
