import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

private struct Observation: Sendable, Equatable {
    var method: String
    var pattern: String
    var status: Int
    var seconds: Double
}

@Suite struct MetricsTests {
    @Test func onResponseReportsBoundedLabels() throws {
        let tree = NSTemporaryDirectory() + "eventhttp-metrics-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tree) }
        try "<p>hi</p>".write(toFile: tree + "/index.html", atomically: false, encoding: .utf8)
        let seen = Shared<[Observation]>([])
        let server = try TestServer { [tree] context in
            let router = context.router
            router.get("/api/stats") { _ in .respond(.json(Array("{}".utf8))) }
            router.post("/api/listens") { [unowned context] _ in
                .deferred { pending in
                    let timer = context.loop.after(seconds: 0.05) { pending.respond(.text("ok", status: 202)) }
                    context.keep(timer)
                }
            }
            router.get("/api/gone") { _ in .deferred { _ in } }   // never answered: client leaves
            router.get("/events") { _ in
                .stream(status: 200, headers: [("Content-Type", "text/event-stream")]) { $0.close() }
            }
            router.fallback = StaticFiles(root: tree).handle
            // configure() runs before the server exists: hook it up on the first loop turn.
            let hook = context.loop.after(seconds: 0) { [unowned context] in
                context.server?.onResponse = { method, pattern, status, seconds in
                    seen.update { $0.append(Observation(method: method.rawValue, pattern: pattern, status: status, seconds: seconds)) }
                }
            }
            context.keep(hook)
        }
        defer { #expect(server.stop()) }
        usleep(20_000)
        let port = server.port
        _ = try TestClient.request(port: port, "GET", "/api/stats")
        _ = try TestClient.request(port: port, "DELETE", "/api/stats")
        _ = try TestClient.request(port: port, "POST", "/api/listens", body: Array("{}".utf8))
        _ = try TestClient.request(port: port, "GET", "/events")
        _ = try TestClient.request(port: port, "GET", "/index.html")
        _ = try TestClient.request(port: port, "GET", "/random/probe/12345")
        _ = try TestClient.request(port: port, "GET", "/a%zz")
        let gone = try TestClient(port: port)
        try gone.send("GET /api/gone HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(20_000)
        gone.close()
        #expect(eventually { seen.value.count >= 7 })
        usleep(50_000)
        let observed = seen.value
        let labels = observed.map { "\($0.method) \($0.pattern) \($0.status)" }
        #expect(labels == [
            "GET /api/stats 200", "DELETE /api/stats 405", "POST /api/listens 202", "GET /events 200",
            "GET static 200", "GET unmatched 404", "GET unmatched 400",
        ])
        #expect(observed.allSatisfy { $0.seconds >= 0 && $0.seconds < 5 })
        #expect(observed[2].seconds >= 0.04)
    }
}
