import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

/// Hostile clients over real sockets: oversized heads and bodies, malformed requests, slow
/// clients and connection floods. Every refusal must be the server's own problem+json with
/// its default headers, followed by a close; the server must keep serving others.
@Suite struct HostileHTTPTests {
    private static let securityHeader = ("X-Frame-Options", "DENY")

    private func startServer(
        corsOrigin: String? = nil, _ configure: (inout HTTPServerOptions) -> Void = { _ in }
    ) throws -> TestServer {
        var options = HTTPServerOptions()
        options.maxRequestLineSize = 1_000
        options.maxHeadersSize = 2_000
        options.maxBodySize = 1_000
        configure(&options)
        return try TestServer(options: options) { context in
            context.middleware = [DefaultHeaders([("X-Content-Type-Options", "nosniff"), HostileHTTPTests.securityHeader])]
            if let corsOrigin { context.middleware.append(CORS(origin: corsOrigin)) }
            context.router.get("/api/stats") { _ in .respond(.json(Array("{\"ok\":true}".utf8))) }
            context.router.post("/api/echo") { request in
                .respond(HTTPResponse(status: 201, headers: [("Content-Type", "application/octet-stream")], body: request.body))
            }
        }
    }

    /// The refusal every hostile request must get: our status, problem+json, our headers, then EOF.
    private func expectRefusal(_ client: TestClient, status: Int, _ comment: Comment? = nil,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let response = try client.readResponse()
        #expect(response.status == status, comment, sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "application/problem+json", comment, sourceLocation: sourceLocation)
        #expect(response.header("X-Content-Type-Options") == "nosniff", comment, sourceLocation: sourceLocation)
        #expect(response.header("X-Frame-Options") == "DENY", comment, sourceLocation: sourceLocation)
        #expect(response.header("Connection") == "close", comment, sourceLocation: sourceLocation)
        #expect(response.bodyText.contains("\"status\":\(status)"), comment, sourceLocation: sourceLocation)
        #expect(!response.bodyText.contains("<"), "no HTML error page", sourceLocation: sourceLocation)
        #expect(client.waitForEOF(), comment, sourceLocation: sourceLocation)
    }

    private func stillServes(_ server: TestServer, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let response = try TestClient.request(port: server.port, "GET", "/api/stats")
        #expect(response.status == 200, sourceLocation: sourceLocation)
    }

    // MARK: - Bodies evhttp does not read

    /// evhttp reads no body for HEAD or TRACE: one sent anyway must not be parsed as the next
    /// request on the connection (it was answered with evhttp's HTML 400). The request is
    /// answered and the connection closed; a GET with a body keeps its connection.
    @Test(arguments: ["HEAD", "TRACE"])
    func aBodyOnAMethodWithoutOneClosesTheConnection(method: String) throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        let body = #"{"a": 1, "padding": "GET /api/stats HTTP/1.1"}"#
        try client.send("\(method) /api/stats HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse(head: method == "HEAD")
        #expect(response.status == (method == "HEAD" ? 200 : 405))
        #expect(response.header("Connection") == "close")
        #expect(client.waitForEOF(), "nothing after the body may be answered as a request")
        try stillServes(server)

        let kept = try TestClient(port: server.port)
        try kept.send("GET /api/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try kept.readResponse().status == 200)
        let second = try kept.readResponse()
        #expect(second.status == 200 && second.header("Connection") != "close")
    }

    // MARK: - Oversized requests

    @Test func longRequestLineIs414() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats?q=" + String(repeating: "a", count: 2_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        try expectRefusal(client, status: 414)
        try stillServes(server)
    }

    @Test func requestLineAtTheLimitIsServed() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let prefix = "GET /api/stats?q="
        let suffix = " HTTP/1.1\r\n"
        let target = String(repeating: "a", count: 1_000 - prefix.utf8.count - suffix.utf8.count)
        let client = try TestClient(port: server.port)
        try client.send(prefix + target + suffix + "Host: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        let over = try TestClient(port: server.port)
        try over.send(prefix + target + "a" + suffix + "Host: x\r\n\r\n")
        try expectRefusal(over, status: 414)
    }

    /// The answer comes as soon as the limit is passed, not when (if ever) the line ends.
    @Test func endlessRequestLineIs414BeforeItEnds() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /" + String(repeating: "a", count: 1_500))
        try expectRefusal(client, status: 414)
    }

    @Test func largeHeadersAre431() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        var head = "GET /api/stats HTTP/1.1\r\nHost: x\r\n"
        for index in 0..<100 { head += "X-Filler-\(index): " + String(repeating: "v", count: 40) + "\r\n" }
        try client.send(head + "\r\n")
        try expectRefusal(client, status: 431)
        try stillServes(server)
    }

    /// Far past evhttp's own limit: still our 431, never evhttp's page.
    @Test func hugeHeaderIs431() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats HTTP/1.1\r\nX-Big: " + String(repeating: "b", count: 200_000) + "\r\n\r\n")
        try expectRefusal(client, status: 431)
    }

    @Test func largeBodyIs413() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "z", count: 5_000))
        try expectRefusal(client, status: 413)
        try stillServes(server)
    }

    /// A client announcing a huge body and sending it is told 413 and drained, not reset
    /// before it could read the answer.
    @Test func largeUploadStillReads413() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n")
        let sent = client.sendIgnoringErrors(Array(repeating: UInt8(ascii: "z"), count: 200_000))
        #expect(sent > 0)
        try expectRefusal(client, status: 413)
    }

    @Test func chunkedBodyPastTheLimitIs413() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        let chunk = String(repeating: "c", count: 800)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "320\r\n\(chunk)\r\n320\r\n\(chunk)\r\n0\r\n\r\n")
        try expectRefusal(client, status: 413)
    }

    // MARK: - Malformed requests (evhttp's own error pages, replaced)

    @Test func malformedRequestsAre400() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let heads = [
            "NOT A REQUEST\r\n\r\n",
            "GET /api/stats HTTP/1.1\r\nNo colon here\r\n\r\n",
            "GET /api/stats HTTP/1\r\n\r\n",
            "GET /api/stats\r\n\r\n",
            "GET  /api/stats HTTP/1.1\r\n\r\n",
            "GET /api/stats HTTP/1.1\r\nHost : x\r\n\r\n",
            "GET /api/stats HTTP/1.1\r\nHost: x\r\n folded: value\r\n\r\n",
            "GET /api/stats HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
            "POST /api/echo HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            "\r\n\r\n",
        ]
        for head in heads {
            let client = try TestClient(port: server.port)
            try client.send(head)
            try expectRefusal(client, status: 400, "\(head.debugDescription)")
        }
        try stillServes(server)
    }

    /// A chunked body whose framing a proxy could read differently is refused before evhttp
    /// reads it (evhttp alone took `0x3` and `+3` as sizes and reported `ZZ` as "too long").
    @Test(arguments: ["ZZ\r\n", "0x3\r\nabc\r\n0\r\n\r\n", "+3\r\nabc\r\n0\r\n\r\n", "3\nabc\r\n0\r\n\r\n",
                      "3\r\nabcd\r\n0\r\n\r\n", "3\r\nabc\n0\r\n\r\n", "3;\u{01}\r\nabc\r\n0\r\n\r\n",
                      "1000000000000000\r\n", "0\r\nbad trailer\r\n\r\n"])
    func malformedChunkedBodiesAre400(body: String) throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
            + "GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        try expectRefusal(client, status: 400, "\(body.debugDescription)")
    }

    /// RFC 9112 7.1.1: extensions are ignored, not refused (evhttp alone answered 413).
    @Test func chunkExtensionsAreAccepted() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3;name=value\r\nabc\r\n2\t;quoted=\"a b\"\r\nde\r\n1 ; x\r\nf\r\n0;last\r\nTrailer-Field: t\r\n\r\n"
            + "GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 201)
        #expect(response.bodyText == "abcdef")
        #expect(try client.readResponse().status == 200, "the connection goes on after the body")
    }

    @Test func httpVersionsOtherThanOneAre505() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        for version in ["HTTP/9.9", "HTTP/2.0", "HTTP/0.9"] {
            let client = try TestClient(port: server.port)
            try client.send("GET /api/stats \(version)\r\nHost: x\r\n\r\n")
            try expectRefusal(client, status: 505, "\(version)")
        }
    }

    /// evhttp's own refusals on a later request of a kept-alive connection were sent as its HTML
    /// pages (the output buffer's front is frozen once a response was written, and the status
    /// was read with a copy that refuses frozen buffers). Each is the server's answer now.
    @Test(arguments: [
        ("NOT A REQUEST\r\n\r\n", 400), ("GET /api/stats HTTP/1.1\r\nNo colon\r\n\r\n", 400),
        ("QUERY /api/stats HTTP/1.1\r\n\r\n", 501), ("get /api/stats HTTP/1.1\r\n\r\n", 501),
        ("POST /api/echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413),
        ("POST /api/echo HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\n", 417),
        ("POST /api/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501),
    ])
    func refusalsOfALaterRequestAreTheServersOwn(request: String, status: Int) throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        try client.send(request)
        try expectRefusal(client, status: status, "\(request.debugDescription)")
    }

    /// The classic request-smuggling shapes: whatever reads the framing otherwise, the server
    /// answers once with 400 (or 501 for a coding it lacks) and closes; the request hidden after
    /// the first is never answered.
    @Test(arguments: [
        "Content-Length: 3\r\nContent-Length: 40\r\n",
        "Content-Length: 3\r\nContent-Length: 3\r\n",
        "Content-Length: 3, 3\r\n",
        "Content-Length : 3\r\n",
        "Content-Length: +3\r\n",
        "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
        "Transfer-Encoding: xchunked\r\n",
        "Transfer-Encoding : chunked\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding:\u{0B}chunked\r\n",
        "X: y\r\n Transfer-Encoding: chunked\r\n",
    ])
    func ambiguousFramingIsRefusedAndNothingAfterItAnswered(fields: String) throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n"
            + "0\r\n\r\nGET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        #expect([400, 501].contains(response.status), "\(fields.debugDescription)")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.header("Connection") == "close")
        #expect(client.readToEOF() == [], "nothing more is answered: \(fields.debugDescription)")
    }

    @Test func transferEncodingInHTTP10IsRefused() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        try expectRefusal(client, status: 400)
    }

    @Test func unknownMethodIs501() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        for method in ["BREW", "PROPFIND", "get", "QUERY", "CONNECT"] {
            let client = try TestClient(port: server.port)
            try client.send("\(method) /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
            try expectRefusal(client, status: 501, "\(method)")
        }
    }

    @Test func unsupportedExpectationIs417() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 3\r\n\r\n")
        try expectRefusal(client, status: 417)
    }

    /// evhttp's own "100 Continue" is legitimate and passes through untouched.
    @Test func expectContinueStillWorks() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        let interim = try client.readHead()
        #expect(interim.status == 100)
        try client.send("abc")
        let response = try client.readResponse()
        #expect(response.status == 201)
        #expect(response.bodyText == "abc")
    }

    @Test func expectContinueWithTooLargeBodyIs413() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 99999\r\n\r\n")
        try expectRefusal(client, status: 413)
    }

    @Test func corsHeadersAreOnRefusalsToo() throws {
        let server = try startServer(corsOrigin: "https://example.com")
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("BREW / HTTP/1.1\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 501)
        #expect(response.header("Access-Control-Allow-Origin") == "https://example.com")
        #expect(response.header("Vary") == "Origin")
    }

    /// The wording of refusals is the application's: a custom error page answers them, with
    /// the server still deciding status handling, headers and the close.
    @Test func customErrorPagesWordTheRefusals() throws {
        var options = HTTPServerOptions()
        options.maxRequestLineSize = 1_000
        let server = try TestServer(options: options) { context in
            context.router.get("/api/stats") { _ in .respond(.json(Array("{}".utf8))) }
            context.errorPage = { refusal in .text("refused: \(refusal)", status: refusal.status) }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /" + String(repeating: "a", count: 1_500) + " HTTP/1.1\r\n\r\n")
        let refused = try client.readResponse()
        #expect(refused.status == 414)
        #expect(refused.bodyText == "refused: requestLineTooLong(limit: 1000)")
        #expect(refused.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(refused.header("Connection") == "close")
        #expect(client.waitForEOF())
        let badPath = try TestClient.request(port: server.port, "GET", "/a%zz")
        #expect(badPath.status == 400)
        #expect(badPath.bodyText == "refused: invalidPath")
        let malformed = try TestClient(port: server.port)
        try malformed.send("NOT A REQUEST\r\n\r\n")
        #expect(try malformed.readResponse().bodyText == #"refused: badFraming("an invalid HTTP version")"#)
    }

    // MARK: - Keep-alive and pipelining

    @Test func pipelinedRequestPastTheLimitIsRefusedAfterTheGoodOne() throws {
        let server = try startServer()
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\nGET /" + String(repeating: "p", count: 1_500) + " HTTP/1.1\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        try expectRefusal(client, status: 414)
    }

    /// The head deadline restarts with each request: a keep-alive connection may sit idle
    /// between requests longer than the deadline (the idle timeout governs that).
    @Test func idleKeepAliveIsNotHeldToTheHeadDeadline() throws {
        let server = try startServer { $0.headerTimeoutSeconds = 0.3 }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        usleep(800_000)
        try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
    }

    @Test func idleKeepAliveIsClosedAfterTheIdleTimeout() throws {
        let server = try startServer { $0.timeoutSeconds = 1 }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        #expect(client.waitForEOF(timeout: 5))
    }

    // MARK: - Slow clients

    @Test func connectionThatSendsNothingGets408() throws {
        let server = try startServer { $0.headerTimeoutSeconds = 0.3 }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try expectRefusal(client, status: 408)
    }

    /// Slowloris: a byte at a time keeps evhttp's per-read timeout from ever firing; the
    /// head deadline does not care.
    @Test func headSentAByteAtATimeGets408() throws {
        let server = try startServer { $0.headerTimeoutSeconds = 0.5 }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        let head = Array("GET /api/stats HTTP/1.1\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 200)
        let fd = client.duplicateDescriptor()
        let trickle = Thread {
            defer { close(fd) }
            for byte in head {   // at most 225 × 20 ms; stops once the server has hung up
                var byte = byte
                guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                usleep(20_000)
            }
        }
        trickle.start()
        try expectRefusal(client, status: 408)
    }

    @Test func slowBodyGets408() throws {
        let server = try startServer { $0.headerTimeoutSeconds = 0.3 }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        try expectRefusal(client, status: 408)
    }

    @Test func slowClientDoesNotBlockOthers() throws {
        let server = try startServer { $0.headerTimeoutSeconds = 30 }
        defer { #expect(server.stop()) }
        let slow = try TestClient(port: server.port)
        try slow.send("GET /api/stats HTTP/1.1\r\nHost: x\r\n")
        for _ in 0..<5 { try stillServes(server) }
    }

    // MARK: - Connection limit

    @Test func connectionsPastTheLimitGet503() throws {
        let server = try startServer { $0.maxConnections = 3 }
        defer { #expect(server.stop()) }
        let held = try (0..<3).map { _ in try TestClient(port: server.port) }
        let extra = try TestClient(port: server.port)
        let response = try extra.readResponse()
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.header("X-Frame-Options") == "DENY")
        #expect(extra.waitForEOF())
        // The held connections still work.
        try held[0].send("GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try held[0].readResponse().status == 200)
        // Once one goes, a newcomer is served.
        held[1].close()
        #expect(eventually {
            (try? TestClient.request(port: server.port, "GET", "/api/stats"))?.status == 200
        })
    }
}
