internal import CLibEvent

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
        var json = "{\"type\":\"about:blank\",\"title\":\(jsonString(title)),\"status\":\(status)"
        if let detail { json += ",\"detail\":\(jsonString(detail))" }
        json += "}"
        return HTTPResponse(
            status: status, headers: [("Content-Type", "application/problem+json")], body: Array(json.utf8))
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
