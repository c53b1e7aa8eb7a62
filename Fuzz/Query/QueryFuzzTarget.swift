// libFuzzer target: the bytes after '?' in a request URI, through what the API does with them
// before and after touching the window: HTTPRequest.parseQuery (percent-decoding, UTF-8),
// EventQuery (unknown and repeated parameters, options), EventFilter.parse, Pager.parseSort,
// cursors, and the window reads of /api/events, /api/facets, /api/timeline and /stream.
// Built by scripts/fuzz as a SwiftPM target declared only for fuzzing; it calls MusicAPI's
// request types (EventQuery, EventsRequest, ...) exactly as the routes do. evhttp's own URI parsing (C) is not
// covered. Traps on crashes and on answers that contradict each other.
import EventHTTP
import JSON
import MusicAPI
@testable import MusicModel

/// A window that has wrapped (capacity 100, 125 events) with simulated listens plus a few
/// awkward strings for the case-folding matchers. EventWindow is a Sendable value.
private let window: EventWindow = {
    var window = EventWindow(capacity: 100)
    var simulator = Simulator(seed: 7)
    let start: Int64 = 1_700_000_000_000
    for i in 0..<120 {
        _ = window.append(simulator.next(timestamp: start + Int64(i) * 2_500))
    }
    let awkward = ["ǅungla İstanbul", "STRASSE straße", "ΣΊΣΥΦΟΣ σίσυφος", "e\u{301}te\u{301} ﬁnal", "\u{A0}x\u{3000}"]
    for (i, text) in awkward.enumerated() {
        var event = simulator.next(timestamp: start + 500_000 + Int64(i))
        event.artist = text
        event.title = text
        event.country = text
        _ = window.append(event)
    }
    return window
}()

private let allEvents: [ListenEvent] = window.newestFirst().map(\.event)

@_cdecl("LLVMFuzzerTestOneInput")
public func queryFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let request = HTTPRequest(method: .GET, path: "/api/events", rawQuery: raw)
    // Every endpoint parses the same filter out of the query; count its matches once.
    var counted: (filter: EventFilter, count: Int)?
    let expected = { (filter: EventFilter) -> Int in
        if let counted, counted.filter == filter { return counted.count }
        let count = matchingCount(filter)
        counted = (filter, count)
        return count
    }
    answered { () throws(ProblemDetails) in try events(request, expected) }
    answered { () throws(ProblemDetails) in try facets(request, expected) }
    answered { () throws(ProblemDetails) in try timeline(request, expected) }
    answered { () throws(ProblemDetails) in try stream(request) }
    return 0
}

/// A refusal must be a 400 whose body is valid problem JSON.
private func answered(_ body: () throws(ProblemDetails) -> Void) {
    do {
        try body()
    } catch {
        check(error.status == 400, "status \(error.status)")
        let response = error.response
        guard case .success(let json) = Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(response.body) })
        else { fatalError("problem body is not JSON: \(String(decoding: response.body, as: UTF8.self))") }
        check(json["detail"]?.stringValue?.isEmpty == false, "problem without a detail")
    }
}

/// How many events match `filter`, by brute force, with the two matchers cross-checked.
private func matchingCount(_ filter: EventFilter) -> Int {
    allEvents.reduce(0) { count, event in
        let matches = filter.matches(event)
        check(matches == (filter.verdict(event) == .matches), "matches and verdict disagree")
        return matches ? count + 1 : count
    }
}

private func events(_ request: HTTPRequest, _ expectedCount: (EventFilter) -> Int) throws(ProblemDetails) {
    let parsed = try EventsRequest(request)
    var page = try parsed.page(of: window)
    let answer = try parsed.response(from: window)
    check(answer.status == 200, "a page the pager gave could not be answered")
    let asked = parsed.page
    guard asked.cursor == nil else { return }
    // A first page: walk a few pages on; every event matches, none comes twice.
    let expected = expectedCount(asked.filter)
    check(page.matching == expected, "matching \(page.matching), brute force \(expected)")
    var seen: Set<UInt64> = []
    for _ in 0..<4 {
        check(page.events.count <= asked.limit, "page of \(page.events.count) over limit \(asked.limit)")
        for stored in page.events {
            check(asked.filter.matches(stored.event), "a page holds an event the filter refuses")
            check(seen.insert(stored.sequence).inserted, "an event came twice in one walk")
        }
        guard let next = page.next else {
            check(seen.count == expected, "walk ended after \(seen.count) of \(expected)")
            return
        }
        var following = asked
        following.cursor = next
        do {
            page = try Pager.page(window, following)
        } catch {
            fatalError("the pager refused its own cursor: \(error)")
        }
    }
}

private func facets(_ request: HTTPRequest, _ expectedCount: (EventFilter) -> Int) throws(ProblemDetails) {
    let parsed = try FacetsRequest(request)
    let summary = FacetSummary.compute(over: window.newestFirst(), filter: parsed.filter)
    // The request path's scan (ids, resolved filter) must agree with the string path's.
    let fromWindow = parsed.summary(of: window)
    let expected = expectedCount(parsed.filter)
    check(summary.matching == expected && fromWindow.matching == expected, "facets count \(summary.matching) of \(expected)")
    for facet in Facet.allCases {
        check(summary.entries(facet) == fromWindow.entries(facet), "facet \(facet) differs between the scans")
    }
}

private func timeline(_ request: HTTPRequest, _ expectedCount: (EventFilter) -> Int) throws(ProblemDetails) {
    let parsed = try TimelineRequest(request)
    let points = parsed.points(of: window)
    let total = points.reduce(0) { $0 + $1.count }
    check(total == expectedCount(parsed.filter), "timeline holds \(total) listens")
    check(points == Timeline.points(window.newestFirst(), filter: parsed.filter, bucket: parsed.bucket),
          "the two timeline paths disagree")
}

private func stream(_ request: HTTPRequest) throws(ProblemDetails) {
    _ = try StreamRequest(request)
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
