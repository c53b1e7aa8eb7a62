/// Limits and timeouts applied to every connection. A request past a limit is refused with
/// an `HTTPRefusal`, answered with the application's error page and middleware headers (see
/// ClientConnection).
public struct HTTPServerOptions: Sendable {
    /// Longest request line (method, target, version and line end), in bytes; longer
    /// requests get 414 as soon as that many bytes arrived without a line end.
    public var maxRequestLineSize: Int = 8_192
    /// Largest header section (all header lines after the request line, line ends
    /// included), in bytes; larger requests get 431.
    public var maxHeadersSize: Int = 32_768
    /// Largest request body, in bytes (exactly this many is accepted); larger bodies get 413
    /// before any handler runs.
    public var maxBodySize: Int = 1_048_576
    /// Seconds a client has to send a request's head, counted from accepting the connection
    /// or from the first byte of a later request on it, and then again for the body. A slower
    /// client (one sending a byte at a time, say) gets 408 and is disconnected.
    public var headerTimeoutSeconds: Double = 10
    /// Idle timeout (evhttp_set_timeout): a keep-alive connection with no request for this
    /// long is closed, and so is any connection whose client stops reading a response. For
    /// streams only the write side keeps it, so a silent SSE client is not cut off.
    public var timeoutSeconds: Int = 30
    /// Most connections served at once; further ones get 503 and are closed. Keep it below
    /// the process's open-file limit (with room for everything else the process opens).
    public var maxConnections: Int = 10_000

    public init() {}
}
