import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

/// Loop-thread-only holder for the pending response under test.
private final class PendingHolder {
    var pending: PendingResponse?
}

private struct DeferredLog: Sendable {
    var started = 0
    var disconnects = 0
    var connectedAfterClose: [Bool] = []
    var pendingCount = -1
    var respondedLate = false
}

@Suite struct DeferredTests {
    @Test func respondLaterFromTimer() throws {
        let server = try TestServer { context in
            context.router.post("/api/produce") { [unowned context] request in
                .deferred { pending in
                    let timer = context.loop.after(seconds: 0.1) {
                        #expect(pending.isConnected)
                        pending.respond(.json(Array("{\"ok\":\(request.body.count)}".utf8), status: 202))
                        #expect(!pending.isConnected)
                        pending.respond(.text("twice"))   // second respond: no-op
                    }
                    context.keep(timer)
                }
            }
        }
        defer { #expect(server.stop()) }
        let started = Date()
        let response = try TestClient.request(port: server.port, "POST", "/api/produce", body: Array("abc".utf8))
        #expect(Date().timeIntervalSince(started) >= 0.09)
        #expect(response.status == 202)
        #expect(response.bodyText == "{\"ok\":3}")
        #expect(response.header("X-Content-Type-Options") == "nosniff")
    }

    @Test(arguments: ["GET", "POST"]) func clientGoneBeforeRespond(method: String) throws {
        let log = Shared(DeferredLog())
        let server = try TestServer { context in
            let holder = PendingHolder()
            let slow: RouteHandler = { [unowned context] _ in
                .deferred { pending in
                    log.update { $0.started += 1 }
                    pending.onDisconnect = {
                        let count = context.server?.pendingResponseCount ?? -1
                        log.update { $0.disconnects += 1; $0.pendingCount = count }
                    }
                    holder.pending = pending
                }
            }
            context.router.get("/api/slow", slow)
            context.router.post("/api/slow", slow)
            context.router.get("/api/late") { _ in
                guard let pending = holder.pending else { return .respond(.text("none")) }
                let connected = pending.isConnected
                pending.respond(.text("too late"))   // must be a harmless no-op
                log.update { $0.connectedAfterClose.append(connected); $0.respondedLate = true }
                return .respond(.text("ok"))
            }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("\(method) /api/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        #expect(eventually { log.value.started == 1 })
        client.close()
        #expect(eventually { log.value.disconnects == 1 })
        #expect(log.value.pendingCount == 0)
        let late = try TestClient.request(port: server.port, "GET", "/api/late")
        #expect(late.bodyText == "ok")
        #expect(log.value.connectedAfterClose == [false])
        #expect(log.value.disconnects == 1)
    }

    @Test func headOnDeferredRouteSendsHeadersOnly() throws {
        let log = Shared(DeferredLog())
        let server = try TestServer { context in
            context.router.get("/api/slow") { [unowned context] _ in
                .deferred { pending in
                    log.update { $0.started += 1 }
                    let timer = context.loop.after(seconds: 0.05) { pending.respond(.json(Array("{\"a\":1}".utf8))) }
                    context.keep(timer)
                }
            }
        }
        defer { #expect(server.stop()) }
        // Keep-alive: a leaked body would garble the second status line.
        let client = try TestClient(port: server.port)
        try client.send("HEAD /api/slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(head: true)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "7")
        #expect(head.header("Content-Type") == "application/json")
        try client.send("GET /api/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let get = try client.readResponse()
        #expect(get.bodyText == "{\"a\":1}")
        #expect(log.value.started == 2)
    }

    @Test func respondInsideTheClosureWorks() throws {
        let server = try TestServer { context in
            context.router.get("/api/now") { _ in .deferred { $0.respond(.text("now", status: 201)) } }
        }
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "GET", "/api/now")
        #expect(response.status == 201)
        #expect(response.bodyText == "now")
    }

    /// A request sent while the first is still pending must neither crash evhttp nor be
    /// lost: it is answered after the first, in order.
    @Test func pipelinedRequestWhilePending() throws {
        let log = Shared(DeferredLog())
        let server = try TestServer { context in
            let holder = PendingHolder()
            context.router.get("/api/slow") { _ in
                .deferred { pending in
                    log.update { $0.started += 1 }
                    pending.onDisconnect = { log.update { $0.disconnects += 1 } }
                    holder.pending = pending
                }
            }
            context.router.get("/api/fast") { _ in .respond(.text("fast")) }
            let poll = context.loop.repeatingTimer(every: 0.01) {
                guard log.value.respondedLate, let pending = holder.pending else { return }
                holder.pending = nil
                pending.respond(.text("slow"))
            }
            context.keep(poll)
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { log.value.started == 1 })
        try client.send("GET /api/fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        usleep(50_000)   // let the second request's bytes reach the server while the first waits
        log.update { $0.respondedLate = true }
        #expect(try client.readResponse().bodyText == "slow")
        #expect(try client.readResponse().bodyText == "fast")
        #expect(client.waitForEOF())
        #expect(log.value.disconnects == 0)
    }

    @Test func shutdownWithPendingResponseCallsOnDisconnect() throws {
        let log = Shared(DeferredLog())
        let server = try TestServer { context in
            context.router.get("/api/slow") { [unowned context] _ in
                .deferred { pending in
                    log.update { $0.started += 1 }
                    pending.onDisconnect = {
                        pending.respond(.text("ignored"))   // from inside the callback: a no-op
                        log.update { $0.disconnects += 1 }
                    }
                    context.keep(pending)
                }
            }
        }
        let client = try TestClient(port: server.port)
        try client.send("GET /api/slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { log.value.started == 1 })
        #expect(server.stop())
        #expect(log.value.disconnects == 1)
        #expect(client.waitForEOF())
    }
}
