import Foundation
import EventHTTP
import KafkaClient
import MusicModel
#if canImport(Glibc)
import Glibc
#endif

/// The whole service in one process: Kafka (embedded or external) → consumer thread → live window
/// on the HTTP loop → REST, SSE and the page; optionally the simulator producing into the topic.
/// Threads: the caller's thread runs the libevent loop and owns all HTTP state; the consumer and
/// the simulator have a thread each; librdkafka runs its own.
public final class MusicStreamServer {
    private let config: ServiceConfig
    private var stopWaker: LoopWaker?

    /// Called once the server listens, with the bound port and the Kafka bootstrap address.
    public var onReady: ((_ port: Int, _ bootstrapServers: String) -> Void)?

    public init(config: ServiceConfig) {
        self.config = config
    }

    /// Runs until SIGINT or SIGTERM (or `requestStop`), then shuts down in order: simulator,
    /// producer flush, consumer, HTTP.
    public func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let startedAt = ContinuousClock.now

        // Kafka first: without it there is nothing to serve.
        var cluster: EmbeddedCluster?
        let bootstrapServers: String
        if let brokers = config.brokers {
            bootstrapServers = brokers
            if let warning = Librdkafka.outdatedWarning { ServiceLog.warning(warning) }
        } else {
            let embedded = try EmbeddedCluster(topics: [(config.topic, config.embeddedPartitions)])
            cluster = embedded
            bootstrapServers = embedded.bootstrapServers
        }
        let kafkaConfig = KafkaConfig(bootstrapServers: bootstrapServers, properties: config.kafkaProperties)

        let loop = try EventLoop()
        let hub = SSEHub(maxPendingBytes: config.maxPendingStreamBytes)
        let live = LiveWindow(capacity: config.windowCapacity, hub: hub)
        let stats = IngestStats()
        let queue = IngestQueue()
        let waker = loop.makeWaker { live.ingest(queue.takeAll()) }
        let ingest = KafkaIngest(
            consumer: try PartitionConsumer(config: kafkaConfig, topic: config.topic),
            queue: queue, stats: stats, windowCapacity: config.windowCapacity, wake: { waker.wake() })

        // One producer for events published through the API, with a delivery deadline that matches
        // the API's promise (503 after 5 s), and one for the simulator, which may wait longer.
        let publisher = try KafkaProducer(
            config: KafkaConfig(
                bootstrapServers: bootstrapServers,
                properties: ["message.timeout.ms": "5000"].merging(config.kafkaProperties) { $1 }),
            name: "api")
        let simulatorProducer = config.simulate ? try KafkaProducer(config: kafkaConfig, name: "simulator") : nil
        let producerFailures = { publisher.failedCount + (simulatorProducer?.failedCount ?? 0) }

        let router = Router()
        APIRoutes(
            live: live, stats: stats,
            kafka: KafkaStatus(
                mode: cluster == nil ? "external" : "embedded", bootstrapServers: bootstrapServers,
                topic: config.topic, partitions: { ingest.partitions.load(ordering: .acquiring) },
                health: { ingest.health },
                lag: { ingest.lag() },
                deliveryFailures: { producerFailures() }),
            startedAt: startedAt
        ).register(on: router)
        let publicDirectory = config.publicDirectory ?? Self.locatePublicDirectory()
        let files = StaticFiles(root: publicDirectory, extraMounts: Self.vendorMounts())
        router.fallback = { request in files.handle(request) }

        var options = HTTPServerOptions()
        options.defaultHeaders = Self.securityHeaders
        let server = try HTTPServer(loop: loop, router: router, options: options)
        let port = try server.bind(host: config.host, port: config.port)

        ingest.start()
        var simulator: SimulatorRunner?
        if let simulatorProducer {
            let runner = SimulatorRunner(
                producer: simulatorProducer, topic: config.topic, rate: config.rate,
                seed: config.seed ?? UInt64.random(in: 0...UInt64.max), backfill: config.backfill)
            runner.start()
            simulator = runner
        }

        let pings = loop.repeatingTimer(every: config.pingInterval) { hub.ping() }
        var rateMeter = RateMeter()
        let statsTicker = loop.repeatingTimer(every: 1) {
            let consumed = stats.consumed
            hub.sendStats(consumed: consumed, eventsPerSecond: rateMeter.update(total: consumed)) { filter in
                filter.isEmpty ? live.window.count : live.window.newestFirst().reduce(0) { $0 + (filter.matches($1.event) ? 1 : 0) }
            }
        }
        let interrupt = loop.onSignal(SIGINT) { loop.stop() }
        let terminate = loop.onSignal(SIGTERM) { loop.stop() }
        stopWaker = loop.makeWaker { loop.stop() }

        let mode = cluster == nil ? "external" : "embedded"
        Self.announce("kafka: \(mode) broker at \(bootstrapServers), topic \(config.topic) (librdkafka \(Librdkafka.version))")
        Self.announce("musicstream listening on http://\(config.host):\(port)")
        if config.simulate { Self.announce("simulator: \(config.rate) events/s") }
        onReady?(port, bootstrapServers)

        loop.run()

        ServiceLog.info("shutting down")
        simulator?.stop()
        for producer in [publisher, simulatorProducer].compactMap({ $0 }) {
            let undelivered = producer.close(timeout: .seconds(5))
            if undelivered > 0 { ServiceLog.warning("\(undelivered) events were not delivered to Kafka") }
        }
        ingest.stop()
        pings.cancel()
        statsTicker.cancel()
        interrupt.cancel()
        terminate.cancel()
        hub.closeAll()
        server.shutdown()
        withExtendedLifetime(cluster) {}
        ServiceLog.info("stopped")
    }

    /// Thread-safe: asks a running server to shut down as if it got SIGTERM.
    public func requestStop() { stopWaker?.wake() }

    /// Headers on every response: no MIME sniffing, no referrer leaks, and a CSP that allows only
    /// the page's own scripts and styles (no inline script).
    static let securityHeaders: [(name: String, value: String)] = [
        (name: "X-Content-Type-Options", value: "nosniff"),
        (name: "Referrer-Policy", value: "no-referrer"),
        (name: "Content-Security-Policy", value:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    ]

    /// Debian's packaged Bootstrap and Chart.js, served under /vendor/ when installed.
    static func vendorMounts() -> [(prefix: String, directory: String)] {
        let candidates = [
            (prefix: "/vendor/bootstrap/", directory: "/usr/share/javascript/bootstrap5/"),
            (prefix: "/vendor/chart.js/", directory: "/usr/share/javascript/chart.js/"),
        ]
        return candidates.filter { FileManager.default.fileExists(atPath: $0.directory) }
    }

    /// `Public/` in the working directory, else next to the checkout the executable was built in.
    static func locatePublicDirectory() -> String {
        let fileManager = FileManager.default
        let local = fileManager.currentDirectoryPath + "/Public"
        if fileManager.fileExists(atPath: local + "/index.html") { return local }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent("Public").path
            if fileManager.fileExists(atPath: candidate + "/index.html") { return candidate }
            directory.deleteLastPathComponent()
        }
        return local
    }

    private static func announce(_ line: String) { StandardOutput.line(line) }
}
