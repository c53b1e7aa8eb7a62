import ArgumentParser
import MusicStream

/// Runs the server: Kafka consumer, live window, REST API, SSE stream and the dashboard.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the dashboard, REST API and SSE stream (default).",
        discussion: "With no --brokers, an embedded Kafka broker starts inside the process and the simulator feeds it.")

    @Option(help: "Address to listen on (env MUSICSTREAM_HOST).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (env MUSICSTREAM_PORT).") var port: Int?
    @Option(help: "Kafka bootstrap servers host:port,... (env MUSICSTREAM_BROKERS). Omit for the embedded broker.")
    var brokers: String?
    @Option(help: "Topic to consume (env MUSICSTREAM_TOPIC).") var topic: String?
    @Option(help: "Events kept in memory and served (env MUSICSTREAM_WINDOW).") var window: Int?
    @Option(help: "Partitions of the topic when the server creates it (env MUSICSTREAM_PARTITIONS; default 3).")
    var partitions: Int?
    @Option(help: "Replication factor of the topic when the server creates it on a cluster (env MUSICSTREAM_REPLICATION_FACTOR; default 1).")
    var replicationFactor: Int?
    @Flag(inversion: .prefixedNo, help: "Produce simulated listens (default: on with the embedded broker, off with --brokers).")
    var simulate: Bool?
    @Option(help: "Simulated events per second (env MUSICSTREAM_RATE; default 0.5, one every 2 s).") var rate: Double?
    @Option(help: "Seed for a reproducible simulation (env MUSICSTREAM_SEED).") var seed: UInt64?
    @Option(help: "Simulated events produced at start, stamped over the recent past (default 20 with the embedded broker, else 0).")
    var backfill: Int?
    @Flag(help: "Read every partition from its oldest kept event, not just enough to refill the window (env MUSICSTREAM_FROM_BEGINNING).")
    var fromBeginning = false
    @Option(help: "Directory of the page (default: ./Public).") var publicDir: String?
    @Option(help: "Directory holding Debian's bootstrap5/ and chart.js/, served under /vendor/ (env MUSICSTREAM_VENDOR_DIR; default /usr/share/javascript).")
    var vendorDir: String?
    @Option(help: "Require Authorization: Bearer <token> to publish events (env MUSICSTREAM_WRITE_TOKEN).")
    var writeToken: String?
    @Option(help: "Allow cross-origin browser requests from this origin, or * (env MUSICSTREAM_CORS_ORIGIN). Off by default.")
    var corsOrigin: String?
    @Option(name: .customLong("kafka-config"), help: "librdkafka property key=value, repeatable (env MUSICSTREAM_KAFKA_*).")
    var kafkaConfig: [String] = []
    @Option(help: "Most client connections served at once; more get 503 (env MUSICSTREAM_MAX_CONNECTIONS; default 10000, lowered to fit the open-file limit).")
    var maxConnections: Int?
    @Option(help: "Seconds a client has to send a request's headers, and then its body; slower clients get 408 and are disconnected (env MUSICSTREAM_HEADER_TIMEOUT; default 10).")
    var headerTimeout: Double?
    @Option(help: "Seconds an idle keep-alive connection stays open (env MUSICSTREAM_IDLE_TIMEOUT; default 30).")
    var idleTimeout: Int?
    @Option(help: "Unsent bytes a /stream subscriber may hold; one that stays over this for 2 s, or passes twice that, is disconnected (env MUSICSTREAM_MAX_STREAM_BUFFER; default 1048576, range 4096...1073741824).")
    var maxStreamBuffer: Int?

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        if let window, !(1...10_000_000).contains(window) { throw ValidationError("--window must be 1...10000000") }
        if let rate, !(rate >= 0 && rate <= 1_000_000) { throw ValidationError("--rate must be 0...1000000") }
        if let backfill, !(0...100_000).contains(backfill) { throw ValidationError("--backfill must be 0...100000") }
        if let partitions, !(1...10_000).contains(partitions) { throw ValidationError("--partitions must be 1...10000") }
        if let replicationFactor, !(1...100).contains(replicationFactor) { throw ValidationError("--replication-factor must be 1...100") }
        if let maxConnections, !(1...1_000_000).contains(maxConnections) { throw ValidationError("--max-connections must be 1...1000000") }
        if let headerTimeout, !(headerTimeout >= 0.1 && headerTimeout <= 3_600) { throw ValidationError("--header-timeout must be 0.1...3600") }
        if let idleTimeout, !(1...86_400).contains(idleTimeout) { throw ValidationError("--idle-timeout must be 1...86400") }
        if let maxStreamBuffer, !Self.streamBufferRange.contains(maxStreamBuffer) {
            throw ValidationError("--max-stream-buffer must be 4096...1073741824")
        }
    }

    func run() throws {
        var config = ServiceConfig()
        config.host = host ?? Environment.string("MUSICSTREAM_HOST") ?? config.host
        config.port = try port ?? Environment.string("MUSICSTREAM_PORT").map { try Self.number($0, "MUSICSTREAM_PORT") } ?? config.port
        config.brokers = brokers ?? Environment.string("MUSICSTREAM_BROKERS")
        config.topic = topic ?? Environment.string("MUSICSTREAM_TOPIC") ?? config.topic
        config.windowCapacity = try window ?? Environment.string("MUSICSTREAM_WINDOW").map { try Self.number($0, "MUSICSTREAM_WINDOW") } ?? config.windowCapacity
        config.partitions = try partitions ?? Environment.string("MUSICSTREAM_PARTITIONS").map { try Self.number($0, "MUSICSTREAM_PARTITIONS") } ?? config.partitions
        config.replicationFactor = try replicationFactor
            ?? Environment.string("MUSICSTREAM_REPLICATION_FACTOR").map { try Self.number($0, "MUSICSTREAM_REPLICATION_FACTOR") } ?? config.replicationFactor
        config.simulate = simulate ?? config.usesEmbeddedBroker
        if let rate = rate ?? Environment.string("MUSICSTREAM_RATE").flatMap(Double.init) { config.rate = rate }
        config.seed = seed ?? Environment.string("MUSICSTREAM_SEED").flatMap { UInt64($0) }
        config.backfill = backfill ?? (config.usesEmbeddedBroker && config.simulate ? 20 : 0)
        config.fromBeginning = try fromBeginning || Environment.flag("MUSICSTREAM_FROM_BEGINNING")
        config.publicDirectory = publicDir ?? Environment.string("MUSICSTREAM_PUBLIC_DIR")
        config.vendorDirectory = vendorDir ?? Environment.string("MUSICSTREAM_VENDOR_DIR") ?? config.vendorDirectory
        config.kafkaProperties = try Environment.kafkaProperties(flags: kafkaConfig)
        config.writeToken = writeToken ?? Environment.string("MUSICSTREAM_WRITE_TOKEN")
        config.corsOrigin = corsOrigin ?? Environment.string("MUSICSTREAM_CORS_ORIGIN")
        config.maxConnections = try maxConnections
            ?? Environment.string("MUSICSTREAM_MAX_CONNECTIONS").map { try Self.number($0, "MUSICSTREAM_MAX_CONNECTIONS") } ?? config.maxConnections
        config.headerTimeout = try headerTimeout
            ?? Environment.string("MUSICSTREAM_HEADER_TIMEOUT").map { try Self.seconds($0, "MUSICSTREAM_HEADER_TIMEOUT") } ?? config.headerTimeout
        config.idleTimeout = try idleTimeout
            ?? Environment.string("MUSICSTREAM_IDLE_TIMEOUT").map { try Self.number($0, "MUSICSTREAM_IDLE_TIMEOUT") } ?? config.idleTimeout
        config.maxPendingStreamBytes = try maxStreamBuffer
            ?? Environment.string("MUSICSTREAM_MAX_STREAM_BUFFER").map { try Self.number($0, "MUSICSTREAM_MAX_STREAM_BUFFER") }
            ?? config.maxPendingStreamBytes
        // The flags were checked in validate(); these catch the environment variables.
        guard (1...1_000_000).contains(config.maxConnections) else { throw ValidationError("MUSICSTREAM_MAX_CONNECTIONS must be 1...1000000") }
        guard (1...86_400).contains(config.idleTimeout) else { throw ValidationError("MUSICSTREAM_IDLE_TIMEOUT must be 1...86400") }
        guard Self.streamBufferRange.contains(config.maxPendingStreamBytes) else {
            throw ValidationError("MUSICSTREAM_MAX_STREAM_BUFFER must be 4096...1073741824")
        }
        do {
            try MusicStreamServer(config: config).run()
        } catch {
            ServiceLog.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// Below a few KiB a single burst of events would cut off healthy readers; above 1 GiB one
    /// stalled subscriber could hold more memory than the whole window.
    private static let streamBufferRange = 4_096...1_073_741_824

    private static func seconds(_ text: String, _ name: String) throws -> Double {
        guard let value = Double(text), value >= 0.1, value <= 3_600 else {
            throw ValidationError("\(name) must be a number of seconds from 0.1 to 3600, got '\(text)'")
        }
        return value
    }

    private static func number(_ text: String, _ name: String) throws -> Int {
        guard let value = Int(text) else { throw ValidationError("\(name) must be a whole number, got '\(text)'") }
        return value
    }
}
