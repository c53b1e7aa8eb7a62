import EventHTTP

/// Finished responses of the read endpoints (`/api/events`, `/api/facets`, `/api/timeline`) for
/// the window as it is right now. Their answers are pure functions of the window and the query,
/// and the window changes only by appending, which moves `lastSequence`; so an entry is valid
/// exactly while `lastSequence` is the one it was computed at. A dashboard's polls and the same
/// filter asked by many clients then cost one computation per window change, not one per request.
///
/// Keyed by path and raw query as sent: two spellings of one filter are two entries, which is
/// harmless. Bounded in entries and bytes; once full, further keys are computed but not kept
/// until the window moves on and the cache starts over. Loop thread only.
final class ResponseCache {
    private var version: UInt64 = 0
    private var entries: [String: HTTPResponse] = [:]
    private var bytes = 0
    let maxEntries: Int
    let maxBytes: Int
    private(set) var hits = 0
    private(set) var misses = 0

    init(maxEntries: Int = 256, maxBytes: Int = 16 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// The cached response for `key` at window version `version`, or `compute`'s, which is kept
    /// when it is a 200. Errors are never cached: they are cheap, and a client fixing its
    /// query must not be held to an old answer.
    func response(
        for key: String, version: UInt64, compute: () throws(ProblemDetails) -> HTTPResponse
    ) throws(ProblemDetails) -> HTTPResponse {
        if version != self.version {
            entries.removeAll(keepingCapacity: true)
            bytes = 0
            self.version = version
        }
        if let cached = entries[key] {
            hits += 1
            return cached
        }
        misses += 1
        let response = try compute()
        if response.status == 200, entries.count < maxEntries, bytes + response.body.count <= maxBytes {
            entries[key] = response
            bytes += response.body.count
        }
        return response
    }
}

extension ResponseCache: MetricsSource {
    func writeMetrics(to output: inout PrometheusText) {
        output.family("musicstream_response_cache_hits_total", "counter", "Read API requests answered from the response cache.")
        output.sample("musicstream_response_cache_hits_total", hits)
        output.family("musicstream_response_cache_misses_total", "counter", "Read API requests computed from the window.")
        output.sample("musicstream_response_cache_misses_total", misses)
    }
}
