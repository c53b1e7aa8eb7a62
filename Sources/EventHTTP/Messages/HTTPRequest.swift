/// A fully read request, detached from libevent so handlers (and tests) never see C types.
public struct HTTPRequest {
    public var method: HTTPMethod
    /// Percent-decoded path without the query; guaranteed valid UTF-8 without NUL
    /// when it comes from the server.
    public var path: String
    /// The raw query after '?', "" when none; decode with `queryParameters()`.
    public var rawQuery: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The values of a templated route's `{name}` segments, set by the router (see `Router.add`).
    public var pathParameters: [(name: String, value: String)] = []

    /// Lets tests and callers build requests without a socket.
    public init(
        method: HTTPMethod, path: String, rawQuery: String = "",
        headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
    }

    /// The value of the route's `{name}` segment; nil when the route has none by that name.
    public func pathParameter(_ name: String) -> String? {
        pathParameters.first { $0.name == name }?.value
    }

    /// Header names are case-insensitive; the first occurrence wins.
    public func header(_ name: String) -> String? {
        headers.first { HeaderName.equal($0.name, name) }?.value
    }

    /// Parsed query (application/x-www-form-urlencoded rules: '+' is space, %XX decoded,
    /// UTF-8 validated, NUL refused). Order and repeats are kept so `?genre=a&genre=b` means both.
    public func queryParameters() throws(QueryStringError) -> [(name: String, value: String)] {
        try HTTPRequest.parseQuery(rawQuery)
    }

    /// Most parameters one query may carry, empty ones included: far above what any valid
    /// request needs, low enough that a query cannot make the server build huge lists.
    public static let maxQueryParameters = 256

    /// The parser behind `queryParameters()`; empty pieces ("a=1&&b=2") are skipped and
    /// a piece without '=' has an empty value. Errors name the parameter.
    public static func parseQuery(
        _ query: String, maxParameters: Int = maxQueryParameters
    ) throws(QueryStringError) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for piece in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let rawName: Substring.UTF8View
            let rawValue: Substring.UTF8View
            if let eq = piece.firstIndex(of: UInt8(ascii: "=")) {
                rawName = piece[piece.startIndex..<eq]
                rawValue = piece[piece.index(after: eq)...]
            } else {
                rawName = piece
                rawValue = piece[piece.endIndex...]
            }
            let name = try decodeComponent(rawName, parameter: String(decoding: rawName, as: UTF8.self))
            guard result.count < maxParameters else {
                throw QueryStringError(detail: "the query has more than \(maxParameters) parameters", parameter: name)
            }
            result.append((name, try decodeComponent(rawValue, parameter: name)))
        }
        return result
    }

    private static func decodeComponent(_ raw: Substring.UTF8View, parameter: String) throws(QueryStringError) -> String {
        guard let bytes = PercentDecoding.decode(raw, plusAsSpace: true) else {
            throw QueryStringError(detail: "invalid percent-encoding near '\(snippet(raw))'", parameter: parameter)
        }
        guard !bytes.contains(0) else {
            throw QueryStringError(detail: "NUL (%00) is not allowed, near '\(snippet(raw))'", parameter: parameter)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw QueryStringError(detail: "invalid UTF-8 near '\(snippet(raw))'", parameter: parameter)
        }
        return text
    }

    private static func snippet(_ raw: Substring.UTF8View) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
}

extension HTTPRequest {
    /// The media type of the body without parameters, lowercased
    /// ("Application/JSON; charset=utf-8" gives "application/json"); nil when absent or empty.
    public var contentType: String? {
        guard let value = header("Content-Type") else { return nil }
        let type = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = type.trimmingWhitespace().lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A parameter of the body's media type, its name matched case-insensitively and its value
    /// unquoted ("text/plain; Charset=\"UTF-8\"" gives "UTF-8" for "charset"); nil when absent.
    public func contentTypeParameter(_ name: String) -> String? {
        guard let value = header("Content-Type") else { return nil }
        for parameter in value.split(separator: ";", omittingEmptySubsequences: false).dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == name.lowercased() else { continue }
            var text = pair[1].trimmingWhitespace()
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
            return String(text)
        }
        return nil
    }

    /// The content codings applied to the body (`Content-Encoding`, every field, lowercased, in
    /// order); empty when there are none. `identity` is no coding and is left out.
    public var contentCodings: [String] {
        headers.filter { HeaderName.equal($0.name, "Content-Encoding") }
            .flatMap { $0.value.split(separator: ",") }
            .map { $0.trimmingWhitespace().lowercased() }
            .filter { !$0.isEmpty && $0 != "identity" }
    }
}

extension Substring {
    /// Without Foundation: strips spaces and tabs (HTTP's OWS) at both ends.
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }

}
