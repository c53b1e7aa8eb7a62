import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

@Suite struct CORSTests {
    private func startServer(origin: String?, root: String? = nil) throws -> TestServer {
        try TestServer { [root] context in
            if let origin { context.middleware = [DefaultHeaders(), CORS(origin: origin)] }
            let router = context.router
            router.get("/api/stats") { _ in .respond(.json(Array("{}".utf8))) }
            router.post("/api/stats") { _ in .respond(.text("posted", status: 201)) }
            router.get("/api/vary") { _ in
                .respond(HTTPResponse(headers: [("Vary", "Accept-Encoding"), ("Content-Type", "text/plain")]))
            }
            router.get("/api/deferred") { _ in .deferred { $0.respond(.text("later")) } }
            router.get("/events") { _ in
                .stream(status: 200, headers: [("Content-Type", "text/event-stream")]) { stream in
                    stream.write(Array("data: x\n\n".utf8))
                    stream.close()
                }
            }
            if let root { router.fallback = StaticFiles(root: root).handle }
        }
    }

    private func expectCORS(_ response: WireResponse, origin: String, _ what: String) {
        #expect(response.header("Access-Control-Allow-Origin") == origin, "\(what)")
        #expect(response.header("Access-Control-Expose-Headers") == "ETag, Link, Location, Retry-After", "\(what)")
        if origin == "*" {
            #expect(response.header("Vary") == nil, "\(what)")
        } else {
            #expect(response.headers.filter { $0.name.lowercased() == "vary" }.count == 1, "\(what)")
            #expect(response.header("Vary")?.hasSuffix("Origin") == true, "\(what)")
        }
    }

    @Test func offByDefault() throws {
        let server = try startServer(origin: nil)
        defer { #expect(server.stop()) }
        for target in ["/api/stats", "/nowhere", "/api/deferred"] {
            let response = try TestClient.request(port: server.port, "GET", target)
            #expect(!response.headers.contains { $0.name.lowercased().hasPrefix("access-control-") }, "\(target)")
        }
        let options = try TestClient.request(
            port: server.port, "OPTIONS", "/api/stats", headers: ["Origin: https://a.example", "Access-Control-Request-Method: POST"])
        #expect(options.status == 204)
        #expect(options.header("Allow") == "GET, HEAD, POST, OPTIONS")
        #expect(options.header("Access-Control-Allow-Methods") == nil)
    }

    @Test(arguments: ["*", "https://dash.example"]) func everyResponseCarriesCORS(origin: String) throws {
        let tree = NSTemporaryDirectory() + "eventhttp-cors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tree) }
        try "<p>hi</p>".write(toFile: tree + "/index.html", atomically: false, encoding: .utf8)
        let server = try startServer(origin: origin, root: tree)
        defer { #expect(server.stop()) }
        let port = server.port
        expectCORS(try TestClient.request(port: port, "GET", "/api/stats"), origin: origin, "plain")
        expectCORS(try TestClient.request(port: port, "GET", "/api/deferred"), origin: origin, "deferred")
        expectCORS(try TestClient.request(port: port, "DELETE", "/api/stats"), origin: origin, "405")
        expectCORS(try TestClient.request(port: port, "GET", "/missing.js"), origin: origin, "404")
        expectCORS(try TestClient.request(port: port, "GET", "/a%zz"), origin: origin, "400")
        expectCORS(try TestClient.request(port: port, "GET", "/"), origin: origin, "static")
        expectCORS(try TestClient.request(port: port, "HEAD", "/events"), origin: origin, "stream HEAD")
        let stream = try TestClient.request(port: port, "GET", "/events")
        #expect(stream.bodyText == "data: x\n\n")
        expectCORS(stream, origin: origin, "stream")
        let vary = try TestClient.request(port: port, "GET", "/api/vary")
        #expect(vary.header("Vary") == (origin == "*" ? "Accept-Encoding" : "Accept-Encoding, Origin"))
    }

    @Test func preflightToKnownRoute() throws {
        let server = try startServer(origin: "https://dash.example")
        defer { #expect(server.stop()) }
        let preflight = try TestClient.request(
            port: server.port, "OPTIONS", "/api/stats",
            headers: ["Origin: https://dash.example", "Access-Control-Request-Method: POST",
                      "Access-Control-Request-Headers: content-type"])
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Origin") == "https://dash.example")
        #expect(preflight.header("Access-Control-Allow-Methods") == "GET, HEAD, POST, OPTIONS")
        #expect(preflight.header("Access-Control-Allow-Headers") == "Content-Type, Authorization, Last-Event-ID")
        #expect(preflight.header("Access-Control-Max-Age") == "600")
        #expect(preflight.header("Vary") == "Origin")
        // A plain OPTIONS (no Access-Control-Request-Method) keeps the Allow answer.
        let plain = try TestClient.request(port: server.port, "OPTIONS", "/api/stats")
        #expect(plain.status == 204)
        #expect(plain.header("Allow") == "GET, HEAD, POST, OPTIONS")
        #expect(plain.header("Access-Control-Allow-Methods") == nil)
        // Unknown paths are not preflighted: the fallback answers.
        let unknown = try TestClient.request(
            port: server.port, "OPTIONS", "/nowhere", headers: ["Access-Control-Request-Method: GET"])
        #expect(unknown.status == 404)
        #expect(unknown.header("Access-Control-Allow-Methods") == nil)
    }
}
