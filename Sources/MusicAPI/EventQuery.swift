import EventHTTP
import MusicModel

/// The validated query of an endpoint: the event filter plus the endpoint's own single-valued
/// options (`limit`, `bucket`, ...). Unknown parameters are refused rather than ignored, so a typo
/// never silently widens a result.
public struct EventQuery {
    public var filter: EventFilter
    /// All parameters, for parsers that read their own (sorting, cursors).
    public var parameters: [(name: String, value: String)]
    private var options: [String: String]

    /// Parses `request`'s query; `options` are the endpoint's own parameter names besides the filters.
    public static func parse(_ request: HTTPRequest, options allowed: Set<String> = []) throws(ProblemDetails) -> EventQuery {
        let parameters: [(name: String, value: String)]
        do {
            parameters = try request.queryParameters()
        } catch {
            throw ProblemDetails(status: 400, title: "Malformed query string", detail: error.detail, parameter: error.parameter)
        }
        var options: [String: String] = [:]
        for (name, value) in parameters where !EventFilter.parameterNames.contains(name) {
            guard allowed.contains(name) else { throw .badParameter(name, "unknown query parameter '\(name.prefix(64))'") }
            guard options[name] == nil else { throw .badParameter(name, "\(name) is given more than once") }
            options[name] = value.trimmed(where: \.isSpaceOrTab)
        }
        do {
            return EventQuery(filter: try EventFilter.parse(parameters), parameters: parameters, options: options)
        } catch {
            throw .badParameter(error.parameter, error.detail)
        }
    }

    /// For endpoints that take no parameters: any parameter is refused, by name.
    public static func requireNone(_ request: HTTPRequest) throws(ProblemDetails) {
        let parameters: [(name: String, value: String)]
        do {
            parameters = try request.queryParameters()
        } catch {
            throw ProblemDetails(status: 400, title: "Malformed query string", detail: error.detail, parameter: error.parameter)
        }
        if let first = parameters.first {
            throw .badParameter(first.name, "unknown query parameter '\(first.name.prefix(64))': this endpoint takes none")
        }
    }

    /// The option's value, nil when absent or empty.
    public func option(_ name: String) -> String? {
        guard let value = options[name], !value.isEmpty else { return nil }
        return value
    }

    /// An integer option within `range`, or `defaultValue` when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws(ProblemDetails) -> Int {
        guard let text = option(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw .badParameter(name, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(text.prefix(64))'")
        }
        return value
    }

    /// A yes/no option (`1`, `true`, `yes` / `0`, `false`, `no`).
    public func flag(_ name: String) throws(ProblemDetails) -> Bool {
        guard let text = option(name) else { return false }
        switch text.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw .badParameter(name, "\(name) must be true or false, got '\(text.prefix(64))'")
        }
    }
}
