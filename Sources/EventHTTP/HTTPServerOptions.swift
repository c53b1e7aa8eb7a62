internal import CLibEvent

/// Limits and headers applied to every connection, so abuse is bounded by evhttp itself.
public struct HTTPServerOptions: Sendable {
    /// evhttp answers larger request headers on its own (431/400) and closes.
    public var maxHeadersSize: Int = 16_384
    /// evhttp answers bodies larger than this many bytes with 413 on its own (a body of
    /// exactly maxBodySize is accepted) before any handler runs; the 413 is evhttp's, so it
    /// is HTML and carries neither default nor CORS headers.
    public var maxBodySize: Int = 1_048_576
    /// Idle/slow-request timeout (evhttp_set_timeout). For streams only the write side
    /// keeps it, so a silent SSE client is not cut off but a stalled reader is.
    public var timeoutSeconds: Int = 30
    /// Added to every response unless the response sets the same header itself.
    public var defaultHeaders: [(name: String, value: String)] = [("X-Content-Type-Options", "nosniff")]

    /// CORS, off when nil: the value of `Access-Control-Allow-Origin` ("*" or one origin
    /// such as "https://example.com") on every response the server writes, and the switch
    /// that makes OPTIONS preflights to known routes answer with the CORS allow headers.
    /// One fixed origin rather than echoing the request's: nothing to get wrong.
    public var corsOrigin: String?

    public init() {}
}
