import JSON
import EventHTTP
import MusicModel

/// RFC 9457 problem details: what went wrong, for a client to show, with the offending parameter.
struct ProblemDetails: Error {
    var status: Int
    var title: String
    var detail: String
    var parameter: String?
    /// The offending field of a request body.
    var field: String?

    init(status: Int, title: String, detail: String, parameter: String? = nil, field: String? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.parameter = parameter
        self.field = field
    }

    static func badParameter(_ parameter: String, _ detail: String) -> ProblemDetails {
        ProblemDetails(status: 400, title: "Invalid query parameter", detail: detail, parameter: parameter)
    }

    var response: HTTPResponse {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("type"); writer.string("about:blank")
        writer.key("title"); writer.string(title)
        writer.key("status"); writer.int(status)
        writer.key("detail"); writer.string(detail)
        if let parameter { writer.key("parameter"); writer.string(parameter) }
        if let field { writer.key("field"); writer.string(field) }
        writer.endObject()
        return HTTPResponse(
            status: status,
            headers: [(name: "Content-Type", value: "application/problem+json")],
            body: writer.bytes)
    }
}
