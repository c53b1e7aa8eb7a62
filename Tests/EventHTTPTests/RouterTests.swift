import EventHTTP
import Testing

@Suite struct RouterTests {
    private func makeRouter() -> Router {
        let router = Router()
        router.get("/api/stats") { _ in .respond(.json(Array("{\"ok\":true}".utf8))) }
        router.post("/api/reset") { _ in .respond(.text("reset", status: 202)) }
        router.add(.DELETE, "/api/reset") { _ in .respond(.text("gone")) }
        return router
    }

    private func response(_ result: RouteResult) -> HTTPResponse? {
        if case .respond(let response) = result { return response }
        return nil
    }

    @Test func exactPathAndMethod() throws {
        let router = makeRouter()
        let r = try #require(response(router.route(HTTPRequest(method: .GET, path: "/api/stats"))))
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "application/json")
        #expect(r.body == Array("{\"ok\":true}".utf8))
        let p = try #require(response(router.route(HTTPRequest(method: .POST, path: "/api/reset"))))
        #expect(p.status == 202)
        #expect(p.header("content-type") == "text/plain; charset=utf-8")
    }

    @Test func headUsesGetHandler() throws {
        let r = try #require(response(makeRouter().route(HTTPRequest(method: .HEAD, path: "/api/stats"))))
        #expect(r.status == 200)
    }

    @Test func unknownPathGoesToFallback() throws {
        let router = makeRouter()
        let r = try #require(response(router.route(HTTPRequest(method: .GET, path: "/nope"))))
        #expect(r.status == 404)
        #expect(r.header("Content-Type") == "application/problem+json")
        router.fallback = { _ in .respond(.text("fallback")) }
        let f = try #require(response(router.route(HTTPRequest(method: .GET, path: "/nope"))))
        #expect(f.body == Array("fallback".utf8))
    }

    @Test func knownPathWrongMethodIs405WithAllow() throws {
        let router = makeRouter()
        let r = try #require(response(router.route(HTTPRequest(method: .PUT, path: "/api/stats"))))
        #expect(r.status == 405)
        #expect(r.header("Allow") == "GET, HEAD, OPTIONS")
        let s = try #require(response(router.route(HTTPRequest(method: .GET, path: "/api/reset"))))
        #expect(s.status == 405)
        #expect(s.header("Allow") == "POST, DELETE, OPTIONS")
        let o = try #require(response(router.route(HTTPRequest(method: .OPTIONS, path: "/api/reset"))))
        #expect(o.status == 204)
        #expect(o.header("Allow") == "POST, DELETE, OPTIONS")
    }

    @Test func problemJSONEscapes() {
        let r = HTTPResponse.problem(status: 400, title: "Bad \"x\"", detail: "line\nbreak\u{1}")
        #expect(String(decoding: r.body, as: UTF8.self)
            == "{\"type\":\"about:blank\",\"title\":\"Bad \\\"x\\\"\",\"status\":400,\"detail\":\"line\\nbreak\\u0001\"}")
    }

    @Test func thrownProblemIsTheResponse() throws {
        let router = Router()
        router.get("/api/thing") { request throws(ProblemDetails) in
            guard request.rawQuery.isEmpty else { throw .badParameter("x", "this endpoint takes none") }
            return .respond(.text("ok"))
        }
        router.fallback = { _ throws(ProblemDetails) in throw ProblemDetails(status: 410, title: "Gone") }
        for method in [HTTPMethod.GET, .HEAD] {
            let r = try #require(response(router.route(HTTPRequest(method: method, path: "/api/thing", rawQuery: "x=1"))))
            #expect(r.status == 400, "\(method)")
            #expect(r.header("Content-Type") == "application/problem+json", "\(method)")
            #expect(String(decoding: r.body, as: UTF8.self) == #"{"type":"about:blank","title":"Invalid query parameter","#
                + #""status":400,"detail":"this endpoint takes none","parameter":"x"}"#, "\(method)")
        }
        let ok = try #require(response(router.route(HTTPRequest(method: .GET, path: "/api/thing"))))
        #expect(ok.status == 200)
        let gone = try #require(response(router.route(HTTPRequest(method: .GET, path: "/elsewhere"))))
        #expect(gone.status == 410)
        #expect(String(decoding: gone.body, as: UTF8.self) == #"{"type":"about:blank","title":"Gone","status":410}"#)
    }

    @Test func problemDetailsWritesOnlyTheMembersItHas() {
        let full = ProblemDetails(status: 400, title: "Invalid listen event", detail: "bad", parameter: "p", field: "f")
        #expect(String(decoding: full.response.body, as: UTF8.self)
            == #"{"type":"about:blank","title":"Invalid listen event","status":400,"detail":"bad","parameter":"p","field":"f"}"#)
        #expect(HTTPResponse.problem(status: 404, title: "Not Found").body
            == ProblemDetails(status: 404, title: "Not Found").response.body)
    }

    @Test func templatedPathsCarryTheirParametersAndFollowTheSameMethodRules() throws {
        let router = Router()
        router.get("/api/things/{id}") { request in
            .respond(.text("thing " + (request.pathParameter("id") ?? "?")))
        }
        router.get("/api/things/{id}/parts/{part}") { request in
            .respond(.text(request.pathParameters.map { "\($0.name)=\($0.value)" }.joined(separator: ",")))
        }
        router.get("/api/things/latest") { _ in .respond(.text("exact")) }
        func text(_ method: HTTPMethod, _ path: String) throws -> (Int, String, String?) {
            let r = try #require(response(router.route(HTTPRequest(method: method, path: path))))
            return (r.status, String(decoding: r.body, as: UTF8.self), r.header("Allow"))
        }
        #expect(try text(.GET, "/api/things/42").1 == "thing 42")
        #expect(try text(.HEAD, "/api/things/42").0 == 200)
        #expect(try text(.GET, "/api/things/a b").1 == "thing a b", "the decoded segment, as it is")
        #expect(try text(.GET, "/api/things/7/parts/wheel").1 == "id=7,part=wheel")
        #expect(try text(.GET, "/api/things/latest").1 == "exact", "an exact path wins over a template")
        // A parameter is one whole, non-empty segment; anything else is left to the fallback.
        for path in ["/api/things/", "/api/things", "/api/things/42/", "/api/things/42/x", "/api/thingsX/42", "/api/things//parts/x"] {
            #expect(try text(.GET, path).0 == 404, "\(path)")
        }
        let wrong = try text(.DELETE, "/api/things/42")
        #expect(wrong.0 == 405 && wrong.2 == "GET, HEAD, OPTIONS")
        let options = try text(.OPTIONS, "/api/things/42")
        #expect(options.0 == 204 && options.2 == "GET, HEAD, OPTIONS")
        // Registering another method on the same template adds to it.
        router.post("/api/things/{id}") { request in .respond(.text("posted " + (request.pathParameter("id") ?? "?"), status: 202)) }
        #expect(try text(.POST, "/api/things/9") == (202, "posted 9", nil))
        #expect(try text(.OPTIONS, "/api/things/9").2 == "GET, HEAD, POST, OPTIONS")
    }
}
