import JSON

/// A complete response; the server adds the options' default headers and Content-Length.
public struct HTTPResponse {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Case-insensitive lookup, mostly for tests and middleware-like wrappers.
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

    /// RFC 9457 problem details, the error format of every API and static-file error.
    public static func problem(status: Int, title: String, detail: String? = nil) -> HTTPResponse {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.key("type"); writer.string("about:blank")
        writer.key("title"); writer.string(title)
        writer.key("status"); writer.int(status)
        if let detail { writer.key("detail"); writer.string(detail) }
        writer.endObject()
        return HTTPResponse(
            status: status, headers: [("Content-Type", "application/problem+json")], body: writer.bytes)
    }
}
