import Foundation
import Testing
import EventHTTP
import KafkaClient
import Logging
import MusicModel
@testable import MusicStream

/// The route table driven through the router with no sockets, over a window filled by the
/// simulator (the publisher's producer points at an embedded broker it never needs here).
@Suite struct RoutesTests {
    let live = LiveWindow(capacity: 100, hub: SSEHub(maxPendingBytes: 1 << 20))
    let stats = IngestStats()
    let router = Router()
    let cluster: EmbeddedCluster
    let loop: EventLoop

    init() throws {
        var simulator = Simulator(seed: 9)
        live.ingest(batches: [EventBatch((0..<150).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0) * 1000) })])
        cluster = try EmbeddedCluster(topics: [("music-streams", 1)])
        loop = try EventLoop()
        let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers))
        let kafka = KafkaStatus(
            mode: "embedded", bootstrapServers: cluster.bootstrapServers, topic: "music-streams",
            partitions: { 3 }, health: { KafkaHealth() })
        let cache = ResponseCache()
        Routes(
            read: ReadEndpoints(live: live, cache: cache, topic: "music-streams"),
            status: StatusEndpoints(live: live, stats: stats, kafka: kafka, startedAt: .now, history: nil,
                                    metricsSources: [stats, live, kafka, live.hub, cache]),
            stream: StreamEndpoint(live: live),
            publisher: EventPublisher(loop: loop, producer: producer, topic: "music-streams", token: nil),
            history: HistoryEndpoints(queries: nil, exportEnabled: true, loop: loop),
            site: StaticSite(config: ServiceConfig(), logger: Logger(label: "test"))
        ).register(on: router)
    }

    func get(_ path: String, _ query: String = "") throws -> (status: Int, contentType: String?, json: [String: Any]) {
        guard case .respond(let response) = router.route(HTTPRequest(method: .GET, path: path, rawQuery: query)) else {
            Issue.record("expected a plain response for \(path)")
            return (0, nil, [:])
        }
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        return (response.status, response.header("Content-Type"), object)
    }

    func body(_ path: String, _ query: String = "") -> String {
        guard case .respond(let response) = router.route(HTTPRequest(method: .GET, path: path, rawQuery: query)) else { return "" }
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test func eventsAreNewestFirstAndLimited() throws {
        let result = try get("/api/events", "limit=5")
        #expect(result.status == 200)
        let events = try #require(result.json["events"] as? [[String: Any]])
        #expect(events.count == 5)
        #expect(result.json["matching"] as? Int == 100)
        #expect(result.json["window"] as? Int == 100)
        let timestamps = events.compactMap { ($0["timestamp"] as? NSNumber)?.int64Value }
        #expect(timestamps == timestamps.sorted(by: >))
        let newest: Int64 = 1_764_000_000_000 + 149_000
        #expect(timestamps.first == newest)
    }

    @Test func filterCountsMatchTheWindow() throws {
        let genre = try #require(live.window.newestFirst().first(where: { _ in true })?.event.genre)
        let expected = live.window.newestFirst().filter { $0.event.genre == genre }.count
        let result = try get("/api/events", "genre=\(genre.uppercased().replacingOccurrences(of: " ", with: "+"))&limit=1000")
        #expect(result.json["matching"] as? Int == expected)
        #expect((result.json["events"] as? [[String: Any]])?.allSatisfy { $0["genre"] as? String == genre } == true)
    }

    @Test func facetsUseTheIncrementalCounts() throws {
        let result = try get("/api/facets")
        #expect(result.json["total"] as? Int == 100)
        let facets = try #require(result.json["facets"] as? [String: [[String: Any]]])
        #expect(Set(facets.keys) == Set(Facet.allCases.map(\.rawValue)))
        let platformTotal = facets["platform"]?.compactMap { $0["count"] as? Int }.reduce(0, +)
        #expect(platformTotal == 100)
    }

    @Test func badParametersAreProblemDetailsNamingTheParameter() throws {
        for (query, parameter) in [("rating=7", "rating"), ("limit=0", "limit"), ("bogus=1", "bogus"), ("skipped=sometimes", "skipped")] {
            let result = try get("/api/events", query)
            #expect(result.status == 400)
            #expect(result.contentType == "application/problem+json")
            #expect(result.json["parameter"] as? String == parameter)
        }
        #expect(try get("/api/facets", "limit=3").status == 400)
    }

    @Test func statusReportsKafkaAndWindow() throws {
        let result = try get("/api/status")
        let kafka = try #require(result.json["kafka"] as? [String: Any])
        #expect(kafka["mode"] as? String == "embedded")
        #expect(kafka["partitions"] as? Int == 3)
        #expect((result.json["window"] as? [String: Any])?["capacity"] as? Int == 100)
    }

    @Test func streamRouteValidatesBeforeStreaming() {
        if case .stream = router.route(HTTPRequest(method: .GET, path: "/stream", rawQuery: "rating=9")) {
            Issue.record("an invalid filter must not open a stream")
        }
        guard case .stream(let status, let headers, _) = router.route(HTTPRequest(method: .GET, path: "/stream", rawQuery: "genre=Pop")) else {
            Issue.record("expected a stream")
            return
        }
        #expect(status == 200)
        #expect(headers.contains { $0.name == "Content-Type" && $0.value.hasPrefix("text/event-stream") })
    }

    @Test func readAnswersFollowTheWindowWhenItChanges() throws {
        // The same queries twice: the second answer may come from the response cache, and
        // after an event arrives none of them may be stale.
        for _ in 0..<2 {
            #expect(try get("/api/events", "limit=1").json["window"] as? Int == 100)
        }
        let beforeFacets = try get("/api/facets").json["matching"] as? Int
        let beforeTimeline = try get("/api/timeline", "bucket=1s").json["points"] as? [[String: Any]]
        var simulator = Simulator(seed: 77)
        let newer = simulator.next(timestamp: 1_764_000_000_000 + 10_000_000)
        live.ingest(batches: [EventBatch([newer])])
        let events = try #require(try get("/api/events", "limit=1").json["events"] as? [[String: Any]])
        #expect(events.first?["event_id"] as? String == newer.eventID)
        #expect(beforeFacets == 100)
        #expect(try get("/api/facets").json["matching"] as? Int == 100)
        let genreCount = try #require((try get("/api/facets", "genre=\(newer.genre.replacingOccurrences(of: " ", with: "+"))").json["matching"] as? Int))
        #expect(genreCount == live.window.newestFirst().filter { $0.event.genre == newer.genre }.count)
        let afterTimeline = try #require(try get("/api/timeline", "bucket=1s").json["points"] as? [[String: Any]])
        #expect(afterTimeline.last?["t"] as? Int64 != beforeTimeline?.last?["t"] as? Int64)
    }

    @Test func oneEventByIDWithItsKafkaPosition() throws {
        var simulator = Simulator(seed: 78)
        let event = simulator.next(timestamp: 1_764_000_000_000 + 20_000_000)
        let batch = EventBatch()
        batch.append(event, from: KafkaPosition(partition: 2, offset: 12_345))
        live.ingest(batches: [batch])
        let found = try get("/api/events/\(event.eventID.uppercased())")
        #expect(found.status == 200 && found.contentType == "application/json")
        #expect(Set(found.json.keys) == ["event", "sequence", "kafka"])
        // The event exactly as the list encodes it, byte for byte.
        let encoded = String(decoding: event.canonicalJSON(), as: UTF8.self)
        #expect(body("/api/events/\(event.eventID)").hasPrefix("{\"event\":\(encoded),\"sequence\":"))
        #expect(body("/api/events", "limit=1").hasPrefix("{\"events\":[\(encoded)]"))
        #expect((found.json["sequence"] as? NSNumber)?.uint64Value == live.window.lastSequence)
        let kafka = try #require(found.json["kafka"] as? [String: Any])
        #expect(kafka["topic"] as? String == "music-streams" && kafka["partition"] as? Int == 2 && kafka["offset"] as? Int == 12_345)
        // Events that did not come through a consumer have no position to show.
        let oldest = try #require(live.window.events(after: 0).first(where: { _ in true }))
        #expect(try get("/api/events/\(oldest.event.eventID)").json["kafka"] is NSNull)

        let missing = try get("/api/events/00000000-0000-4000-8000-000000000000")
        #expect(missing.status == 404 && missing.contentType == "application/problem+json")
        #expect((missing.json["detail"] as? String)?.contains("window") == true)
        for bad in ["nope", "\(event.eventID)x", "00000000-0000-4000-8000-00000000000g"] {
            let refused = try get("/api/events/\(bad)")
            #expect(refused.status == 400 && refused.contentType == "application/problem+json", "\(bad)")
            #expect(refused.json["parameter"] as? String == "event_id", "\(bad)")
        }
        #expect(try get("/api/events/\(event.eventID)", "limit=1").json["parameter"] as? String == "limit")
    }

    @Test func trackIDFiltersEveryReadEndpoint() throws {
        let track = try #require(live.window.newestFirst().first(where: { _ in true })?.event.trackID)
        let expected = live.window.newestFirst().filter { $0.event.trackID == track }.count
        let events = try get("/api/events", "track_id=\(track)&limit=1000")
        #expect(events.status == 200 && events.json["matching"] as? Int == expected)
        #expect((events.json["events"] as? [[String: Any]])?.allSatisfy { $0["track_id"] as? String == track } == true)
        #expect(try get("/api/facets", "track_id=\(track)").json["matching"] as? Int == expected)
        let points = try #require(try get("/api/timeline", "track_id=\(track)").json["points"] as? [[String: Any]])
        #expect(points.compactMap { $0["count"] as? Int }.reduce(0, +) == expected)
        #expect(try get("/api/events", "track_id=\(track.uppercased())-no").json["matching"] as? Int == 0)
        guard case .stream = router.route(HTTPRequest(method: .GET, path: "/stream", rawQuery: "track_id=\(track)")) else {
            Issue.record("/stream must accept track_id")
            return
        }
    }
}
