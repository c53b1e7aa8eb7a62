/// Request counts by route, method and status, and a latency histogram by route. Route labels
/// are registered patterns, never raw paths, so the number of series stays bounded.
/// Lives on the HTTP loop thread.
final class HTTPMetrics: MetricsSource {
    struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// Upper bounds in seconds; the last bucket is +Inf.
    static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    struct Histogram {
        var buckets = [Int](repeating: 0, count: HTTPMetrics.bucketBounds.count)
        var count = 0
        var sum = 0.0
    }

    private(set) var requests: [RequestKey: Int] = [:]
    private(set) var durations: [String: Histogram] = [:]
    /// Connections refused before routing, by the status they were sent.
    private(set) var refusals: [Int: Int] = [:]

    func recordRefusal(status: Int) {
        refusals[status, default: 0] += 1
    }

    func record(route: String, method: String, status: Int, seconds: Double) {
        requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
        var histogram = durations[route] ?? Histogram()
        for (index, bound) in Self.bucketBounds.enumerated() where seconds <= bound { histogram.buckets[index] += 1 }
        histogram.count += 1
        histogram.sum += seconds
        durations[route] = histogram
    }

    func writeMetrics(to output: inout PrometheusText) {
        output.family("musicstream_http_requests_total", "counter", "HTTP requests answered, by route, method and status.")
        for (key, count) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            output.sample("musicstream_http_requests_total",
                          labels: [("route", key.route), ("method", key.method), ("status", String(key.status))], count)
        }
        output.family("musicstream_http_connections_refused_total", "counter",
                      "Connections answered with an error and closed before their request was routed (limits, deadlines, malformed requests), by status.")
        for (status, count) in refusals.sorted(by: { $0.key < $1.key }) {
            output.sample("musicstream_http_connections_refused_total", labels: [("status", String(status))], count)
        }
        output.family("musicstream_http_request_duration_seconds", "histogram", "Time from request to response start, by route.")
        for (route, histogram) in durations.sorted(by: { $0.key < $1.key }) {
            for (index, bound) in Self.bucketBounds.enumerated() {
                output.sample("musicstream_http_request_duration_seconds_bucket",
                              labels: [("route", route), ("le", PrometheusText.format(bound))], histogram.buckets[index])
            }
            output.sample("musicstream_http_request_duration_seconds_bucket", labels: [("route", route), ("le", "+Inf")], histogram.count)
            output.sample("musicstream_http_request_duration_seconds_sum", labels: [("route", route)], histogram.sum)
            output.sample("musicstream_http_request_duration_seconds_count", labels: [("route", route)], histogram.count)
        }
    }
}
