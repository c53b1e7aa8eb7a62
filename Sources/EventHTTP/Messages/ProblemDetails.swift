import JSON

/// RFC 9457 problem details: what went wrong, for a client to show, with the offending query
/// parameter or body field. The error format of every API, static-file and refusal answer, and
/// the one place that writes problem JSON. It is an `Error` so that a route handler can `throw`
/// one and the router answers with `response`.
public struct ProblemDetails: Error, Sendable, Equatable {
    public var status: Int
    public var title: String
    /// Omitted from the JSON when nil.
    public var detail: String?
    /// The offending query parameter.
    public var parameter: String?
    /// The offending field of a request body.
    public var field: String?

    public init(status: Int, title: String, detail: String? = nil, parameter: String? = nil, field: String? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.parameter = parameter
        self.field = field
    }

    /// 400 naming the query parameter that is wrong.
    public static func badParameter(_ parameter: String, _ detail: String) -> ProblemDetails {
        ProblemDetails(status: 400, title: "Invalid query parameter", detail: detail, parameter: parameter)
    }

    /// `application/problem+json` with `status`: type, title, status, then detail, parameter and
    /// field when present.
    public var response: HTTPResponse {
        var writer = JSONWriter(capacity: 96 + title.utf8.count + (detail?.utf8.count ?? 0))
        writer.beginObject()
        writer.key("type"); writer.string("about:blank")
        writer.key("title"); writer.string(title)
        writer.key("status"); writer.int(status)
        if let detail { writer.key("detail"); writer.string(detail) }
        if let parameter { writer.key("parameter"); writer.string(parameter) }
        if let field { writer.key("field"); writer.string(field) }
        writer.endObject()
        return HTTPResponse(
            status: status, headers: [(name: "Content-Type", value: "application/problem+json")], body: writer.bytes)
    }
}
