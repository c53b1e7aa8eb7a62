import Foundation
import EventHTTP
import KafkaClient
import Logging
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
    private let logger: Logger
    private var stopWaker: LoopWaker?

    /// Called once the server listens, with the bound port and the Kafka bootstrap address.
    public var onReady: ((_ port: Int, _ bootstrapServers: String) -> Void)?

    /// `logger` receives the service's lines and librdkafka's and libevent's own.
    public init(config: ServiceConfig, logger: Logger) {
        self.config = config
        self.logger = logger
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
            if let warning = Librdkafka.outdatedWarning { logger.warning("\(warning)") }
        } else {
            let embedded = try EmbeddedCluster(topics: [(config.topic, config.partitions)], logger: logger)
            cluster = embedded
            bootstrapServers = embedded.bootstrapServers
        }
        let kafkaConfig = KafkaConfig(bootstrapServers: bootstrapServers, properties: config.kafkaProperties)

        let loop = try EventLoop(logger: logger)
        let hub = SSEHub(maxPendingBytes: config.maxPendingStreamBytes, logger: logger)
        let live = LiveWindow(capacity: config.windowCapacity, hub: hub, sequenceBase: LiveWindow.clockSequenceBase())
        let stats = IngestStats()
        let queue = HandOffQueue<EventBatch>()
        let waker = loop.makeWaker { live.ingest(batches: queue.takeAll()) }
        // One producer for events published through the API, with a delivery deadline that matches
        // the API's promise (503 after 5 s) and no batching delay (a person is waiting), and one
        // for the simulator, which may batch and wait longer.
        let tuning = KafkaTuning()
        let apiProducer = try KafkaProducer(config: tuning.apiProducer(kafkaConfig), name: "api", logger: logger)
        let simulatorProducer = config.simulate ? try KafkaProducer(config: tuning.simulatorProducer(kafkaConfig), name: "simulator", logger: logger) : nil
        let producerFailures = { apiProducer.failedCount + (simulatorProducer?.failedCount ?? 0) }

        // Simulated events start once the topic exists, for the same reason.
        let simulator = simulatorProducer.map {
            SimulatorRunner(producer: $0, topic: config.topic, rate: config.rate,
                            seed: config.seed ?? UInt64.random(in: 0...UInt64.max), backfill: config.backfill, logger: logger)
        }
        let consumerConfig = tuning.windowConsumer(kafkaConfig, embeddedBroker: cluster != nil)
        let ingest = KafkaIngest(
            consumer: try PartitionConsumer(config: consumerConfig, topic: config.topic, logger: logger),
            queue: queue, stats: stats, windowCapacity: config.windowCapacity,
            fromBeginning: config.fromBeginning, wake: { waker.wake() },
            // The first POST should not wait for the API producer's connection and metadata. Only
            // once the topic exists: a producer's metadata request may auto-create it otherwise,
            // with the broker's defaults instead of --partitions.
            onAssigned: { [topic = config.topic] in
                apiProducer.prepare(topic: topic)
                simulator?.start()
            },
            createTopic: { [config, logger] in
                let created = try TopicAdmin.createTopic(
                    config: kafkaConfig, name: config.topic, partitions: config.partitions,
                    replicationFactor: config.replicationFactor, logger: logger)
                if created {
                    logger.info("created topic \(config.topic) (\(config.partitions) partitions, replication factor \(config.replicationFactor))")
                }
            },
            logger: logger)

        let router = Router()
        let routes = APIRoutes(
            live: live, stats: stats,
            kafka: KafkaStatus(
                mode: cluster == nil ? "external" : "embedded", bootstrapServers: bootstrapServers,
                topic: config.topic, partitions: { ingest.partitions.load(ordering: .acquiring) },
                health: { ingest.health },
                reachable: { ingest.reachable.load(ordering: .acquiring) },
                lag: { ingest.lag() },
                deliveryFailures: { producerFailures() }),
            startedAt: startedAt)
        routes.register(on: router)
        let publisher = EventPublisher(
            loop: loop, producer: apiProducer, topic: config.topic, token: config.writeToken.map(WriteToken.init))
        router.post("/api/events") { request in publisher.handle(request) }
        let publicDirectory = config.publicDirectory ?? Self.locatePublicDirectory()
        let specPath = config.openAPIPath ?? URL(fileURLWithPath: publicDirectory).deletingLastPathComponent().appendingPathComponent("openapi.yaml").path
        if let spec = FileManager.default.contents(atPath: specPath) {
            let body = Array(spec)
            router.get("/openapi.yaml") { request throws(ProblemDetails) in
                try EventQuery.requireNone(request)
                return .respond(HTTPResponse(status: 200, headers: [(name: "Content-Type", value: "application/yaml")], body: body))
            }
        } else {
            logger.warning("no OpenAPI description at \(specPath); /openapi.yaml will answer 404")
        }
        let files = StaticFiles(root: publicDirectory, extraMounts: Self.vendorMounts(in: config.vendorDirectory))
        router.fallback = { request in
            // Under /api/ a miss is an API error, not a missing page asset.
            if request.path.hasPrefix("/api/") || request.path == "/api" {
                return .respond(ProblemDetails(status: 404, title: "Not found", detail: "no API endpoint at \(request.path.prefix(200))").response)
            }
            return files.handle(request)
        }

        // Security headers on every response; CORS only when an origin is configured.
        var middleware: [any HTTPMiddleware] = [DefaultHeaders(Self.securityHeaders)]
        if let origin = config.corsOrigin { middleware.append(CORS(origin: origin)) }
        var options = HTTPServerOptions()
        // The publisher checks the exact 64 KiB limit and answers with problem details; the
        // server cuts off anything past 1 MiB (413) before buffering more.
        options.maxBodySize = 1 << 20
        // The longest valid query (4 repeatable filters x 50 values x 256 bytes, percent-encoded)
        // is about 155 KB; a longer request line gets 414.
        options.maxRequestLineSize = 192 * 1024
        options.headerTimeoutSeconds = config.headerTimeout
        options.timeoutSeconds = config.idleTimeout
        options.maxConnections = Self.connectionLimit(config.maxConnections, logger: logger)
        let server = try HTTPServer(
            loop: loop, application: HTTPApplication(router: router, middleware: middleware), options: options)
        server.onResponse = { method, route, status, seconds in
            routes.httpMetrics.record(route: route, method: method.rawValue, status: status, seconds: seconds)
        }
        server.onRefusal = { status in routes.httpMetrics.recordRefusal(status: status) }
        let port = try server.bind(host: config.host, port: config.port)

        ingest.start()

        let pings = loop.repeatingTimer(every: config.pingInterval) { hub.ping() }
        var rateMeter = RateMeter()
        let statsTicker = loop.repeatingTimer(every: 1) {
            let consumed = stats.consumed
            hub.sendStats(consumed: consumed, eventsPerSecond: rateMeter.update(total: consumed)) { filter in
                filter.isEmpty ? live.window.count : live.window.newestFirst().reduce(0) { $0 + (filter.matches($1.event) ? 1 : 0) }
            }
        }
        let drain = GracefulDrain(loop: loop, deadline: EventPublisher.acknowledgementDeadline + 1, logger: logger) {
            server.stopListening()
            hub.closeAll()
        } isIdle: {
            publisher.waitingCount == 0 && server.pendingResponseCount == 0 && server.unsentOutputBytes == 0
        }
        let interrupt = loop.onSignal(SIGINT) { drain.begin() }
        let terminate = loop.onSignal(SIGTERM) { drain.begin() }
        stopWaker = loop.makeWaker { drain.begin() }

        if let warning = config.exposureWarning { logger.warning("\(warning)") }

        let mode = cluster == nil ? "external" : "embedded"
        Self.announce("kafka: \(mode) broker at \(bootstrapServers), topic \(config.topic) (librdkafka \(Librdkafka.version))")
        Self.announce("musicstream listening on http://\(config.host):\(port)")
        if config.simulate { Self.announce("simulator: \(config.rate) events/s") }
        onReady?(port, bootstrapServers)

        loop.run()

        logger.info("shutting down")
        simulator?.stop()
        for producer in [apiProducer, simulatorProducer].compactMap({ $0 }) {
            let undelivered = producer.close(timeout: .seconds(5))
            if undelivered > 0 { logger.warning("\(undelivered) events were not delivered to Kafka") }
            // The account an operator (and the shutdown test) checks against the topic.
            logger.info("""
                producer \(producer.name): \(producer.queuedCount) queued, \(producer.deliveredCount) delivered, \
                \(producer.failedCount) failed, \(undelivered) undelivered at exit
                """)
        }
        ingest.stop()
        pings.cancel()
        statsTicker.cancel()
        interrupt.cancel()
        terminate.cancel()
        publisher.failWaiting()
        hub.closeAll()
        server.shutdown()
        withExtendedLifetime(cluster) {}
        logger.info("stopped")
    }

    /// Thread-safe: asks a running server to shut down as if it got SIGTERM.
    public func requestStop() { stopWaker?.wake() }

    /// The one other origin the page may load code from: its CDN fallback for Bootstrap and
    /// Chart.js when Debian's copies are not installed (pinned versions, SRI-checked; see Public/vendor.js).
    static let assetCDN = "https://cdnjs.cloudflare.com"

    /// Headers on every response: no MIME sniffing, no referrer leaks, and a CSP that allows only
    /// the page's own scripts and styles plus the asset CDN (no inline script).
    static let securityHeaders: [(name: String, value: String)] = [
        (name: "X-Content-Type-Options", value: "nosniff"),
        (name: "Referrer-Policy", value: "no-referrer"),
        (name: "Content-Security-Policy", value:
            "default-src 'self'; script-src 'self' \(assetCDN); style-src 'self' \(assetCDN); img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    ]

    /// `requested`, or less when the open-file limit (raised to its hard limit first) cannot
    /// hold that many connections next to everything else the process opens.
    static func connectionLimit(_ requested: Int, logger: Logger) -> Int {
        let fileLimit = OpenFileLimit.raiseToHardLimit()
        let ceiling = OpenFileLimit.connectionCeiling(limit: fileLimit)
        guard requested > ceiling else { return requested }
        logger.warning("""
            at most \(ceiling) connections fit under the open-file limit of \(fileLimit); \
            serving \(ceiling) rather than \(requested)
            """)
        return ceiling
    }

    /// Debian's packaged Bootstrap and Chart.js under `directory`, served under /vendor/ when installed.
    static func vendorMounts(in directory: String) -> [(prefix: String, directory: String)] {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let candidates = [
            (prefix: "/vendor/bootstrap/", directory: base + "bootstrap5/"),
            (prefix: "/vendor/chart.js/", directory: base + "chart.js/"),
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
