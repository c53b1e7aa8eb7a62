import Foundation
import MusicModel
import MusicStreamClient
import MusicStreamClientTesting
import OpenAPIRuntime
import OpenAPIURLSession
import Testing

/// `/stream` followed through the generated client (`streamEvents`, its body read as
/// Server-Sent Events by swift-openapi-runtime, each event's `data` decoded with the generated
/// type its `event` names) over a transport that streams bodies, against a live server:
/// filtered events as they are published, a resume with the last id after a disconnect that
/// gets exactly the events published meanwhile, `stats`, and `reset` for ids it cannot resume.
@Suite struct StreamSubscriptionTests {
    @Test func followsFiltersResumesWithTheLastIDAndIsToldToReset() async throws {
        let server = try LiveServer()
        defer { server.stop() }
        let streaming = Client(serverURL: server.baseURL, transport: StreamingURLSessionTransport())
        let client = Client(serverURL: server.baseURL, transport: URLSessionTransport())
        let filled = try await eventually(within: 30) { () -> Bool? in
            try await client.getStatus().ok.body.json.window.size == 20 ? true : nil
        }
        #expect(filled == true)

        let user = "stream-\(UUID().uuidString.lowercased())"
        var published: [Components.Schemas.PublishReceipt] = []
        func publish(_ title: String) async throws {
            let listen = Components.Schemas.NewEvent(
                userId: user, username: "stream.client", email: "stream@example.com", trackId: "t-stream",
                title: title, artist: "Joji", genre: "Alt Pop", platform: "Spotify", mood: "Melancholic",
                city: "Osaka", country: "Japan", duration: 233, listenPosition: 201, rating: 5)
            published.append(try await client.publishEvent(body: .json(listen)).accepted.body.json)
        }
        let listens: @Sendable ([StreamMessage]) -> [Components.Schemas.Event] = { $0.compactMap(\.listen) }

        // Follow one user's listens: the greeting gives an id at once, then each listen comes
        // as it is published (the simulator is idle; the 20 backfilled ones are someone else's).
        let first = try await StreamSubscription.open(streaming, query: .init(userId: user))
        let greeting = try await first.read(within: 10) { $0.count >= 1 }
        #expect(greeting[0].event == nil && greeting[0].lastEventID != nil, "the greeting carries the position")
        for title in ["one", "two", "three"] { try await publish(title) }
        let before = try await first.read(within: 15) { listens($0).count >= 3 }
        #expect(listens(before).map(\.eventId) == published.map(\.eventId))
        #expect(listens(before).map(\.title) == ["one", "two", "three"])
        #expect(!before.contains { if case .reset? = $0.event { true } else { false } })
        // The id after the third: a stream position at or past each record the stream sent.
        let lastID = try #require(before.last?.lastEventID)
        guard case .position(let position) = StreamPosition.parse(lastID) else {
            Issue.record("not a stream position: \(lastID)")
            return
        }
        for receipt in published {
            #expect(position.offset(of: Int32(receipt.partition)) >= Int64(receipt.offset))
        }

        // Disconnect; the server lets the subscriber go.
        first.close()
        let gone = try await eventually(within: 10) { () -> Bool? in
            try await client.getStatus().ok.body.json.sseClients == 0 ? true : nil
        }
        #expect(gone == true, "closing the subscription closes the connection")

        // Published while away, then resumed with the last id (Last-Event-ID): exactly those,
        // in order, none of the first three again. The last one marks the end of what to read.
        for title in ["four", "five", "six", "marker"] { try await publish(title) }
        let resumed = try await StreamSubscription.open(streaming, query: .init(userId: user), lastEventID: lastID)
        let after = try await resumed.read(within: 15) { listens($0).last?.title == "marker" }
        resumed.close()
        #expect(listens(after).map(\.eventId) == published.dropFirst(3).map(\.eventId))
        #expect(!after.contains { if case .reset? = $0.event { true } else { false } })

        // stats=true: once a second, counting the window's listens that match the filter.
        let withStats = try await StreamSubscription.open(streaming, query: .init(userId: user, stats: "true"))
        let counted = try await withStats.read(within: 10) { $0.contains { if case .stats? = $0.event { true } else { false } } }
        withStats.close()
        guard case .stats(let stats)? = counted.last?.event else {
            Issue.record("no stats event: \(counted)")
            return
        }
        #expect(stats.matching == 7 && stats.consumed >= 27)

        // Ids this stream cannot resume from: an old-style number, a position of another log.
        for stale in ["0", "p1.0.0.0"] {
            let reset = try await StreamSubscription.open(streaming, query: .init(userId: user), lastEventID: stale)
            let told = try await reset.read(within: 10) { $0.contains { $0.event != nil } }
            reset.close()
            guard case .reset? = told.first(where: { $0.event != nil })?.event else {
                Issue.record("no reset for \(stale): \(told)")
                continue
            }
        }

        // A filter the server refuses is a 400 problem, before any stream.
        let refused = try await streaming.streamEvents(query: .init(rating: 6))
        #expect(try refused.badRequest.body.applicationProblemJson.parameter == "rating")
    }
}
