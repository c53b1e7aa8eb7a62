import Foundation
import MusicStreamClient
import OpenAPIRuntime
import OpenAPIURLSession
import Testing

/// The client swift-openapi-generator made from openapi.yaml, over swift-openapi-urlsession's
/// transport (FoundationNetworking's URLSession on Linux), against a live server on loopback:
/// every answer is decoded by the generated types, which refuse unknown fields and wrong types,
/// so a server that drifts from the contract fails here.
@Suite struct GeneratedClientTests {
    @Test func filtersFacetsTimelinePublishingAndACursorWalk() async throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = Client(serverURL: server.baseURL, transport: URLSessionTransport())

        // The backfill travels simulator -> embedded Kafka -> consumer -> window.
        let size = try await eventually(within: 30) { () -> Int? in
            let status = try await client.getStatus().ok.body.json
            return status.window.size == 20 ? status.window.size : nil
        }
        #expect(size == 20)
        let everything = try await client.listEvents(query: .init(limit: 1_000)).ok.body.json
        #expect(everything.events.count == 20 && everything.matching == 20 && everything.next == nil)
        #expect(everything.source == .window)

        // Filtered: one genre, then two (any of).
        let genres = Dictionary(grouping: everything.events, by: \.genre)
        let genre = try #require(genres.keys.sorted().first)
        let pop = try await client.listEvents(query: .init(genre: [genre], limit: 1_000)).ok.body.json
        #expect(pop.events.map(\.eventId) == everything.events.filter { $0.genre == genre }.map(\.eventId))
        #expect(pop.matching == genres[genre]?.count)
        let two = Array(genres.keys.sorted().prefix(2))
        let either = try await client.listEvents(query: .init(genre: two, limit: 1_000)).ok.body.json
        #expect(either.matching == everything.events.filter { two.contains($0.genre) }.count)

        // Facets count the same window.
        let facets = try await client.getFacets().ok.body.json
        #expect(facets.total == 20 && facets.matching == 20)
        #expect(Dictionary(uniqueKeysWithValues: facets.facets.genre.map { ($0.value, $0.count) })
            == genres.mapValues(\.count))
        let skippedCount = everything.events.filter(\.skipped).count
        #expect(facets.facets.skipped.first { $0.value1.value == "true" }?.value1.count ?? 0 == skippedCount)

        // The timeline's buckets hold every listen, oldest first.
        let timeline = try await client.getTimeline(query: .init(bucket: ._1h)).ok.body.json
        #expect(timeline.bucketMs == ._3600000)
        #expect(timeline.points.reduce(0) { $0 + $1.count } == 20)
        #expect(timeline.points.map(\.t) == timeline.points.map(\.t).sorted())

        // POST: Kafka acknowledges (a genre of its own: the genre walk below stays as counted), then the listen reaches the window like any other.
        let user = "client-\(UUID().uuidString.lowercased())"
        let listen = Components.Schemas.NewEvent(
            userId: user, username: "generated.client", email: "client@example.com", trackId: "t-client",
            title: "Glimpse of Us", artist: "Joji", genre: "Generated Client", platform: "Spotify", mood: "Melancholic",
            city: "Osaka", country: "Japan", duration: 233, listenPosition: 201, rating: 5)
        let receipt = try await client.publishEvent(body: .json(listen)).accepted.body.json
        let published = try await eventually(within: 15) { () -> Components.Schemas.Event? in
            try await client.listEvents(query: .init(userId: user)).ok.body.json.events.first
        }
        let event = try #require(published, "the published listen never reached the window")
        #expect(event.eventId == receipt.eventId)
        #expect(event.title == "Glimpse of Us" && event.listenPosition == 201 && event.completed && !event.skipped)
        let detail = try await client.getEvent(path: .init(eventId: receipt.eventId)).ok.body.json
        #expect(detail.kafka?.partition == receipt.partition && detail.kafka?.offset == receipt.offset)
        let refused = try await client.publishEvent(body: .json(.init(
            userId: user, username: "u", email: "e", trackId: "t", title: "t", artist: "a", genre: "g",
            platform: "p", mood: "m", city: "c", country: "c", duration: 10, listenPosition: 11, rating: 1)))
        #expect(try refused.badRequest.body.applicationProblemJson.field == "listen_position")

        // A cursor walk: page after page with `next` until there is none, the same events as
        // one read, in the same order, none twice.
        for query in [Operations.ListEvents.Input.Query(limit: 3), .init(genre: [genre], limit: 1)] {
            var single = query
            single.limit = 1_000
            let direct = try await client.listEvents(query: single).ok.body.json.events.map(\.eventId)
            var walked: [String] = []
            var page = query
            for _ in 0..<100 {
                let answer = try await client.listEvents(query: page).ok.body.json
                #expect(answer.events.count <= query.limit ?? 0)
                walked += answer.events.map(\.eventId)
                guard let next = answer.next else { break }
                page.cursor = next
            }
            #expect(walked == direct, "walk \(query)")
            #expect(Set(walked).count == walked.count)
            #expect(direct.count == (query.genre == nil ? 21 : genres[genre]?.count))
        }
    }
}
