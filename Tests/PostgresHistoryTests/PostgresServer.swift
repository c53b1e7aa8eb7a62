import Foundation
import Synchronization
@testable import History

/// A real PostgreSQL 15 server on a free loopback port, in a temporary directory, for the store's
/// tests. PostgreSQL refuses to run as root: as root, the directory is handed to the postgres
/// system user and the server programs run as that user (runuser). `shared` is started once per
/// test run and stopped (its directory removed) when the process exits; a test that stops its
/// server on purpose starts its own.
final class PostgresServer: Sendable {
    static let binaries = "/usr/lib/postgresql/15/bin"
    static let role = "musicstream"

    let directory: String
    let port: Int
    private let databases = Atomic<Int>(0)

    /// The run's server, started by the first test that asks. A failure to start (PostgreSQL not
    /// installed) fails every test that needs it, with the reason.
    static func shared() throws -> PostgresServer {
        try sharedStart.get()
    }

    private static let sharedStart = Result { () throws(ServerError) -> PostgresServer in
        let server = try PostgresServer()
        return server
    }

    /// Servers still running, stopped at exit.
    private static let running = Mutex<[PostgresServer]>([])
    private static let exitHook: Void = {
        atexit {
            for server in PostgresServer.running.withLock({ $0 }) { server.remove() }
        }
    }()

    struct ServerError: Error, CustomStringConvertible {
        var description: String
    }

    /// initdb in a fresh directory, then start.
    init() throws(ServerError) {
        guard FileManager.default.isExecutableFile(atPath: Self.binaries + "/initdb") else {
            throw ServerError(description: "PostgreSQL 15 is not installed (\(Self.binaries)/initdb is missing): run scripts/setup --test")
        }
        var template = Array("/tmp/musicstream-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ServerError(description: "cannot create a temporary directory: errno \(errno)")
        }
        directory = String(cString: made)
        port = try Self.freePort()
        _ = Self.exitHook
        Self.running.withLock { $0.append(self) }
        if getuid() == 0 {
            guard let user = getpwnam("postgres") else {
                throw ServerError(description: "no postgres system user: run scripts/setup --test")
            }
            guard chown(directory, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw ServerError(description: "cannot give \(directory) to the postgres user: errno \(errno)")
            }
        }
        try Self.run([Self.binaries + "/initdb", "-D", directory + "/data", "-A", "trust", "-U", Self.role, "-E", "UTF8", "--no-sync"],
                     log: directory + "/initdb.log")
        try start()
    }

    /// Starts (or restarts) the server and waits, bounded, until it accepts connections.
    func start() throws(ServerError) {
        try Self.run(
            [Self.binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "30",
             "-o", "-p \(port) -k \(directory) -h 127.0.0.1", "start"],
            log: directory + "/pg_ctl.log")
        var lastError = ""
        for _ in 0..<100 {
            do {
                _ = try PostgresConnection(conninfo: url(database: "postgres"), label: "test server", connectTimeoutSeconds: 2)
                return
            } catch {
                lastError = error.message
                usleep(100_000)
            }
        }
        throw ServerError(description: "the server does not accept connections: \(lastError)")
    }

    /// Fast shutdown: open connections are cut, as when a database host goes down.
    func stop() throws(ServerError) {
        try Self.run([Self.binaries + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"], log: directory + "/pg_ctl.log")
    }

    /// Stops the server if it runs and deletes its directory.
    func remove() {
        if FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") {
            try? stop()
        }
        try? FileManager.default.removeItem(atPath: directory)
        Self.running.withLock { servers in servers.removeAll { $0 === self } }
    }

    func url(database: String) -> String {
        "postgres://\(Self.role)@127.0.0.1:\(port)/\(database)"
    }

    /// A new empty database, so tests running in parallel never see each other's rows.
    func createDatabase() throws -> String {
        let name = "test_\(databases.add(1, ordering: .relaxed).newValue)"
        let admin = try PostgresConnection(conninfo: url(database: "postgres"), label: "test server", connectTimeoutSeconds: 5)
        try admin.execute("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// Runs a server program, as the postgres user when we are root, its output to `log`, and
    /// waits for it. posix_spawn rather than Foundation's Process: the server pg_ctl leaves
    /// running would inherit Process's exit-watching descriptor (and any open connection of a
    /// test running in parallel), and Process would wait for the server's end. Every descriptor
    /// above stderr is closed in the child.
    private static func run(_ arguments: [String], log: String) throws(ServerError) {
        let argv = (getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            throw ServerError(description: "this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34+)")
        }
        // Swift's Glibc module does not declare it (a GNU extension), so it is looked up.
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3)
        var cArguments = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            throw ServerError(description: "cannot run \(argv[0]): error \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exited normally (low 7 bits 0) with code 0.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ServerError(description: "\(arguments[0]) failed (status \(status)): \(text.suffix(2_000))")
        }
    }

    /// A loopback port nobody listens on now (the kernel's pick for a socket bound to port 0).
    private static func freePort() throws(ServerError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else { throw ServerError(description: "bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
