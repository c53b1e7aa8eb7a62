import Foundation
import Logging
import MusicStream
import Synchronization

/// A whole musicstream server in this process (embedded broker, simulator, consumer, window,
/// history, HTTP on a free loopback port), as WholeServerTests starts one; stopped by `stop`.
/// Only the 20 backfilled listens and what a test publishes reach it (rate 0), so counts are exact.
final class LiveServer: Sendable {
    let port: Int
    private let server: MusicStreamServer
    private let dataDirectory: String
    private let outcome: Outcome

    /// What `run()` returned, once it has; shared with the thread that runs it.
    private final class Outcome: Sendable {
        let result = Mutex<Result<Void, any Error>?>(nil)
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init() throws {
        var config = ServiceConfig()
        config.port = 0
        config.settleSimulation(simulate: true)
        config.rate = 0
        config.windowCapacity = 1_000
        let dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("musicstream-client-\(UUID().uuidString)").path
        config.dataDirectory = dataDirectory
        var logger = Logger(label: "client-tests")
        logger.logLevel = .warning
        let ready = Mutex<Int?>(nil)
        let server = MusicStreamServer(config: config, logger: logger) { port, _ in ready.withLock { $0 = port } }
        let outcome = Outcome()
        Thread {
            // Run outside the lock: the waits below read the outcome while the server runs.
            let result = Result { try server.run() }
            outcome.result.withLock { $0 = result }
        }.start()
        let deadline = Date().addingTimeInterval(30)
        while ready.withLock({ $0 }) == nil, outcome.result.withLock({ $0 }) == nil, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let port = ready.withLock({ $0 }) else {
            server.requestStop()
            throw LiveServerError("the server did not become ready: \(String(describing: outcome.result.withLock { $0 }))")
        }
        self.port = port
        self.server = server
        self.dataDirectory = dataDirectory
        self.outcome = outcome
    }

    /// Stops the server and waits (bounded) for `run()` to return; removes its data.
    func stop() {
        server.requestStop()
        let deadline = Date().addingTimeInterval(30)
        while outcome.result.withLock({ $0 }) == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

struct LiveServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `probe` every 50 ms until it gives a value or `seconds` pass.
func eventually<T>(within seconds: Double, _ probe: () async throws -> T?) async throws -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await probe()
}
