/// A part of the service that counts something writes its own Prometheus families, beside the
/// counters themselves; `/metrics` is these parts' output in a row.
protocol MetricsSource {
    func writeMetrics(to output: inout PrometheusText)
}
