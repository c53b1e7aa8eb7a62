/// Why the server answered on its own instead of through the application's router: a
/// connection or request refused by one of the server's limits, a request evhttp could not
/// parse, a target the router never sees.
///
/// Why it exists: the server decides *when* these answers happen (that is connection
/// mechanics), but their wording is policy, like any other response. The server hands the
/// value to `HTTPApplication.errorPage`, so the service can word them (the default,
/// `defaultPage`, is RFC 9457 problem+json), and every page still passes through the
/// application's middleware headers.
public enum HTTPRefusal: Sendable, Equatable {
    /// The request part that missed its deadline.
    public enum RequestPart: String, Sendable {
        case head, body
    }

    /// A connection past `HTTPServerOptions.maxConnections` (503, then closed).
    case tooManyConnections(limit: Int)
    /// A request line longer than `maxRequestLineSize` bytes (414, then closed).
    case requestLineTooLong(limit: Int)
    /// A header section larger than `maxHeadersSize` bytes (431, then closed).
    case headersTooLarge(limit: Int)
    /// The head or body did not arrive within `headerTimeoutSeconds` (408, then closed).
    case timedOut(RequestPart, seconds: Double)
    /// A body larger than `maxBodySize` bytes (413, then closed).
    case bodyTooLarge(limit: Int)
    /// A request line, header field or body framing evhttp could not parse (400, then closed).
    case malformed
    /// A request head or chunked body the server's own scanner refused before evhttp read it:
    /// bad syntax or framing two parsers could read differently (400, then closed). Names the problem.
    case badFraming(String)
    /// An HTTP version other than 1.x (505, then closed).
    case versionNotSupported
    /// A `Transfer-Encoding` other than `chunked` (501, then closed).
    case transferCodingNotImplemented
    /// An `Expect` other than 100-continue (417, then closed).
    case expectationFailed
    /// A method the server does not accept (501, then closed).
    case methodNotImplemented
    /// Any other error page evhttp wrote on its own, by its status (then closed).
    case evhttpError(status: Int)
    /// A request target evhttp parsed but could not split into path and query (400; the
    /// connection stays open).
    case unparsableTarget
    /// A path with a bad percent-escape, a NUL or invalid UTF-8 once decoded (400; the
    /// connection stays open).
    case invalidPath
    /// The server could not carry out what the route asked (500).
    case internalError

    /// The status the default page answers with.
    public var status: Int {
        switch self {
        case .tooManyConnections: 503
        case .requestLineTooLong: 414
        case .headersTooLarge: 431
        case .timedOut: 408
        case .bodyTooLarge: 413
        case .malformed, .badFraming, .unparsableTarget, .invalidPath: 400
        case .expectationFailed: 417
        case .methodNotImplemented, .transferCodingNotImplemented: 501
        case .versionNotSupported: 505
        case .evhttpError(let status): status
        case .internalError: 500
        }
    }

    /// The default wording.
    public var problem: ProblemDetails {
        switch self {
        case .tooManyConnections(let limit):
            ProblemDetails(status: 503, title: "Service Unavailable",
                           detail: "the server is at its limit of \(limit) connections; try again later")
        case .requestLineTooLong(let limit):
            ProblemDetails(status: 414, title: "URI Too Long", detail: "the request line is longer than \(limit) bytes")
        case .headersTooLarge(let limit):
            ProblemDetails(status: 431, title: "Request Header Fields Too Large",
                           detail: "the request's header fields are larger than \(limit) bytes")
        case let .timedOut(part, seconds):
            ProblemDetails(status: 408, title: "Request Timeout",
                           detail: "the request \(part.rawValue) did not arrive within \(seconds) seconds")
        case .bodyTooLarge(let limit):
            ProblemDetails(status: 413, title: "Content Too Large",
                           detail: "the request body is larger than \(limit) bytes")
        case .malformed:
            ProblemDetails(status: 400, title: "Bad Request", detail: "malformed request line, header field or body framing")
        case .badFraming(let detail):
            ProblemDetails(status: 400, title: "Bad Request", detail: "malformed or ambiguous request: \(detail)")
        case .versionNotSupported:
            ProblemDetails(status: 505, title: "HTTP Version Not Supported", detail: "only HTTP/1.0 and HTTP/1.1 are served")
        case .transferCodingNotImplemented:
            ProblemDetails(status: 501, title: "Not Implemented", detail: "the only transfer coding accepted is 'chunked'")
        case .expectationFailed:
            ProblemDetails(status: 417, title: "Expectation Failed", detail: "only 'Expect: 100-continue' is supported")
        case .methodNotImplemented:
            ProblemDetails(status: 501, title: "Not Implemented",
                           detail: "the request method is not implemented (methods are case-sensitive; CONNECT is for proxies)")
        case .evhttpError(let status):
            ProblemDetails(status: status, title: RawReply.reasonPhrase(status))
        case .unparsableTarget:
            ProblemDetails(status: 400, title: "Bad Request", detail: "unparsable request target")
        case .invalidPath:
            ProblemDetails(status: 400, title: "Bad Request", detail: "invalid percent-encoding, NUL or non-UTF-8 in path")
        case .internalError:
            ProblemDetails(status: 500, title: "Internal Server Error")
        }
    }

    /// The default error page: `problem` as problem+json, with `Retry-After: 1` on the 503 so
    /// that a client refused for load comes back soon rather than never.
    public static func defaultPage(_ refusal: HTTPRefusal) -> HTTPResponse {
        var response = refusal.problem.response
        if case .tooManyConnections = refusal { response.headers.append((name: "Retry-After", value: "1")) }
        return response
    }
}
