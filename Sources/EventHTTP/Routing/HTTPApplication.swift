/// Everything an HTTPServer asks about requests and responses, in one value: the router and
/// the error pages for what the server answers on its own.
///
/// Why it exists: the server is left with the mechanics (evhttp, connections, limits,
/// streaming, metrics hooks) and asks this value for every decision about content, so that
/// policy is configured by the service rather than built into the server. Loop thread only,
/// like the router.
public struct HTTPApplication {
    public var router: Router
    /// The response for something the server answers without routing (a refusal, an
    /// unparsable target). Default: `HTTPRefusal.defaultPage`, problem+json.
    public var errorPage: (HTTPRefusal) -> HTTPResponse

    public init(router: Router, errorPage: @escaping (HTTPRefusal) -> HTTPResponse = HTTPRefusal.defaultPage) {
        self.router = router
        self.errorPage = errorPage
    }

    /// The request's result, with its bounded metrics label (see `HTTPServer.onResponse`).
    func respond(to request: HTTPRequest) -> (result: RouteResult, pattern: String) {
        router.resolve(request)
    }
}
