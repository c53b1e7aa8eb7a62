#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A complete HTTP/1.1 response as bytes, for the replies the server writes to a connection
/// it has taken over from evhttp (refusals). Always `Connection: close`.
enum RawReply {
    /// `headers` are written as given, except those whose name or value contains CR or LF
    /// (the same rule evhttp applies, so no header can be injected).
    static func bytes(status: Int, headers: [(name: String, value: String)], body: [UInt8]) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n"
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        head += "Date: \(HTTPDate.format(Int(now.tv_sec)))\r\n"
        let framing: Set<String> = ["content-length", "connection", "transfer-encoding", "date"]
        for header in headers where !framing.contains(header.name.lowercased()) {
            let text = header.name + header.value
            guard !text.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { continue }
            head += "\(header.name): \(header.value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// RFC 9110 reason phrases for the statuses the server sends; others get a generic one.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 417: "Expectation Failed"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        case 400..<500: "Client Error"
        case 500..<600: "Server Error"
        default: "Status \(status)"
        }
    }
}
