/// A step around routing and around every response head the server writes.
///
/// Why it exists: what a service adds to every exchange (security headers, CORS, access
/// rules) is policy, and belongs to the service, not to HTTPServer, which only moves bytes.
/// Both hooks have default implementations that do nothing, so a middleware implements only
/// the one it needs.
///
/// Order: in `HTTPApplication(router:middleware: [a, b])`, `a.handle` runs first and reaches
/// `b.handle` through `next`, and `b`'s `next` runs the router; `finishHeaders` runs the other
/// way round (`b`, then `a`), as the response travels back out.
///
/// Both hooks run on the loop thread for every request, so keep them cheap: no blocking, and
/// no work for responses they do not change.
public protocol HTTPMiddleware {
    /// Around routing: pass the request on with `next` (and perhaps change what comes back),
    /// or answer it without calling `next`, with `Routed(_:)`. A thrown problem is answered
    /// with its response.
    func handle(_ request: HTTPRequest, next: (HTTPRequest) -> Routed) throws(ProblemDetails) -> Routed

    /// Finishes the header list of a response head about to be written: every one the server
    /// writes, for routed, deferred and streamed responses, HEAD answers and the error pages of
    /// refusals alike. `headers` holds the response's own headers and what middleware after this
    /// one added; the server adds the framing headers (Content-Length, Transfer-Encoding,
    /// Connection, Date) itself.
    func finishHeaders(_ headers: inout [(name: String, value: String)], status: Int)
}

extension HTTPMiddleware {
    public func handle(_ request: HTTPRequest, next: (HTTPRequest) -> Routed) throws(ProblemDetails) -> Routed {
        next(request)
    }

    public func finishHeaders(_ headers: inout [(name: String, value: String)], status: Int) {}
}
