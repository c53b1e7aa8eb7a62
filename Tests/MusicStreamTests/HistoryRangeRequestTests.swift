import Testing
import EventHTTP
import MusicAPI
import MusicModel

/// What the read endpoints check on the loop before a history range goes to the pool: the
/// history's own cursor (bound to filter and order, refused by the window and vice versa),
/// the one sort it supports, and the timeline's bucket cap.
@Suite struct HistoryRangeRequestTests {
    private func events(_ query: String) throws -> EventsRequest {
        try EventsRequest(HTTPRequest(method: .GET, path: "/api/events", rawQuery: query))
    }

    private func parameter(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let problem as ProblemDetails {
            return problem.parameter
        } catch {
            return "?"
        }
    }

    @Test func aHistoryCursorRoundTripsAndRefusesEverythingElse() {
        let cursor = HistoryEventsCursor(order: .desc, filterFingerprint: 0xDEAD_BEEF, timestamp: 1_764_172_800_000,
                                         eventID: "3f2b8c1e-6d4a-4f7b-9a51-0c8e2d7b6a13")
        #expect(HistoryEventsCursor(decoding: cursor.encoded) == cursor)
        #expect(cursor.encoded.utf8.count <= 256)
        for bad in ["", "x", Base64URL.encode(Array("h1|up|00000000deadbeef|1|a".utf8)),
                    Base64URL.encode(Array("h1|asc|00000000deadbeef|01|a".utf8)),
                    Base64URL.encode(Array("h1|asc|deadbeef|1|a".utf8)),
                    Base64URL.encode(Array("h1|asc|00000000deadbeef|1|a b".utf8))] {
            #expect(HistoryEventsCursor(decoding: bad) == nil, "\(bad)")
        }
    }

    @Test func theHistoryTakesOnlyItsOwnCursorForItsFilterAndOrder() throws {
        let filter = try events("since=5&genre=pop").page.filter
        let token = HistoryEventsCursor(order: .desc, filterFingerprint: filter.fingerprint, timestamp: 9, eventID: "e").encoded
        #expect(try events("since=5&genre=POP&cursor=\(token)").historyCursor()?.timestamp == 9)
        #expect(parameter { _ = try events("since=5&genre=rock&cursor=\(token)").historyCursor() } == "cursor")
        #expect(parameter { _ = try events("since=5&genre=pop&sort_order=asc&cursor=\(token)").historyCursor() } == "cursor")
        #expect(parameter { _ = try events("since=5&sort_by=title").historyCursor() } == "sort_by")
        #expect(parameter { _ = try events("since=5&cursor=garbage").historyCursor() } == "cursor")
        // A window cursor is recognised as one, and a history cursor by the window.
        var window = EventWindow(capacity: 10)
        for i in 0..<5 { window.append(ListenEvent.sample(i)) }
        let windowToken = try #require(try events("limit=2").page(of: window).next)
        #expect(parameter { _ = try events("since=5&cursor=\(windowToken)").historyCursor() } == "cursor")
        #expect(parameter { _ = try events("cursor=\(token)").page(of: window) } == "cursor")
    }

    @Test func aHistoryTimelineIsContinuousAndCapped() throws {
        let request = try TimelineRequest(HTTPRequest(method: .GET, path: "/api/timeline", rawQuery: "since=0&bucket=1h"))
        #expect(request.bucket == .oneHour)
        let body = try request.historyBody(counts: [0: (2, 1), 7_200_000: (1, 0)])
        #expect(String(decoding: body, as: UTF8.self).contains(#""points":[{"t":0,"count":2,"skipped":1},{"t":3600000,"count":0,"skipped":0},{"t":7200000,"count":1,"skipped":0}],"source":"history""#))
        #expect(parameter { _ = try request.historyBody(counts: [0: (1, 0), 3_600 * 3_600_000: (1, 0)]) } == "bucket")
        #expect(parameter { _ = try TimelineRequest(HTTPRequest(method: .GET, path: "/api/timeline", rawQuery: "bucket=2h")) } == "bucket")
    }
}

extension ListenEvent {
    /// A valid listen with timestamp `i` seconds after a fixed instant.
    static func sample(_ i: Int) -> ListenEvent {
        ListenEvent(
            eventID: "00000000-0000-4000-8000-\(String(repeating: "0", count: 11))\(i % 10)", userID: "u", username: "n",
            email: "e@x", trackID: "t", title: "T", artist: "A", genre: "Pop", platform: "P", mood: "M", city: "C",
            country: "J", duration: 100, listenPosition: 90, rating: 3, timestamp: 1_700_000_000_000 + Int64(i) * 1_000)
    }
}
