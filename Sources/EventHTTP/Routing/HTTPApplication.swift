/// Everything an HTTPServer asks about requests and responses, in one value: the router, the
/// middleware around it, and the error pages for what the server answers on its own.
///
/// Why it exists: the server is left with the mechanics (evhttp, connections, limits,
/// streaming, metrics hooks) and asks this value for every decision about content, so that
/// policy (CORS, security headers, the wording of errors) is configured by the service rather
/// than built into the server. Loop thread only, like the router.
public struct HTTPApplication {
    public var router: Router
    /// Outermost first: see `HTTPMiddleware` for the order of the hooks. Default: `DefaultHeaders()`
    /// (`X-Content-Type-Options: nosniff`); pass `[]` for none.
    public var middleware: [any HTTPMiddleware]
    /// The response for something the server answers without routing (a refusal, an
    /// unparsable target). Default: `HTTPRefusal.defaultPage`, problem+json.
    public var errorPage: (HTTPRefusal) -> HTTPResponse

    /// Metrics label of a response a middleware gave without routing.
    public static let middlewarePattern = "middleware"

    public init(
        router: Router, middleware: [any HTTPMiddleware] = [DefaultHeaders()],
        errorPage: @escaping (HTTPRefusal) -> HTTPResponse = HTTPRefusal.defaultPage
    ) {
        self.router = router
        self.middleware = middleware
        self.errorPage = errorPage
    }

    /// The request through the middleware and the router. A problem a middleware throws is
    /// answered with its response.
    public func respond(to request: HTTPRequest) -> Routed {
        middleware.isEmpty ? router.resolve(request) : respond(to: request, from: 0)
    }

    /// Middleware `index` onwards, then the router. `next` is a non-escaping closure: nothing
    /// is allocated per request for the chain.
    private func respond(to request: HTTPRequest, from index: Int) -> Routed {
        guard index < middleware.count else { return router.resolve(request) }
        do {
            return try middleware[index].handle(request) { request in respond(to: request, from: index + 1) }
        } catch {
            return Routed(.respond(error.response))
        }
    }

    /// The header list a response head goes out with: `headers` (the response's own) finished
    /// by every middleware, innermost first.
    public func finishedHeaders(_ headers: [(name: String, value: String)], status: Int) -> [(name: String, value: String)] {
        guard !middleware.isEmpty else { return headers }
        var finished: [(name: String, value: String)] = []
        // One allocation per head, with room for what middleware typically adds.
        finished.reserveCapacity(headers.count + HTTPApplication.addedHeadersReserve)
        finished.append(contentsOf: headers)
        var index = middleware.count
        while index > 0 {
            index -= 1
            middleware[index].finishHeaders(&finished, status: status)
        }
        return finished
    }

    /// Security headers and CORS together add six; more only costs a reallocation.
    static let addedHeadersReserve = 8
}
