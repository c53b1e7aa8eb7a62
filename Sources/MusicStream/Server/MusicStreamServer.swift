import EventHTTP
import KafkaClient
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The whole service in one process: Kafka (embedded or external) → consumer thread → live window
/// on the HTTP loop → REST, SSE and the page; optionally the simulator producing into the topic.
/// Threads: the caller's thread runs the libevent loop and owns all HTTP state; the consumer and
/// the simulator have a thread each; librdkafka runs its own.
public final class MusicStreamServer: Sendable {
    private let config: ServiceConfig
    private let logger: Logger
    private let onReady: @Sendable (_ port: Int, _ bootstrapServers: String) -> Void
    /// Set by `run` once the loop exists; `requestStop` may come from any thread.
    private let stopWaker = Mutex<LoopWaker?>(nil)

    /// `logger` receives the service's lines and librdkafka's and libevent's own. `onReady` is
    /// called on the loop thread once the server listens, with the bound port and the Kafka
    /// bootstrap address, so an embedding program (or a test) learns where to connect.
    public init(config: ServiceConfig, logger: Logger,
                onReady: @escaping @Sendable (_ port: Int, _ bootstrapServers: String) -> Void = { _, _ in }) {
        self.config = config
        self.logger = logger
        self.onReady = onReady
    }

    /// Runs until SIGINT or SIGTERM (or `requestStop`), then drains and shuts down in order:
    /// simulator, producer flush, consumer, HTTP.
    public func run() throws {
        signal(SIGPIPE, SIG_IGN)
        FreedMemory.fixLargeBlockThreshold()
        let startedAt = ContinuousClock.now
        let loop = try EventLoop(logger: logger)
        let live = LiveWindow(capacity: config.windowCapacity,
                              hub: SSEHub(maxPendingBytes: config.maxPendingStreamBytes, maxReplay: config.maxReplay,
                                          maxRoundDelay: Double(config.maxStreamDelayMilliseconds) / 1_000, logger: logger),
                              sequenceBase: LiveWindow.clockSequenceBase())
        let handOff = EventBatchHandOff()
        let waker = loop.makeWaker { handOff.deliver { live.ingest(batches: $0) } }
        let kafka = try KafkaSide(config: config, handOff: handOff, deliver: { waker.wake() }, logger: logger)
        let publisher = EventPublisher(loop: loop, producer: kafka.apiProducer, topic: config.topic,
                                       token: config.writeToken.map(WriteToken.init))
        let history = try HistorySide(config: config, kafka: kafka, loop: loop, logger: logger)
        live.hub.replayFromHistory = history?.streamReplay(live: live, limit: config.maxReplay)
        live.hub.scheduleRound = { seconds, round in loop.after(seconds: seconds, round) }
        let httpMetrics = HTTPMetrics()
        let server = try makeHTTPServer(loop: loop, metrics: httpMetrics, routes: makeRoutes(
            live: live, kafka: kafka, publisher: publisher, history: history, loop: loop,
            httpMetrics: httpMetrics, startedAt: startedAt))
        let port = try server.bind(host: config.host, port: config.port)
        kafka.ingest.start()
        history?.sink.start()
        let timers = StreamTimers(loop: loop, live: live, stats: kafka.stats, pingInterval: config.pingInterval)
        let stopRequests = listenForStop(on: loop, drain: GracefulDrain(
            loop: loop, deadline: EventPublisher.acknowledgementDeadline + 1, logger: logger,
            quiesce: { server.stopListening(); live.hub.closeAll() },
            isIdle: { publisher.waitingCount == 0 && server.pendingResponseCount == 0 && server.unsentOutputBytes == 0 }))
        announce(port: port, kafka: kafka)

        loop.run()

        logger.info("shutting down")
        kafka.stopProducing()
        history?.stop()
        kafka.close()
        timers.cancel()
        for request in stopRequests { request.cancel() }
        publisher.failWaiting()
        live.hub.closeAll()
        server.shutdown()
        withExtendedLifetime(kafka) {}   // the embedded broker goes last
        logger.info("stopped")
    }

    /// Asks a running server, from any thread, to shut down as if it got SIGTERM.
    public func requestStop() { stopWaker.withLock { $0 }?.wake() }

    private func makeRoutes(live: LiveWindow, kafka: KafkaSide, publisher: EventPublisher, history: HistorySide?,
                            loop: EventLoop, httpMetrics: HTTPMetrics, startedAt: ContinuousClock.Instant) -> Routes {
        let cache = ResponseCache()
        let kafkaStatus = kafka.status(topic: config.topic)
        let historyStatus = history.map { HistoryStatus(store: $0.store.description, sink: $0.sink) }
        let metricsSources: [any MetricsSource] = [kafka.stats, live, kafkaStatus, live.hub, cache, httpMetrics]
            + (historyStatus.map { [$0] } ?? [])
        return Routes(
            read: ReadEndpoints(live: live, cache: cache, topic: config.topic, queries: history?.queries),
            status: StatusEndpoints(
                live: live, stats: kafka.stats, kafka: kafkaStatus, startedAt: startedAt, history: historyStatus,
                metricsSources: metricsSources),
            stream: StreamEndpoint(live: live),
            publisher: publisher,
            history: HistoryEndpoints(queries: history?.queries, exportEnabled: config.exportEnabled, loop: loop),
            site: StaticSite(config: config, logger: logger))
    }

    private func makeHTTPServer(loop: EventLoop, metrics: HTTPMetrics, routes: Routes) throws -> HTTPServer {
        let router = Router()
        routes.register(on: router)
        let server = try HTTPServer(
            loop: loop, application: HTTPApplication(router: router, middleware: HTTPSettings.middleware(config)),
            options: HTTPSettings.options(config, logger: logger))
        server.onResponse = { method, route, status, seconds in
            metrics.record(route: route, method: method.rawValue, status: status, seconds: seconds)
        }
        server.onRefusal = { status in metrics.recordRefusal(status: status) }
        return server
    }

    /// SIGINT, SIGTERM and `requestStop` all begin the drain.
    private func listenForStop(on loop: EventLoop, drain: GracefulDrain) -> [LoopTimer] {
        let waker = loop.makeWaker { drain.begin() }
        stopWaker.withLock { $0 = waker }
        return [loop.onSignal(SIGINT) { drain.begin() }, loop.onSignal(SIGTERM) { drain.begin() }]
    }

    /// The start-up lines scripts read (the broker's address, the URL), then `onReady`.
    private func announce(port: Int, kafka: KafkaSide) {
        if let warning = config.exposureWarning { logger.warning("\(warning)") }
        StandardOutput.line("kafka: \(kafka.mode) broker at \(kafka.bootstrapServers), topic \(config.topic) (librdkafka \(Librdkafka.version))")
        StandardOutput.line("musicstream listening on http://\(config.host):\(port)")
        if config.simulate { StandardOutput.line("simulator: \(config.rate) events/s") }
        onReady(port, kafka.bootstrapServers)
    }
}
