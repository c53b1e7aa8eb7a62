import EventHTTP
import JSON
import KafkaClient
import MusicAPI

/// `GET /healthz`, `/readyz`, `/api/status` and `/metrics`: how the process is doing, for
/// load balancers, operators and Prometheus.
struct StatusEndpoints {
    let live: LiveWindow
    let stats: IngestStats
    let kafka: KafkaStatus
    let startedAt: ContinuousClock.Instant
    /// nil with `--history none`.
    let history: HistoryStatus?
    /// Everything `/metrics` reports, in the order it is written.
    let metricsSources: [any MetricsSource]

    /// 200 once the server is up.
    func health(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        try EventQuery.requireNone(request)
        return .respond(.json(Array(#"{"status":"ok"}"#.utf8)))
    }

    /// 200 while the consumer is assigned and the cluster answers; 503 otherwise. The window keeps
    /// being served either way: readiness is about freshness, not availability.
    func readiness(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        try EventQuery.requireNone(request)
        guard kafka.partitions() > 0 else {
            throw ProblemDetails(status: 503, title: "Not ready", detail: "waiting for Kafka topic \(kafka.topic)")
        }
        guard kafka.reachable() else {
            throw ProblemDetails(status: 503, title: "Not ready", detail: "Kafka at \(kafka.bootstrapServers) is unreachable")
        }
        return .respond(.json(Array(#"{"status":"ready"}"#.utf8)))
    }

    func status(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        try EventQuery.requireNone(request)
        let window = live.window
        let health = kafka.health()
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("kafka")
        writer.beginObject()
        writer.key("mode"); writer.string(kafka.mode)
        writer.key("bootstrap_servers"); writer.string(kafka.bootstrapServers)
        writer.key("topic"); writer.string(kafka.topic)
        writer.key("partitions"); writer.int(kafka.partitions())
        writer.key("librdkafka"); writer.string(Librdkafka.version)
        writer.key("all_brokers_down"); writer.bool(health.allBrokersDown)
        writer.key("reachable"); writer.bool(kafka.reachable())
        writer.endObject()
        writer.key("consumed"); writer.int(stats.consumed)
        writer.key("rejected"); writer.int(stats.rejected)
        writer.key("rejected_by_reason")
        writer.beginObject()
        for (reason, count) in stats.rejectedByReasonSnapshot.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            writer.key(reason.rawValue); writer.int(count)
        }
        writer.endObject()
        writer.key("window")
        writer.beginObject()
        writer.key("size"); writer.int(window.count)
        writer.key("capacity"); writer.int(window.capacity)
        writer.endObject()
        writer.key("sse_clients"); writer.int(live.hub.count)
        writer.key("history")
        if let history { history.write(to: &writer) } else { writer.null() }
        let uptime = ContinuousClock.now - startedAt
        writer.key("uptime_seconds"); writer.int64(uptime.components.seconds)
        writer.endObject()
        return .respond(.json(writer.bytes))
    }

    /// Prometheus text exposition: each counting part writes its own families.
    func metrics(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        try EventQuery.requireNone(request)
        var output = PrometheusText()
        for source in metricsSources { source.writeMetrics(to: &output) }
        return .respond(HTTPResponse(
            status: 200,
            headers: [(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")],
            body: Array(output.text.utf8)))
    }
}
