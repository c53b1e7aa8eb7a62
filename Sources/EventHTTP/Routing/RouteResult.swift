/// What a handler asks the server to do: answer at once, start a long-lived stream, or
/// answer later (after some other loop-thread event, such as a Kafka delivery report).
public enum RouteResult {
    case respond(HTTPResponse)
    /// Start a chunked reply with these headers, then hand the stream to `start`
    /// (on the loop thread). For HEAD the server sends only the headers and never calls `start`.
    case stream(status: Int, headers: [(name: String, value: String)], start: (ResponseStream) -> Void)
    /// The server calls the closure at once (on the loop thread) with a handle that must be
    /// completed later with `respond`, also on the loop thread. For HEAD the eventual
    /// response is sent without its body.
    case deferred((PendingResponse) -> Void)
}

/// Handlers run on the loop thread and must not block it. A handler that throws a problem is
/// answered with `problem.response` (for HEAD, its headers with the body's length).
public typealias RouteHandler = (HTTPRequest) throws(ProblemDetails) -> RouteResult
