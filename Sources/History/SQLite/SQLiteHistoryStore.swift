#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded history store: one SQLite file, `history.sqlite3`, in a directory of its own
/// (SQLite puts its `-wal` and `-shm` files beside it). In WAL mode the one writer and any
/// number of readers work at the same time: a reader sees the last commit before its query
/// started and never waits for the writer. The value holds only where the file is and how long
/// to wait for a lock, so it is freely shared; connections are opened per user.
public struct SQLiteHistoryStore: HistoryStore {
    public static let fileName = "history.sqlite3"

    /// Absolute path of the database file.
    public let path: String
    /// How long (ms) a connection retries a locked database before giving up with an error.
    public let busyTimeout: Int32

    /// Creates `directory` (and missing parents, mode 0700: listens name their listeners) when
    /// it is missing. The file itself is created by the first connection opened, writer or reader.
    public init(directory: String, busyTimeoutMilliseconds: Int32 = 5_000) throws(HistoryError) {
        path = try Self.prepareDirectory(directory) + "/" + Self.fileName
        busyTimeout = busyTimeoutMilliseconds
    }

    public var description: String { "sqlite:\(path)" }

    public func openWriter() throws(HistoryError) -> any HistoryWriter {
        try SQLiteHistoryWriter(connection: openForWriting())
    }

    /// A read-only connection. When the file is new (no writer has run yet) it is created
    /// first by a short-lived writing connection, so a reader never meets missing tables.
    public func openReader() throws(HistoryError) -> any HistoryReader {
        if let connection = try? readOnlyConnection() {
            return try SQLiteHistoryReader(connection: connection)
        }
        _ = try openForWriting()
        return try SQLiteHistoryReader(connection: try readOnlyConnection())
    }

    private func readOnlyConnection() throws(HistoryError) -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path, readOnly: true, busyTimeout: busyTimeout)
        try SQLiteSchema.check(connection)
        return connection
    }

    /// A read-write connection on a file in WAL mode with the current schema.
    private func openForWriting() throws(HistoryError) -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path, readOnly: false, busyTimeout: busyTimeout)
        // WAL is stored in the file: set once, every later connection (readers too) uses it.
        // 8 KiB pages for a new file (ignored by an existing one): fewer, larger pages for the
        // sink to rewrite per commit; 1M listens stored from SQL ~10 % faster than with 4 KiB.
        try connection.exec("PRAGMA page_size = 8192", doing: "setting the page size")
        let mode = try connection.prepare("PRAGMA journal_mode = WAL", doing: "switching to WAL mode")
        // Retried while the file is busy: a reader opening at the same moment may hold the WAL
        // index while it rebuilds it, and this pragma does not wait through the busy handler
        // (seen as "database is locked" when a reader and the writer open together).
        let giveUp = ContinuousClock.now + .milliseconds(Int(busyTimeout))
        var isWAL = false
        while true {
            do throws(HistoryError) {
                isWAL = try mode.step() && mode.text(at: 0).lowercased() == "wal"
                mode.reset()
                break
            } catch where SQLiteConnection.isBusy(error) && ContinuousClock.now < giveUp {
                mode.reset()
                usleep(10_000)
            }
        }
        guard isWAL else { throw HistoryError("sqlite \(path): could not be switched to WAL mode", isUnavailable: true) }
        // NORMAL in WAL mode syncs the log only at checkpoints, not at every commit. A process
        // crash loses nothing committed (the log is in the OS's hands); a power loss or kernel
        // crash may lose the last transactions, never corrupt the file. The sink then reads
        // those records again from Kafka: the lost offsets went with them.
        try connection.exec("PRAGMA synchronous = NORMAL", doing: "setting synchronous = NORMAL")
        // 32 MiB of pages (allocated as used, default 2 MiB): inserts land at random places in
        // the event_id index, and with the default cache most of them re-read a page from the
        // OS. Measured: 200,000 listens in batches of 500, release build, ~7.9 s -> ~6.5 s.
        try connection.exec("PRAGMA cache_size = -32768", doing: "sizing the page cache")
        // Checkpoint after 32 MiB of log (4,096 pages of 8 KiB) rather than SQLite's 4 MiB: a
        // batch of 20,000 listens dirties more than 4 MiB of index pages, so the default copied
        // every batch back into the file at once; now a page rewritten by several batches is
        // copied once. The log is cut back to 32 MiB after a checkpoint (else it keeps its
        // largest size). 1M rows of this schema inserted from the sqlite3 CLI: 5.5 s -> ~4.3 s.
        try connection.exec("PRAGMA wal_autocheckpoint = 4096", doing: "spacing the checkpoints")
        try connection.exec("PRAGMA journal_size_limit = 33554432", doing: "bounding the log")
        try SQLiteSchema.migrate(connection)
        return connection
    }

    /// `mkdir -p` with mode 0700; returns the directory's absolute, symlink-free path.
    private static func prepareDirectory(_ directory: String) throws(HistoryError) -> String {
        guard !directory.isEmpty else { throw HistoryError("sqlite: the history directory is empty") }
        var absolute = directory
        if !directory.hasPrefix("/") {
            guard let cwd = getcwd(nil, 0) else { throw systemError("reading the current directory") }
            absolute = String(cString: cwd) + "/" + directory
            free(cwd)
        }
        var prefix = ""
        for component in absolute.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw systemError("creating \(prefix)")
            }
        }
        guard let resolved = realpath(absolute, nil) else { throw systemError("resolving \(absolute)") }
        defer { free(resolved) }
        var info = stat()
        guard stat(resolved, &info) == 0 else { throw systemError("examining \(absolute)") }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw HistoryError("sqlite: \(absolute) is not a directory", isUnavailable: true)
        }
        return String(cString: resolved)
    }

    private static func systemError(_ doing: String) -> HistoryError {
        HistoryError("sqlite: \(doing): \(String(cString: strerror(errno)))", isUnavailable: true)
    }
}
