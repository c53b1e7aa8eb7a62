/// Cross-origin access for one fixed origin, "*" or one such as "https://dash.example"; one
/// fixed origin rather than echoing the request's leaves nothing to get wrong.
///
/// Why it exists: CORS is the service's decision (off unless configured), so it is a
/// middleware the service installs rather than a server option. It
///
/// - puts `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers` on every response
///   head, refusals and stream heads included; for an origin other than "*" the answer depends
///   on the request's Origin, so it also adds `Origin` to the response's Vary, keeping exactly
///   one Vary header;
/// - answers preflights: an OPTIONS with `Access-Control-Request-Method` to a registered path,
///   which the router answers with 204 and Allow, also gets the allowed methods and headers
///   and a max age. Unknown paths are left to the router's fallback, as without CORS.
public struct CORS: HTTPMiddleware, Sendable {
    public let origin: String

    /// Request headers a cross-origin client may send.
    public static let allowedHeaders = "Content-Type, Authorization, Last-Event-ID"
    /// Response headers a cross-origin page may read.
    public static let exposedHeaders = "ETag, Link, Location, Retry-After"
    /// How long a browser may reuse a preflight's answer.
    public static let maxAgeSeconds = 600

    public init(origin: String) {
        self.origin = origin
    }

    public func handle(_ request: HTTPRequest, next: (HTTPRequest) -> Routed) throws(ProblemDetails) -> Routed {
        guard request.method == .OPTIONS else { return next(request) }
        var routed = next(request)
        guard routed.route != nil, request.header("Access-Control-Request-Method") != nil,
              case .respond(var response) = routed.result, response.status == 204,
              let allow = response.header("Allow") else { return routed }
        response.headers.append((name: "Access-Control-Allow-Methods", value: allow))
        response.headers.append((name: "Access-Control-Allow-Headers", value: CORS.allowedHeaders))
        response.headers.append((name: "Access-Control-Max-Age", value: String(CORS.maxAgeSeconds)))
        routed.result = .respond(response)
        return routed
    }

    /// The CORS headers first; the merged Vary, when one is needed, last.
    public func finishHeaders(_ headers: inout [(name: String, value: String)], status: Int) {
        var vary: String?
        if origin != "*" {
            if let existing = headers.first(where: { HeaderName.equal($0.name, "Vary") })?.value {
                if existing != "*" && !existing.lowercased().contains("origin") {
                    vary = existing + ", Origin"
                    headers.removeAll { HeaderName.equal($0.name, "Vary") }
                }
            } else {
                vary = "Origin"
            }
        }
        headers.insert((name: "Access-Control-Expose-Headers", value: CORS.exposedHeaders), at: 0)
        headers.insert((name: "Access-Control-Allow-Origin", value: origin), at: 0)
        if let vary { headers.append((name: "Vary", value: vary)) }
    }
}
