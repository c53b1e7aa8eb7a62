@testable import EventHTTP
import EventHTTPTesting
import Foundation
import Testing

/// Loop-thread-only holder for the stream under test.
private final class StreamHolder {
    var stream: ResponseStream?
    var counter = 0
}

private struct StreamLog: Sendable {
    var closeCount = 0
    var started = 0
    var writesAfterClose: [Bool] = []
    var pendingAfterClose: [Int] = []
    var maxPending = 0
    var bytesQueued = 0
    var openStreams = -1
}

private let sseHeaders: [(name: String, value: String)] = [
    ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
]

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct StreamingTests {
    @Test func chunksArriveIncrementallyInOrder() throws {
        let next = Shared<LoopWaker?>(nil)
        let log = Shared(StreamLog())
        let server = try TestServer { context in
            let holder = StreamHolder()
            let waker = context.loop.makeWaker {
                guard let stream = holder.stream else { return }
                holder.counter += 1
                if holder.counter <= 3 {
                    stream.write(bytes("data: \(holder.counter)\n\n"))
                } else {
                    stream.close()
                }
            }
            next.update { $0 = waker }
            context.router.get("/events") { _ in
                .stream(status: 200, headers: sseHeaders) { stream in
                    log.update { $0.started += 1 }
                    stream.onClose = { log.update { $0.closeCount += 1 } }
                    holder.stream = stream
                    stream.write(bytes("retry: 1000\n\n"))
                }
            }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readHead()
        #expect(head.status == 200)
        #expect(head.header("Transfer-Encoding") == "chunked")
        #expect(head.header("Content-Type") == "text/event-stream")
        #expect(head.header("X-Content-Type-Options") == "nosniff")
        #expect(try client.readChunk() == bytes("retry: 1000\n\n"))
        // The server writes chunk n only after we asked for it: each one arrives on its own.
        for n in 1...3 {
            next.value?.wake()
            #expect(try client.readChunk() == bytes("data: \(n)\n\n"))
        }
        next.value?.wake()
        #expect(try client.readChunk() == nil)
        #expect(eventually { log.value.closeCount == 1 })
        // After a normal end the keep-alive connection serves the next request.
        try client.send("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try client.readResponse().status == 404)
        #expect(log.value.started == 1)
    }

    @Test func clientDisconnectClosesStreamOnce() throws {
        let log = Shared(StreamLog())
        let server = try TestServer { context in
            let holder = StreamHolder()
            let ticker = context.loop.repeatingTimer(every: 0.01) {
                guard let stream = holder.stream else { return }
                let ok = stream.write(bytes("data: tick\n\n"))
                if !stream.isOpen {
                    stream.close()   // a late close() must be harmless and not re-fire onClose
                    let pending = stream.pendingBytes
                    let open = context.server?.openStreamCount ?? -1
                    log.update {
                        $0.writesAfterClose.append(ok)
                        $0.pendingAfterClose.append(pending)
                        $0.openStreams = open
                    }
                }
            }
            context.keep(ticker)
            context.router.get("/events") { _ in
                .stream(status: 200, headers: sseHeaders) { stream in
                    stream.onClose = { log.update { $0.closeCount += 1 } }
                    holder.stream = stream
                    stream.write(bytes("data: hello\n\n"))
                }
            }
            context.router.get("/ping") { _ in .respond(.text("pong")) }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() == bytes("data: hello\n\n"))
        client.close()

        #expect(eventually { log.value.closeCount == 1 && log.value.writesAfterClose.count >= 3 })
        let state = log.value
        #expect(state.closeCount == 1)
        #expect(state.writesAfterClose.allSatisfy { !$0 })
        #expect(state.pendingAfterClose.allSatisfy { $0 == 0 })
        #expect(state.openStreams == 0)
        let ping = try TestClient.request(port: server.port, "GET", "/ping")
        #expect(ping.bodyText == "pong")
        #expect(log.value.closeCount == 1)
    }

    @Test func serverShutdownClosesOpenStreams() throws {
        let log = Shared(StreamLog())
        let server = try TestServer { context in
            context.router.get("/events") { [weak context] _ in
                .stream(status: 200, headers: sseHeaders) { stream in
                    stream.onClose = { log.update { $0.closeCount += 1 } }
                    context?.keep(stream)
                    stream.write(bytes("data: hello\n\n"))
                }
            }
        }
        let client = try TestClient(port: server.port)
        try client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() == bytes("data: hello\n\n"))
        #expect(server.stop())
        #expect(log.value.closeCount == 1)
        #expect(client.waitForEOF())
    }

    @Test func headOnStreamRouteSendsHeadersOnly() throws {
        let log = Shared(StreamLog())
        let server = try TestServer { context in
            context.router.get("/events") { _ in
                .stream(status: 200, headers: sseHeaders) { _ in log.update { $0.started += 1 } }
            }
        }
        defer { #expect(server.stop()) }
        let response = try TestClient.request(port: server.port, "HEAD", "/events")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        #expect(log.value.started == 0)
    }

    /// A chunk the socket cannot take at once is sent in part and the rest queued; chunks
    /// written after it wait behind it. The client reads only once all are written.
    @Test func chunksLargerThanTheSocketTakesArriveWholeAndInOrder() throws {
        let log = Shared(StreamLog())
        let big = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let server = try TestServer { context in
            context.router.get("/events") { _ in
                .stream(status: 200, headers: sseHeaders) { stream in
                    stream.write(bytes("first"))
                    stream.write(big)
                    stream.write(bytes("last"))
                    log.update { $0.maxPending = stream.pendingBytes }
                    stream.close()
                }
            }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port, receiveBufferSize: 4_096)
        try client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { log.value.maxPending > 0 }, "everything fit in the socket: the test shows nothing")
        #expect(try client.readHead().header("Transfer-Encoding") == "chunked")
        var body: [UInt8] = []
        while let chunk = try client.readChunk() { body += chunk }
        #expect(body.count == 5 + big.count + 4)
        #expect(body == bytes("first") + big + bytes("last"))
    }

    /// HTTP/1.0 has no chunked encoding: the stream's bytes go out as they are, and the end of
    /// the body is the end of the connection.
    @Test func http10StreamIsWrittenRawAndEndsWithTheConnection() throws {
        let server = try TestServer { context in
            context.router.get("/events") { _ in
                .stream(status: 200, headers: sseHeaders) { stream in
                    stream.write(bytes("data: one\n\n"))
                    stream.write(bytes("data: two\n\n"))
                    stream.close()
                }
            }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /events HTTP/1.0\r\n\r\n")
        let head = try client.readHead()
        #expect(head.status == 200)
        #expect(head.header("Transfer-Encoding") == nil)
        #expect(String(decoding: try client.readToEnd(), as: UTF8.self) == "data: one\n\ndata: two\n\n")
    }

    @Test func chunkSizeLinesAreLowercaseHex() {
        var line = [UInt8](repeating: 0, count: 20)
        for (size, text) in [(1, "1"), (15, "f"), (16, "10"), (4_095, "fff"), (1_048_576, "100000"), (Int(Int32.max), "7fffffff")] {
            let count = line.withUnsafeMutableBufferPointer { ResponseStream.chunkHeader(size: size, into: $0) }
            #expect(String(decoding: line[..<count], as: UTF8.self) == text + "\r\n")
        }
    }

    /// The client stops reading while the server writes 8 MiB in 64 KiB chunks.
    private func startFloodServer(options: HTTPServerOptions, log: Shared<StreamLog>) throws -> TestServer {
        try TestServer(options: options) { context in
            let holder = StreamHolder()
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 65_536)
            let ticker = context.loop.repeatingTimer(every: 0.002) {
                guard let stream = holder.stream, stream.isOpen, holder.counter < 128 else { return }
                holder.counter += 1
                stream.write(chunk)
                let pending = stream.pendingBytes
                log.update {
                    $0.maxPending = max($0.maxPending, pending)
                    $0.bytesQueued += chunk.count
                }
            }
            context.keep(ticker)
            context.router.get("/flood") { _ in
                .stream(status: 200, headers: [("Content-Type", "application/octet-stream")]) { stream in
                    stream.onClose = { log.update { $0.closeCount += 1 } }
                    holder.stream = stream
                }
            }
        }
    }

    @Test func pendingBytesGrowsForClientThatStopsReading() throws {
        let log = Shared(StreamLog())
        let server = try startFloodServer(options: .init(), log: log)
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port, receiveBufferSize: 4_096)
        try client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { log.value.bytesQueued == 8 * 1_048_576 })
        #expect(log.value.maxPending > 1_048_576)
        client.close()
        #expect(eventually { log.value.closeCount == 1 })
    }

    @Test func stalledReaderIsCutByWriteTimeout() throws {
        var options = HTTPServerOptions()
        options.timeoutSeconds = 1
        let log = Shared(StreamLog())
        let server = try startFloodServer(options: options, log: log)
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port, receiveBufferSize: 4_096)
        try client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually(timeout: 6) { log.value.closeCount == 1 })
        withExtendedLifetime(client) {}
    }

    /// abort() on a stalled reader frees the connection at once, backlog and all, instead of
    /// waiting (as close() would) for the client to read it or the write timeout to pass.
    @Test func abortDropsStalledReaderAtOnce() throws {
        var options = HTTPServerOptions()
        options.timeoutSeconds = 60   // far beyond the test's wait: only abort() can end it in time
        let log = Shared(StreamLog())
        let server = try TestServer(options: options) { context in
            let holder = StreamHolder()
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 65_536)
            let ticker = context.loop.repeatingTimer(every: 0.002) {
                guard let stream = holder.stream, stream.isOpen else { return }
                stream.write(chunk)
                let pending = stream.pendingBytes
                log.update { $0.maxPending = max($0.maxPending, pending) }
                if pending > 262_144 {
                    stream.abort()
                    stream.abort()   // a second call must be harmless
                    let ok = stream.write(chunk)
                    let open = context.server?.openStreamCount ?? -1
                    log.update {
                        $0.writesAfterClose.append(ok)
                        $0.pendingAfterClose.append(stream.pendingBytes)
                        $0.openStreams = open
                    }
                }
            }
            context.keep(ticker)
            context.router.get("/flood") { _ in
                .stream(status: 200, headers: [("Content-Type", "application/octet-stream")]) { stream in
                    stream.onClose = { log.update { $0.closeCount += 1 } }
                    holder.stream = stream
                }
            }
            context.router.get("/ping") { _ in .respond(.text("pong")) }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port, receiveBufferSize: 4_096)
        try client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { log.value.closeCount == 1 })
        let state = log.value
        #expect(state.writesAfterClose == [false])
        #expect(state.pendingAfterClose == [0])
        #expect(state.openStreams == 0)
        // The connection is gone: reading what the kernel still held ends in EOF, not a wait.
        #expect(client.waitForEOF(timeout: 5))
        #expect(try TestClient.request(port: server.port, "GET", "/ping").bodyText == "pong")
        #expect(log.value.closeCount == 1)
    }

    /// An SSE client never sends after its request, and events may pause longer than the
    /// read timeout: the stream must survive (evhttp re-arms the read timeout only on writes).
    @Test func silentClientStreamOutlivesReadTimeout() throws {
        var options = HTTPServerOptions()
        options.timeoutSeconds = 1
        let log = Shared(StreamLog())
        let server = try TestServer(options: options) { context in
            let holder = StreamHolder()
            let ticker = context.loop.repeatingTimer(every: 1.4) {
                holder.counter += 1
                holder.stream?.write(bytes(": heartbeat \(holder.counter)\n\n"))
            }
            context.keep(ticker)
            context.router.get("/events") { _ in
                .stream(status: 200, headers: sseHeaders) { stream in
                    stream.onClose = { log.update { $0.closeCount += 1 } }
                    holder.stream = stream
                }
            }
        }
        defer { #expect(server.stop()) }
        let client = try TestClient(port: server.port)
        try client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() != nil)
        #expect(try client.readChunk() != nil)   // 1.4 s of silence both ways in between
        #expect(log.value.closeCount == 0)
    }
}
