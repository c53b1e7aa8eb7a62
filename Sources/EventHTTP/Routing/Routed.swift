/// A route result with where it came from: what `next` gives a middleware.
///
/// Why it exists: a middleware may need to know whether a registered route answered (a CORS
/// preflight is answered only for known paths), and the server needs a bounded metrics label
/// for every result, whoever produced it.
public struct Routed {
    public var result: RouteResult
    /// The registered path whose entry answered: its handler, or the router's own OPTIONS
    /// and 405 answers for it. Nil when the router's fallback or a middleware answered.
    public let route: String?
    /// The bounded label `HTTPServer.onResponse` reports (never the raw path of an unknown route).
    let pattern: String

    /// A result a middleware produced without routing; reported as `HTTPApplication.middlewarePattern`.
    public init(_ result: RouteResult) {
        self.init(result: result, route: nil, pattern: HTTPApplication.middlewarePattern)
    }

    init(result: RouteResult, route: String?, pattern: String) {
        self.result = result
        self.route = route
        self.pattern = pattern
    }
}
