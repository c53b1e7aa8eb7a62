import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

/// Appends its name to a shared log in both hooks, and a header naming itself and the status.
private final class Recorder: HTTPMiddleware {
    let name: String
    let log: Shared<[String]>
    init(_ name: String, log: Shared<[String]>) {
        self.name = name
        self.log = log
    }

    func handle(_ request: HTTPRequest, next: (HTTPRequest) -> Routed) throws(ProblemDetails) -> Routed {
        log.update { $0.append("\(name) in") }
        let routed = next(request)
        log.update { $0.append("\(name) out") }
        return routed
    }

    func finishHeaders(_ headers: inout [(name: String, value: String)], status: Int) {
        log.update { $0.append("\(name) finish \(status)") }
        headers.append((name: "X-\(name)", value: "\(status)"))
    }
}

/// Answers every request to /teapot itself; refuses /forbidden by throwing.
private struct Gate: HTTPMiddleware {
    func handle(_ request: HTTPRequest, next: (HTTPRequest) -> Routed) throws(ProblemDetails) -> Routed {
        if request.path == "/teapot" { return Routed(.respond(.text("short and stout", status: 418))) }
        if request.path == "/forbidden" { throw ProblemDetails(status: 403, title: "Forbidden", detail: "not for you") }
        return next(request)
    }
}

@Suite struct MiddlewareTests {
    private func response(_ routed: Routed) -> HTTPResponse? {
        if case .respond(let response) = routed.result { return response }
        return nil
    }

    @Test func handleRunsOutsideInAndFinishRunsInsideOut() throws {
        let log = Shared<[String]>([])
        let router = Router()
        router.get("/api/stats") { _ in
            log.update { $0.append("router") }
            return .respond(.json(Array("{}".utf8)))
        }
        let application = HTTPApplication(router: router, middleware: [Recorder("A", log: log), Recorder("B", log: log)])
        let routed = application.respond(to: HTTPRequest(method: .GET, path: "/api/stats"))
        #expect(routed.route == "/api/stats")
        #expect(log.value == ["A in", "B in", "router", "B out", "A out"])
        let headers = application.finishedHeaders(try #require(response(routed)).headers, status: 200)
        #expect(log.value.suffix(2) == ["B finish 200", "A finish 200"])
        #expect(headers.map(\.name) == ["Content-Type", "X-B", "X-A"])
    }

    @Test func aMiddlewareMayAnswerOrThrowWithoutRouting() throws {
        let router = Router()
        router.fallback = { _ in
            Issue.record("the router must not run")
            return .respond(.text("routed"))
        }
        let application = HTTPApplication(router: router, middleware: [Gate()])
        let teapot = application.respond(to: HTTPRequest(method: .GET, path: "/teapot"))
        #expect(teapot.route == nil)
        #expect(try #require(response(teapot)).status == 418)
        let forbidden = try #require(response(application.respond(to: HTTPRequest(method: .GET, path: "/forbidden"))))
        #expect(forbidden.status == 403)
        #expect(forbidden.header("Content-Type") == "application/problem+json")
        #expect(String(decoding: forbidden.body, as: UTF8.self)
            == #"{"type":"about:blank","title":"Forbidden","status":403,"detail":"not for you"}"#)
    }

    @Test func noMiddlewareLeavesHeadersAlone() {
        let application = HTTPApplication(router: Router(), middleware: [])
        let headers = application.finishedHeaders([("Content-Type", "text/plain")], status: 200)
        #expect(headers.map(\.name) == ["Content-Type"])
    }

    @Test func defaultHeadersComeFirstUnlessTheResponseHasThem() {
        let defaults = DefaultHeaders([("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")])
        var headers: [(name: String, value: String)] = [("Content-Type", "text/plain"), ("referrer-policy", "origin")]
        defaults.finishHeaders(&headers, status: 200)
        #expect(headers.map { "\($0.name): \($0.value)" }
            == ["X-Content-Type-Options: nosniff", "Content-Type: text/plain", "referrer-policy: origin"])
    }

    @Test func corsMergesOneVary() {
        func finished(_ origin: String, _ own: [(name: String, value: String)]) -> [String] {
            var headers = own
            CORS(origin: origin).finishHeaders(&headers, status: 200)
            return headers.map { "\($0.name): \($0.value)" }
        }
        let cors = ["Access-Control-Allow-Origin: https://a.example", "Access-Control-Expose-Headers: ETag, Link, Location, Retry-After"]
        #expect(finished("https://a.example", [("Content-Type", "x/y")]) == cors + ["Content-Type: x/y", "Vary: Origin"])
        #expect(finished("https://a.example", [("vary", "Accept"), ("Content-Type", "x/y"), ("Vary", "Cookie")])
            == cors + ["Content-Type: x/y", "Vary: Accept, Origin"])
        #expect(finished("https://a.example", [("Vary", "origin")]) == cors + ["Vary: origin"])
        #expect(finished("https://a.example", [("Vary", "*")]) == cors + ["Vary: *"])
        #expect(finished("*", [("Vary", "Accept")])
            == ["Access-Control-Allow-Origin: *", "Access-Control-Expose-Headers: ETag, Link, Location, Retry-After", "Vary: Accept"])
    }

    /// Only a registered route's OPTIONS answer is a preflight: a fallback that also answers
    /// OPTIONS with 204 (static files do) stays as it is.
    @Test func corsDecoratesOnlyRegisteredRoutes() throws {
        let router = Router()
        router.get("/api/stats") { _ in .respond(.json(Array("{}".utf8))) }
        router.fallback = { _ in .respond(HTTPResponse(status: 204, headers: [("Allow", "GET, HEAD, OPTIONS")])) }
        let application = HTTPApplication(router: router, middleware: [CORS(origin: "*")])
        let preflight = [("Access-Control-Request-Method", "GET")]
        let known = try #require(response(application.respond(to: HTTPRequest(method: .OPTIONS, path: "/api/stats", headers: preflight))))
        #expect(known.header("Access-Control-Allow-Methods") == "GET, HEAD, OPTIONS")
        #expect(known.header("Access-Control-Allow-Headers") == "Content-Type, Authorization, Last-Event-ID")
        #expect(known.header("Access-Control-Max-Age") == "600")
        let fallback = try #require(response(application.respond(to: HTTPRequest(method: .OPTIONS, path: "/app.js", headers: preflight))))
        #expect(fallback.status == 204)
        #expect(fallback.header("Access-Control-Allow-Methods") == nil)
    }

    /// Every head the server writes passes through finishHeaders, with its status: plain,
    /// HEAD, stream, deferred, the 400 for a bad path and connection refusals.
    @Test func everyHeadOnTheWireIsFinished() throws {
        let log = Shared<[String]>([])
        let labels = Shared<[String]>([])
        var options = HTTPServerOptions()
        options.maxHeadersSize = 500
        let server = try TestServer(options: options) { context in
            context.middleware = [Recorder("Outer", log: log), Gate(), Recorder("Inner", log: log)]
            context.router.get("/api/stats") { _ in .respond(.json(Array("{}".utf8))) }
            context.router.get("/api/later") { _ in .deferred { $0.respond(.text("later", status: 202)) } }
            context.router.get("/events") { _ in
                .stream(status: 200, headers: [("Content-Type", "text/event-stream")]) { stream in
                    stream.write(Array("data: x\n\n".utf8))
                    stream.close()
                }
            }
            let hook = context.loop.after(seconds: 0) { [unowned context] in
                context.server?.onResponse = { method, pattern, status, _ in
                    labels.update { $0.append("\(method.rawValue) \(pattern) \(status)") }
                }
            }
            context.keep(hook)
        }
        defer { #expect(server.stop()) }
        usleep(20_000)
        let port = server.port
        for (method, target, status) in [("GET", "/api/stats", 200), ("GET", "/events", 200), ("GET", "/api/later", 202),
                                         ("GET", "/a%zz", 400), ("GET", "/teapot", 418), ("GET", "/forbidden", 403)] {
            let response = try TestClient.request(port: port, method, target)
            #expect(response.status == status, "\(target)")
            #expect(response.header("X-Outer") == String(status), "\(target)")
            // Gate answered /teapot and /forbidden before the inner middleware ran, but
            // finishing still passes every middleware.
            #expect(response.header("X-Inner") == String(status), "\(target)")
        }
        let head = try TestClient(port: port)
        try head.send("HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n")
        let streamHead = try head.readResponse(head: true)
        #expect(streamHead.header("X-Outer") == "200")
        for (request, status) in [("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "b", count: 1_000))\r\n\r\n", 431),
                                  ("BREW / HTTP/1.1\r\n\r\n", 501)] {
            let client = try TestClient(port: port)
            try client.send(request)
            let refused = try client.readResponse()
            #expect(refused.status == status)
            #expect(refused.header("X-Outer") == String(status))
            #expect(refused.header("X-Inner") == String(status))
            #expect(refused.header("Connection") == "close")
        }
        #expect(eventually { labels.value.count >= 7 })
        #expect(labels.value.contains("GET middleware 418"))
        #expect(labels.value.contains("GET middleware 403"))
    }
}
