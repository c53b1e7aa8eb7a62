import JSON
import Foundation
import EventHTTP
import KafkaClient
import MusicModel

/// What `/api/status` reports about the Kafka side.
struct KafkaStatus {
    var mode: String            // "embedded" | "external"
    var bootstrapServers: String
    var topic: String
    var partitions: () -> Int
    var health: () -> KafkaHealth
    /// Whether the latest metadata round trip to the cluster succeeded.
    var reachable: () -> Bool = { true }
    /// Unconsumed records per partition.
    var lag: () -> [Int32: Int64] = { [:] }
    /// Records our producers failed to deliver, since start.
    var deliveryFailures: () -> Int = { 0 }
}

/// The HTTP surface of the service, as a table of routes. Handlers read the live window directly:
/// they run on the loop thread that owns it.
struct APIRoutes {
    let live: LiveWindow
    let stats: IngestStats
    let kafka: KafkaStatus
    let startedAt: ContinuousClock.Instant
    let httpMetrics = HTTPMetrics()
    let cache = ResponseCache()

    func register(on router: Router) {
        router.get("/healthz") { request throws(ProblemDetails) in
            try EventQuery.requireNone(request)
            return .respond(.json(Array(#"{"status":"ok"}"#.utf8)))
        }
        router.get("/api/events") { request throws(ProblemDetails) in .respond(try cached(request, events)) }
        router.get("/api/facets") { request throws(ProblemDetails) in .respond(try cached(request, facets)) }
        router.get("/api/timeline") { request throws(ProblemDetails) in .respond(try cached(request, timeline)) }
        router.get("/api/status") { request throws(ProblemDetails) in
            try EventQuery.requireNone(request)
            return .respond(status())
        }
        router.get("/readyz") { request throws(ProblemDetails) in
            try EventQuery.requireNone(request)
            return .respond(try readiness())
        }
        router.get("/metrics") { request throws(ProblemDetails) in
            try EventQuery.requireNone(request)
            return .respond(metrics())
        }
        router.get("/stream") { request throws(ProblemDetails) in try stream(request) }
    }

    /// `handler`'s answer for this window and query, computed once per window change.
    func cached(
        _ request: HTTPRequest, _ handler: (HTTPRequest) throws(ProblemDetails) -> HTTPResponse
    ) throws(ProblemDetails) -> HTTPResponse {
        try cache.response(for: request.path + "?" + request.rawQuery, version: live.window.lastSequence) {
            () throws(ProblemDetails) in try handler(request)
        }
    }

    /// `{"events": [...], "count": n, "matching": m, "window": w, "next": cursor|null}`, sorted
    /// (default: timestamp, newest first) and paged with an opaque cursor that stays stable while
    /// new events arrive.
    func events(_ request: HTTPRequest) throws(ProblemDetails) -> HTTPResponse {
        let query = try EventQuery.parse(request, options: ["limit", "sort_by", "sort_order", "cursor"])
        let limit = try query.integer("limit", in: 1...Pager.maxLimit, default: 50)
        let window = live.window
        let page: EventPage
        do {
            let (sortBy, order) = try Pager.parseSort(query.parameters)
            page = try Pager.page(window, PageRequest(
                filter: query.filter, sortBy: sortBy, order: order, limit: limit, cursor: query.option("cursor")))
        } catch {
            throw .badParameter(error.parameter, error.detail)
        }
        var writer = JSONWriter(capacity: 512 * page.events.count + 256)
        writer.beginObject()
        writer.key("events")
        writer.beginArray()
        for stored in page.events { stored.event.write(to: &writer) }
        writer.endArray()
        writer.key("count"); writer.int(page.events.count)
        writer.key("matching"); writer.int(page.matching)
        writer.key("window"); writer.int(window.count)
        writer.key("next")
        if let next = page.next { writer.string(next) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }

    /// Value counts per facet. Each facet is counted under every filter except its own, so a
    /// filter form can still offer the other values. The unfiltered counts are kept up to date
    /// as events enter and leave, so the common case costs no scan.
    func facets(_ request: HTTPRequest) throws(ProblemDetails) -> HTTPResponse {
        let query = try EventQuery.parse(request)
        let window = live.window
        let summary = query.filter.isEmpty
            ? FacetSummary(matching: window.count, counts: window.facets)
            : FacetSummary.compute(over: window, filter: query.filter)
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("total"); writer.int(window.count)
        writer.key("matching"); writer.int(summary.matching)
        writer.key("facets")
        writer.beginObject()
        for facet in Facet.allCases {
            writer.key(facet.rawValue)
            writer.beginArray()
            for entry in summary.entries(facet) {
                writer.beginObject()
                writer.key("value"); writer.string(entry.value)
                writer.key("count"); writer.int(entry.count)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.endObject()
        writer.endObject()
        return .json(writer.bytes)
    }

    /// Listens (and skips) per time bucket over the window, for the dashboard's chart.
    func timeline(_ request: HTTPRequest) throws(ProblemDetails) -> HTTPResponse {
        let query = try EventQuery.parse(request, options: ["bucket"])
        let bucketName = query.option("bucket") ?? TimelineBucket.oneSecond.rawValue
        guard let bucket = TimelineBucket(rawValue: bucketName) else {
            throw .badParameter("bucket", "bucket must be one of 1s, 10s, 1m, got '\(bucketName.prefix(64))'")
        }
        let points = Timeline.points(live.window, filter: query.filter, bucket: bucket)
        var writer = JSONWriter(capacity: 64 + points.count * 40)
        writer.beginObject()
        writer.key("bucket_ms"); writer.int64(bucket.milliseconds)
        writer.key("points")
        writer.beginArray()
        for point in points {
            writer.beginObject()
            writer.key("t"); writer.int64(point.t)
            writer.key("count"); writer.int(point.count)
            writer.key("skipped"); writer.int(point.skipped)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }

    func status() -> HTTPResponse {
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
        let uptime = ContinuousClock.now - startedAt
        writer.key("uptime_seconds"); writer.int64(uptime.components.seconds)
        writer.endObject()
        return .json(writer.bytes)
    }

    /// 200 while the consumer is assigned and the cluster answers; 503 otherwise. The window keeps
    /// being served either way: readiness is about freshness, not availability.
    func readiness() throws(ProblemDetails) -> HTTPResponse {
        guard kafka.partitions() > 0 else {
            throw ProblemDetails(status: 503, title: "Not ready", detail: "waiting for Kafka topic \(kafka.topic)")
        }
        guard kafka.reachable() else {
            throw ProblemDetails(status: 503, title: "Not ready", detail: "Kafka at \(kafka.bootstrapServers) is unreachable")
        }
        return .json(Array(#"{"status":"ready"}"#.utf8))
    }

    /// Prometheus text exposition of the service's counters.
    func metrics() -> HTTPResponse {
        var output = PrometheusText()
        output.family("musicstream_events_consumed_total", "counter", "Valid listen events consumed from Kafka.")
        output.sample("musicstream_events_consumed_total", stats.consumed)
        output.family("musicstream_events_rejected_total", "counter", "Kafka messages rejected as invalid, by reason.")
        let rejected = stats.rejectedByReasonSnapshot
        for reason in RejectionReason.allCases {
            output.sample("musicstream_events_rejected_total", labels: [("reason", reason.rawValue)], rejected[reason] ?? 0)
        }
        output.family("musicstream_memory_releases_total", "counter",
                      "Times the ingest thread handed memory freed by a burst back to the system (malloc_trim).")
        output.sample("musicstream_memory_releases_total", stats.memoryReleaseCount)
        output.family("musicstream_memory_release_seconds_total", "counter", "Time spent in those releases.")
        output.sample("musicstream_memory_release_seconds_total", stats.memoryReleaseSeconds)
        output.family("musicstream_events_duplicate_total", "counter", "Records skipped because their event_id was already in the window.")
        output.sample("musicstream_events_duplicate_total", live.duplicatesSkipped)
        output.family("musicstream_kafka_reachable", "gauge", "1 while the latest metadata request to the cluster succeeded.")
        output.sample("musicstream_kafka_reachable", kafka.reachable() ? 1 : 0)
        output.family("musicstream_window_events", "gauge", "Events held in the window.")
        output.sample("musicstream_window_events", live.window.count)
        output.family("musicstream_window_capacity", "gauge", "Most events the window holds.")
        output.sample("musicstream_window_capacity", live.window.capacity)
        output.family("musicstream_sse_clients", "gauge", "Open /stream connections.")
        output.sample("musicstream_sse_clients", live.hub.count)
        output.family("musicstream_sse_messages_sent_total", "counter", "Events written to /stream subscribers.")
        output.sample("musicstream_sse_messages_sent_total", live.hub.messagesSent)
        output.family("musicstream_sse_clients_dropped_total", "counter", "Subscribers cut off for not reading.")
        output.sample("musicstream_sse_clients_dropped_total", live.hub.slowClientsDropped)
        output.family("musicstream_kafka_consumer_lag", "gauge", "Records not yet consumed, by partition.")
        for (partition, lag) in kafka.lag().sorted(by: { $0.key < $1.key }) {
            output.sample("musicstream_kafka_consumer_lag", labels: [("topic", kafka.topic), ("partition", String(partition))], Int(lag))
        }
        output.family("musicstream_producer_delivery_failures_total", "counter", "Records our producers could not deliver.")
        output.sample("musicstream_producer_delivery_failures_total", kafka.deliveryFailures())
        output.family("musicstream_response_cache_hits_total", "counter", "Read API requests answered from the response cache.")
        output.sample("musicstream_response_cache_hits_total", cache.hits)
        output.family("musicstream_response_cache_misses_total", "counter", "Read API requests computed from the window.")
        output.sample("musicstream_response_cache_misses_total", cache.misses)
        httpMetrics.write(to: &output)
        return HTTPResponse(
            status: 200,
            headers: [(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")],
            body: Array(output.text.utf8))
    }

    /// `text/event-stream` of matching events as they arrive. With `Last-Event-ID` (header) or
    /// `last_event_id` (query) it first replays the matching events after that id still in the
    /// window, in order, then goes live; all on the loop thread, so nothing can slip in between.
    /// When the id is no longer in the window (or from before a restart) it sends `event: reset`.
    func stream(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        let query = try EventQuery.parse(request, options: ["last_event_id", "stats"])
        let wantsStats = try query.flag("stats")
        var resumeAfter: UInt64?
        if let text = query.option("last_event_id") ?? request.header("Last-Event-ID")?.trimmed(where: \.isSpaceOrTab), !text.isEmpty {
            guard let id = UInt64(text) else {
                throw .badParameter("last_event_id", "last_event_id must be an event id from this stream, got '\(text.prefix(64))'")
            }
            resumeAfter = id
        }
        let hub = live.hub
        let live = self.live
        return .stream(
            status: 200,
            headers: [
                (name: "Content-Type", value: "text/event-stream; charset=utf-8"),
                (name: "Cache-Control", value: "no-cache"),
                (name: "X-Accel-Buffering", value: "no"),
            ],
            start: { stream in
                // retry: how long a browser waits before reconnecting; the comment flushes headers.
                stream.write(SSEHub.greeting)
                if let resumeAfter { live.replay(after: resumeAfter, filter: query.filter, to: stream) }
                hub.subscribe(stream, filter: query.filter, wantsStats: wantsStats)
            })
    }

}
