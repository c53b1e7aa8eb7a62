/// A complete response; the application's middleware finish its headers, the server adds
/// Content-Length.
public struct HTTPResponse {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Case-insensitive lookup, mostly for tests and middleware.
    public func header(_ name: String) -> String? {
        headers.first { HeaderName.equal($0.name, name) }?.value
    }

    /// API responses: the body is already-encoded JSON.
    public static func json(_ body: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// Shorthand for `ProblemDetails(status:title:detail:).response`, the error format of
    /// every API and static-file error.
    public static func problem(status: Int, title: String, detail: String? = nil) -> HTTPResponse {
        ProblemDetails(status: status, title: title, detail: detail).response
    }
}
