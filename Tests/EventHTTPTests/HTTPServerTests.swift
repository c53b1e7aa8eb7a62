import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

@Suite struct HTTPServerTests {
    /// A server with the routes most tests use.
    private func startServer(options: HTTPServerOptions = .init()) throws -> TestServer {
        try TestServer(options: options) { context in
            let router = context.router
            router.get("/api/stats") { _ in .respond(.json(Array("{\"listens\":42}".utf8))) }
            router.get("/api/query") { request in
                do throws(QueryStringError) {
                    let params = try request.queryParameters()
                    return .respond(.text(params.map { "\($0.name)=\($0.value)" }.joined(separator: "|")))
                } catch {
                    return .respond(.problem(status: 400, title: "Bad Request", detail: error.detail))
                }
            }
            router.get("/api/path") { request in .respond(.text(request.path)) }
            router.get("/api/header") { request in
                .respond(.text(request.header("x-custom-thing") ?? "missing"))
            }
            router.post("/api/echo") { request in
                .respond(HTTPResponse(
                    status: 201, headers: [("Content-Type", "application/octet-stream"), ("X-Length", "\(request.body.count)")],
                    body: request.body))
            }
            router.post("/api/type") { request in .respond(.text(request.contentType ?? "none")) }
            router.get("/api/conflict") { _ throws(ProblemDetails) in
                throw ProblemDetails(status: 409, title: "Conflict", detail: "try again")
            }
            router.get("/api/override") { _ in
                .respond(HTTPResponse(headers: [("X-Content-Type-Options", "custom"), ("Content-Type", "text/plain")]))
            }
        }
    }

    @Test func getRouteReturnsJSONWithDefaultHeaders() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "GET", "/api/stats")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("Content-Length") == "14")
        #expect(response.header("X-Content-Type-Options") == "nosniff")
        #expect(response.bodyText == "{\"listens\":42}")
    }

    @Test func responseHeaderOverridesDefault() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "GET", "/api/override")
        #expect(response.headers.filter { $0.name.lowercased() == "x-content-type-options" }.map(\.value) == ["custom"])
    }

    @Test func unknownPathIs404ProblemJSON() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "GET", "/nowhere")
        #expect(response.status == 404)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.bodyText.contains("\"status\":404"))
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "DELETE", "/api/stats")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, HEAD, OPTIONS")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.bodyText.contains("\"status\":405"))
        let patch = try TestClient.request(port: server.port, "PATCH", "/api/echo")
        #expect(patch.status == 405)
        #expect(patch.header("Allow") == "POST, OPTIONS")
    }

    @Test func headHasHeadersButNoBody() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        // Keep-alive: if HEAD leaked a body, the second status line would be garbled.
        let client = try TestClient(port: server.port)
        try client.send("HEAD /api/stats HTTP/1.1\r\nHost: x\r\n\r\nGET /api/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let head = try client.readResponse(head: true)
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "application/json")
        #expect(head.header("Content-Length") == "14")
        let next = try client.readResponse()
        #expect(next.status == 200)
        #expect(next.bodyText == "/api/path")
    }

    @Test func thrownProblemIsAnsweredForGetAndHead() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let get = try TestClient.request(port: server.port, "GET", "/api/conflict")
        #expect(get.status == 409)
        #expect(get.header("Content-Type") == "application/problem+json")
        #expect(get.header("X-Content-Type-Options") == "nosniff")
        #expect(get.bodyText == #"{"type":"about:blank","title":"Conflict","status":409,"detail":"try again"}"#)
        // HEAD: the same head, the GET's Content-Length, no body (keep-alive would show one).
        let client = try TestClient(port: server.port)
        try client.send("HEAD /api/conflict HTTP/1.1\r\nHost: x\r\n\r\nGET /api/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let head = try client.readResponse(head: true)
        #expect(head.status == 409)
        #expect(head.header("Content-Type") == "application/problem+json")
        #expect(head.header("Content-Length") == String(get.body.count))
        #expect(head.body.isEmpty)
        #expect(try client.readResponse().bodyText == "/api/path")
    }

    @Test func queryParametersOverTheWire() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let ok = try TestClient.request(port: server.port, "GET", "/api/query?q=daft+punk&a=%C3%A9t%C3%A9&g=1&g=2")
        #expect(ok.status == 200)
        #expect(ok.bodyText == "q=daft punk|a=été|g=1|g=2")
        let bad = try TestClient.request(port: server.port, "GET", "/api/query?x=a%zz")
        #expect(bad.status == 400)
        #expect(bad.bodyText.contains("invalid percent-encoding near 'a%zz'"))
    }

    @Test func pathIsPercentDecodedAndInvalidPathsAre400() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let decoded = try TestClient.request(port: server.port, "GET", "/api/%70ath")
        #expect(decoded.bodyText == "/api/path")
        for target in ["/api/pa%zzth", "/a%00b", "/a%C3%28", "/a%"] {
            let response = try TestClient.request(port: server.port, "GET", target)
            #expect(response.status == 400, "\(target)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(target)")
        }
    }

    @Test func postBodyIsDelivered() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let body = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let response = try TestClient.request(port: server.port, "POST", "/api/echo", body: body)
        #expect(response.status == 201)
        #expect(response.header("X-Length") == "100000")
        #expect(response.body == body)
    }

    @Test func oversizedBodyIsRejectedByEvhttp() throws {
        var options = HTTPServerOptions()
        options.maxBodySize = 1_000
        let server = try startServer(options: options)
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "POST", "/api/echo", body: Array(repeating: 1, count: 5_000))
        #expect(response.status == 413)
    }

    /// The service sets maxBodySize a little above its own 64 KiB check: evhttp accepts
    /// exactly maxBodySize bytes and answers one more with 413 before any handler runs.
    @Test func maxBodySizeIsInclusive() throws {
        var options = HTTPServerOptions()
        options.maxBodySize = 1_000
        let server = try startServer(options: options)
        defer { #expect(server.stop()) }
        let exact = try TestClient.request(port: server.port, "POST", "/api/echo", body: Array(repeating: 1, count: 1_000))
        #expect(exact.status == 201)
        let over = try TestClient.request(port: server.port, "POST", "/api/echo", body: Array(repeating: 1, count: 1_001))
        #expect(over.status == 413)
    }

    @Test func contentTypeIsMediaTypeOnly() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let cases: [(header: String?, expected: String)] = [
            ("Application/JSON; charset=UTF-8", "application/json"), ("application/x-ndjson", "application/x-ndjson"),
            (" text/plain ;x=y", "text/plain"), ("", "none"), (nil, "none"),
        ]
        for (header, expected) in cases {
            let headers = header.map { ["Content-Type: \($0)"] } ?? []
            let response = try TestClient.request(port: server.port, "POST", "/api/type", headers: headers, body: Array("x".utf8))
            #expect(response.bodyText == expected, "\(header ?? "nil")")
        }
        #expect(HTTPRequest(method: .POST, path: "/", headers: [("content-type", "A/B")]).contentType == "a/b")
    }

    @Test func connectionCloseIsHonoured() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        try client.send("GET /api/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let last = try client.readResponse()
        #expect(last.bodyText == "/api/path")
        #expect(client.waitForEOF())
    }

    @Test func headerLookupIsCaseInsensitive() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "GET", "/api/header", headers: ["X-CUSTOM-Thing: hello"])
        #expect(response.bodyText == "hello")
    }

    @Test func keepAliveServesSeveralRequests() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        for _ in 0..<3 {
            try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
        // HTTP/1.1 keeps the connection open without being asked.
        #expect(!client.waitForEOF(timeout: 0.2))
        try client.send("GET /api/path HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "/api/path")
    }

    /// A response is written in the loop pass that answered it, and the request finished there
    /// when the socket took all of it. One the socket cannot take at once (8 MB to a client that
    /// is not reading yet) must still arrive whole, by the bufferevent's own writes, with the
    /// connection usable after it; and an HTTP/1.0 request without keep-alive is answered and
    /// then closed, also when the answer went out at once.
    @Test func responsesTheSocketCannotTakeAtOnceArriveWhole() throws {
        let big = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }
        let server = try TestServer { context in
            context.router.get("/api/big") { _ in
                .respond(HTTPResponse(headers: [("Content-Type", "application/octet-stream")], body: big))
            }
            context.router.get("/api/small") { _ in .respond(.text("small")) }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port, timeout: 20, receiveBufferSize: 64 * 1024)
        try client.send("GET /api/big HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.3)   // the server's first write fills the socket and stops
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(big.count))
        #expect(response.body == big)
        try client.send("GET /api/small HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "small")

        let old = try TestClient(port: server.port)
        try old.send("GET /api/small HTTP/1.0\r\n\r\n")
        #expect(try old.readResponse().bodyText == "small")
        #expect(old.waitForEOF())
    }

    @Test func bindOnTakenPortThrowsClearError() throws {
        let loop = try EventLoop()
        let first = try HTTPServer(loop: loop, router: Router())
        let port = try first.bind(host: "127.0.0.1", port: 0)
        #expect(port > 0)
        let second = try HTTPServer(loop: loop, router: Router())
        do {
            _ = try second.bind(host: "127.0.0.1", port: port)
            Issue.record("bind on a taken port succeeded")
        } catch {
            #expect(error.description == "cannot bind 127.0.0.1:\(port): Address already in use")
        }
        first.shutdown()
        second.shutdown()
    }
}
