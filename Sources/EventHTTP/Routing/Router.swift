/// Reads like a table of routes: exact paths per method, templated paths such as
/// `/api/events/{event_id}`, and a fallback for everything else (static files). Socket-free, so
/// routing is unit-testable.
public final class Router {
    private var table: [String: [HTTPMethod: RouteHandler]] = [:]
    /// Tried in the order registered, after the exact paths: few, so a linear walk is cheapest.
    private var templates: [(template: PathTemplate, handlers: [HTTPMethod: RouteHandler])] = []

    /// Used when no exact path matches; the default answers 404 problem+json. May throw a
    /// problem like any handler.
    public var fallback: RouteHandler = { request in
        .respond(ProblemDetails(status: 404, title: "Not Found", detail: "no resource at \(request.path)").response)
    }

    public init() {}

    /// A path with `{name}` segments is a template: each such segment matches one non-empty
    /// segment, which the handler reads with `request.pathParameter(name)`. An exact path wins
    /// over a template that also matches it.
    public func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping RouteHandler) {
        guard let template = PathTemplate(path) else {
            table[path, default: [:]][method] = handler
            return
        }
        if let index = templates.firstIndex(where: { $0.template.text == path }) {
            templates[index].handlers[method] = handler
        } else {
            templates.append((template, [method: handler]))
        }
    }

    /// GET; HEAD is answered from the same handler (the server drops the body).
    public func get(_ path: String, _ handler: @escaping RouteHandler) { add(.GET, path, handler) }

    public func post(_ path: String, _ handler: @escaping RouteHandler) { add(.POST, path, handler) }

    /// Metrics label for requests the fallback answered with 404: unknown paths share one
    /// label, so a scanner probing random URLs cannot blow up label cardinality.
    public static let unmatchedPattern = "unmatched"
    /// Metrics label for everything else the fallback answered (static files).
    public static let fallbackPattern = "static"

    /// Known path + unknown method gives 405 with Allow (OPTIONS gives 204 with Allow),
    /// so clients learn the contract instead of seeing a misleading 404.
    public func route(_ request: HTTPRequest) -> RouteResult {
        resolve(request).result
    }

    /// The result with its route and a bounded label for it: the registered path for table
    /// routes (the template for templated ones), `fallbackPattern` or `unmatchedPattern` for the
    /// fallback (never the raw path).
    func resolve(_ request: HTTPRequest) -> Routed {
        guard let handlers = table[request.path] else {
            for (template, handlers) in templates {
                guard let parameters = template.match(request.path) else { continue }
                var request = request
                request.pathParameters = parameters
                return Routed(result: routeTable(request, handlers), route: template.text, pattern: template.text)
            }
            let result = Router.run(fallback, request)
            if case .respond(let response) = result, response.status == 404 {
                return Routed(result: result, route: nil, pattern: Router.unmatchedPattern)
            }
            return Routed(result: result, route: nil, pattern: Router.fallbackPattern)
        }
        return Routed(result: routeTable(request, handlers), route: request.path, pattern: request.path)
    }

    /// The handler's result, or the response for the problem it threw.
    private static func run(_ handler: RouteHandler, _ request: HTTPRequest) -> RouteResult {
        do {
            return try handler(request)
        } catch {
            return .respond(error.response)
        }
    }

    private func routeTable(_ request: HTTPRequest, _ handlers: [HTTPMethod: RouteHandler]) -> RouteResult {
        if let handler = handlers[request.method] { return Router.run(handler, request) }
        if request.method == .HEAD, let handler = handlers[.GET] { return Router.run(handler, request) }
        let allow = allowed(handlers)
        if request.method == .OPTIONS {
            return .respond(HTTPResponse(status: 204, headers: [("Allow", allow)]))
        }
        var response = ProblemDetails(
            status: 405, title: "Method Not Allowed",
            detail: "\(request.method.rawValue) is not supported for \(request.path); allowed: \(allow)").response
        response.headers.append(("Allow", allow))
        return .respond(response)
    }

    private func allowed(_ handlers: [HTTPMethod: RouteHandler]) -> String {
        var methods = Set(handlers.keys)
        if methods.contains(.GET) { methods.insert(.HEAD) }
        methods.insert(.OPTIONS)
        return HTTPMethod.allCases.filter(methods.contains).map(\.rawValue).joined(separator: ", ")
    }
}
