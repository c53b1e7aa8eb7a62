internal import CLibEvent

/// Limits and headers applied to every connection, so abuse is bounded by evhttp itself.
public struct HTTPServerOptions: Sendable {
    /// evhttp answers larger request headers on its own (431/400) and closes.
    public var maxHeadersSize: Int = 16_384
    /// evhttp answers larger bodies with 413 on its own.
    public var maxBodySize: Int = 1_048_576
    /// Idle/slow-request timeout (evhttp_set_timeout). For streams only the write side
    /// keeps it, so a silent SSE client is not cut off but a stalled reader is.
    public var timeoutSeconds: Int = 30
    /// Added to every response unless the response sets the same header itself.
    public var defaultHeaders: [(name: String, value: String)] = [("X-Content-Type-Options", "nosniff")]

    public init() {}
}
