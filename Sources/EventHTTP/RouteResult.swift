internal import CLibEvent

/// What a handler asks the server to do: answer at once, or start a long-lived stream.
public enum RouteResult {
    case respond(HTTPResponse)
    /// Start a chunked reply with these headers, then hand the stream to `start`
    /// (on the loop thread). For HEAD the server sends only the headers and never calls `start`.
    case stream(status: Int, headers: [(name: String, value: String)], start: (ResponseStream) -> Void)
}

/// Handlers run on the loop thread and must not block it.
public typealias RouteHandler = (HTTPRequest) -> RouteResult
