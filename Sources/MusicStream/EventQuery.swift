import EventHTTP
import MusicModel

/// The validated query of an endpoint: the event filter plus the endpoint's own parameters.
/// Unknown parameters are refused rather than ignored, so a typo never silently widens a result.
struct EventQuery {
    var filter: EventFilter
    var limit: Int

    static let defaultLimit = 50
    static let limitRange = 1...1000

    /// Parses `request`'s query; `allowLimit` for endpoints that page.
    static func parse(_ request: HTTPRequest, allowLimit: Bool) throws(ProblemDetails) -> EventQuery {
        let parameters: [(name: String, value: String)]
        do {
            parameters = try request.queryParameters()
        } catch {
            throw ProblemDetails(status: 400, title: "Malformed query string", detail: error.detail, parameter: nil)
        }
        var limit = defaultLimit
        var seenLimit = false
        for (name, value) in parameters where !EventFilter.parameterNames.contains(name) {
            guard allowLimit, name == "limit" else {
                throw .badParameter(name, "unknown query parameter '\(name)'")
            }
            guard !seenLimit else { throw .badParameter("limit", "limit is given more than once") }
            seenLimit = true
            guard !value.isEmpty else { continue }
            guard let parsed = Int(value), limitRange.contains(parsed) else {
                throw .badParameter("limit", "limit must be an integer from 1 to 1000, got '\(value.prefix(64))'")
            }
            limit = parsed
        }
        do {
            return EventQuery(filter: try EventFilter.parse(parameters), limit: limit)
        } catch {
            throw .badParameter(error.parameter, error.detail)
        }
    }
}
