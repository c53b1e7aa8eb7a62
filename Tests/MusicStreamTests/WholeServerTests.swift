import EventHTTPTesting
import Foundation
import Logging
import MusicModel
import MusicStream
import Synchronization
import Testing

/// The whole service in this process, as `musicstream serve` runs it: embedded broker, simulator,
/// consumer thread, window, HTTP on a free loopback port. Driven over real sockets, then stopped
/// through `requestStop`, the way an embedding program would.
@Suite struct WholeServerTests {
    @Test func servesRestStreamAndPublishThenStopsOnRequest() throws {
        var config = ServiceConfig()
        config.port = 0
        config.settleSimulation(simulate: true)
        config.rate = 0   // the 20 backfilled listens only: the counts below are exact
        config.windowCapacity = 1_000
        let dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("musicstream-whole-\(UUID().uuidString)").path
        config.dataDirectory = dataDirectory
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        var logger = Logger(label: "whole-server")
        logger.logLevel = .warning
        let ready = Mutex<(port: Int, bootstrap: String)?>(nil)
        let server = MusicStreamServer(config: config, logger: logger) { port, bootstrap in
            ready.withLock { $0 = (port, bootstrap) }
        }
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let thread = Thread { outcome.withLock { $0 = Result { try server.run() } } }
        thread.start()

        let started = try #require(waitFor(seconds: 30) { ready.withLock { $0 } }, "the server never became ready")
        #expect(started.bootstrap.hasPrefix("127.0.0.1:"))
        let port = started.port

        // REST: the backfill travels simulator -> embedded Kafka -> consumer -> window.
        let filled = waitFor(seconds: 30) { () -> Int? in
            let count = (try? json(TestClient.request(port: port, "GET", "/api/status")))?["window"]
                .flatMap { ($0 as? [String: Any])?["size"] as? Int }
            return count == ServiceConfig.embeddedBackfill ? count : nil
        }
        #expect(filled == ServiceConfig.embeddedBackfill)
        // ...and, on the sink's own thread, into the history (a SQLite file in the data directory).
        let stored = waitFor(seconds: 30) { () -> Int? in
            let count = (try? json(TestClient.request(port: port, "GET", "/api/status")))?["history"]
                .flatMap { ($0 as? [String: Any])?["stored"] as? Int }
            return count == ServiceConfig.embeddedBackfill ? count : nil
        }
        #expect(stored == ServiceConfig.embeddedBackfill)
        #expect(FileManager.default.fileExists(atPath: dataDirectory + "/history.sqlite3"))
        let page = try json(TestClient.request(port: port, "GET", "/api/events?limit=5"))
        #expect((page["events"] as? [[String: Any]])?.count == 5)
        #expect(page["matching"] as? Int == ServiceConfig.embeddedBackfill)
        let refused = try TestClient.request(port: port, "GET", "/api/events?limit=0")
        #expect(refused.status == 400 && refused.header("Content-Type") == "application/problem+json")

        // SSE: subscribe, then publish through the API and see the event arrive on the stream.
        let stream = try TestClient(port: port, timeout: 10)
        try stream.send("GET /stream?artist=Joji HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let head = try stream.readHead()
        #expect(head.status == 200 && head.header("Content-Type") == "text/event-stream; charset=utf-8")
        let greeting = try #require(try stream.readChunk())
        #expect(String(decoding: greeting, as: UTF8.self).hasPrefix("retry: 2000\n"))
        let listen = #"""
            {"user_id": "u-whole-server", "username": "whole.server", "email": "whole@example.com", "track_id": "t-1",
             "title": "Glimpse of Us", "artist": "Joji", "genre": "Alt Pop", "platform": "Spotify", "mood": "Melancholic",
             "city": "Osaka", "country": "Japan", "duration": 233, "listen_position": 201, "rating": 5}
            """#
        let published = try TestClient.request(
            port: port, "POST", "/api/events", headers: ["Content-Type: application/json"], body: Array(listen.utf8))
        #expect(published.status == 202, "\(published.bodyText)")
        let eventID = try #require(try JSONSerialization.jsonObject(with: Data(published.body)) as? [String: Any])["event_id"] as? String
        var streamed = ""
        let deadline = Date().addingTimeInterval(15)
        while !streamed.contains("\"event_id\":\"\(eventID ?? "-")\"") && Date() < deadline {
            guard let chunk = try stream.readChunk() else { break }
            streamed += String(decoding: chunk, as: UTF8.self)
        }
        #expect(streamed.contains("event: listen\ndata: {\"event_id\":\"\(eventID ?? "-")\""), "\(streamed)")

        // The event's detail names where Kafka put it: the partition and offset of the receipt.
        let receipt = try #require(try JSONSerialization.jsonObject(with: Data(published.body)) as? [String: Any])
        let detail = try TestClient.request(port: port, "GET", "/api/events/\(eventID ?? "-")")
        #expect(detail.status == 200 && detail.header("Content-Type") == "application/json", "\(detail.bodyText)")
        let detailJSON = try json(detail)
        let kafka = try #require(detailJSON["kafka"] as? [String: Any], "\(detail.bodyText)")
        #expect(kafka["topic"] as? String == config.topic)
        #expect(kafka["partition"] as? Int == receipt["partition"] as? Int)
        #expect(kafka["offset"] as? Int == receipt["offset"] as? Int)
        #expect((detailJSON["event"] as? [String: Any])?["user_id"] as? String == "u-whole-server")
        // The write that carried it ends with the stream's position: past the record's offset.
        let tail = streamed.components(separatedBy: "\"event_id\":\"\(eventID ?? "-")\"").last ?? ""
        let idLine = tail.split(separator: "\n").first { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) } ?? ""
        if case .position(let position) = StreamPosition.parse(idLine) {
            let partition = Int32(receipt["partition"] as? Int ?? -1)
            #expect(position.offset(of: partition) >= Int64(receipt["offset"] as? Int ?? Int.max))
        } else {
            Issue.record("no stream position after the event: \(tail.prefix(300))")
        }
        let gone = try TestClient.request(port: port, "GET", "/api/events/00000000-0000-4000-8000-000000000000")
        #expect(gone.status == 404 && gone.header("Content-Type") == "application/problem+json")
        let invalid = try TestClient.request(port: port, "GET", "/api/events/not-a-uuid")
        #expect(invalid.status == 400 && invalid.header("Content-Type") == "application/problem+json")
        #expect(try json(invalid)["parameter"] as? String == "event_id")

        // Stop: the stream is ended, run() returns without error, and the port is closed.
        server.requestStop()
        #expect(stream.waitForEOF(timeout: 15))
        let finished = waitFor(seconds: 30) { outcome.withLock { $0 } }
        guard case .success = try #require(finished, "run() did not return after requestStop") else {
            Issue.record("run() failed: \(String(describing: finished))")
            return
        }
        #expect(throws: TestClientError.self) { _ = try TestClient(port: port) }
    }

    private func json(_ response: WireResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
    }

    /// Polls `probe` every 50 ms until it gives a value or `seconds` pass.
    private func waitFor<T>(seconds: Double, _ probe: () -> T?) -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = probe() { return value }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return probe()
    }
}
