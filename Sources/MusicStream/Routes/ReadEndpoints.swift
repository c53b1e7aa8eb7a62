import EventHTTP
import History
import MusicAPI
import MusicModel

/// `GET /api/events`, `/api/facets` and `/api/timeline`: answers computed from the live window
/// (the loop thread owns it, so handlers read it directly) and kept in the response cache until
/// the window moves on. `GET /api/events/{event_id}` is one O(1) lookup and is not cached.
///
/// With a history store, a range reaching before what the window holds completely (`since`
/// before `EventWindow.completeSince`, or without `since` an `until` at or before it, or an
/// empty window) is answered from the store instead: the same filters and the same shapes,
/// computed by a job on the query pool (never on the loop), `"source": "history"`. Facets and
/// timelines take the part of the range the window holds completely from the window (`split`);
/// an events page is the store's alone (one keyset walk). A request without since/until skips
/// the check altogether, so the window's path costs nothing more.
struct ReadEndpoints {
    let live: LiveWindow
    let cache: ResponseCache
    /// The topic the window's events were consumed from, named in an event's detail.
    let topic: String
    /// The history's query pool; nil with `--history none`.
    var queries: HistoryQueries? = nil
    /// Identical history requests in flight share one job.
    let shared = SharedHistoryAnswers()

    /// Calls of `HistoryReader.listens` per request (each examining at most
    /// `HistoryEndpoints.scanLimit` rows): a sparse filter then returns a short page with a
    /// `next` rather than running long.
    static let historyCallsPerPage = 20

    func events(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        if let queries, mayReachHistory(request) {
            let parsed = try EventsRequest(request)
            if reachesBeforeWindow(parsed.page.filter) { return try historyEvents(parsed, queries, key: key(request)) }
        }
        return .respond(try cached(request) { () throws(ProblemDetails) in try EventsRequest(request).response(from: live.window) })
    }

    func event(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        .respond(try EventDetailRequest(request).response(from: live.window, topic: topic))
    }

    func facets(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        if let queries, mayReachHistory(request) {
            let parsed = try FacetsRequest(request)
            if reachesBeforeWindow(parsed.filter) { return historyFacets(parsed, queries, key: key(request)) }
        }
        return .respond(try cached(request) { () throws(ProblemDetails) in try FacetsRequest(request).response(from: live.window) })
    }

    func timeline(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        if let queries, mayReachHistory(request) {
            let parsed = try TimelineRequest(request)
            if reachesBeforeWindow(parsed.filter) { return historyTimeline(parsed, queries, key: key(request)) }
        }
        return .respond(try cached(request) { () throws(ProblemDetails) in try TimelineRequest(request).response(from: live.window) })
    }

    /// A cheap first look: only a query naming since or until can reach before the window.
    private func mayReachHistory(_ request: HTTPRequest) -> Bool {
        request.rawQuery.contains("since") || request.rawQuery.contains("until")
    }

    /// Whether the window may lack listens of the filter's range (see the type's comment).
    private func reachesBeforeWindow(_ filter: EventFilter) -> Bool {
        guard let complete = live.window.completeSince else { return true }
        if let since = filter.since { return since < complete }
        if let until = filter.until { return until <= complete }
        return false
    }

    private func key(_ request: HTTPRequest) -> String { request.path + "?" + request.rawQuery }

    private func historyEvents(
        _ request: EventsRequest, _ queries: HistoryQueries, key: String
    ) throws(ProblemDetails) -> RouteResult {
        let start = try request.historyCursor()
        let page = request.page
        let order: HistoryOrder = page.order == .desc ? .newestFirst : .oldestFirst
        let limit = min(max(page.limit, 1), Pager.maxLimit)
        let windowCount = live.window.count
        return .deferred { [shared] pending in
            shared.respond(pending, key: key, queries: queries) { reader throws(ProblemDetails) in
                var listens: [ListenEvent] = []
                var after = start.map { HistoryCursor(timestamp: $0.timestamp, eventID: $0.eventID) }
                let matching: Int
                do throws(HistoryError) {
                    var calls = 0
                    repeat {
                        let chunk = try reader.listens(
                            matching: page.filter, order: order, after: after, limit: limit - listens.count,
                            scanLimit: HistoryEndpoints.scanLimit)
                        listens += chunk.listens
                        after = chunk.next
                        calls += 1
                    } while after != nil && listens.count < limit && calls < Self.historyCallsPerPage
                    matching = try reader.count(matching: page.filter)
                } catch {
                    throw .history(error)
                }
                let next = after.map {
                    HistoryEventsCursor(order: page.order, filterFingerprint: page.filter.fingerprint,
                                        timestamp: $0.timestamp, eventID: $0.eventID).encoded
                }
                return .json(EventsRequest.historyBody(listens: listens, matching: matching, window: windowCount, next: next))
            }
        }
    }

    /// A range reaching before the window split where the window becomes complete: the store
    /// answers [since, completeSince), the window [completeSince, until) (nil when the range
    /// ends before it). Facets and timelines add up over disjoint ranges, so the newest listens
    /// come from the window, which has them before the sink's next batch reaches the store.
    private func split(_ filter: EventFilter) -> (history: EventFilter, window: EventFilter?) {
        guard let complete = live.window.completeSince else { return (filter, nil) }
        if let until = filter.until, until <= complete { return (filter, nil) }
        var history = filter
        history.until = complete
        var window = filter
        window.since = complete
        return (history, window)
    }

    private func historyFacets(_ request: FacetsRequest, _ queries: HistoryQueries, key: String) -> RouteResult {
        let (filter, windowFilter) = split(request.filter)
        let windowPart = windowFilter.map { windowFilter in
            (total: FacetSummary.compute(over: live.window, filter: EventFilter(since: windowFilter.since, until: windowFilter.until)).matching,
             summary: FacetSummary.compute(over: live.window, filter: windowFilter))
        }
        let windowTallies = windowPart?.summary.tallies ?? [:]
        let windowMatching = windowPart?.summary.matching ?? 0
        let windowTotal = windowPart?.total ?? 0
        return .deferred { [shared] pending in
            shared.respond(pending, key: key, queries: queries) { reader throws(ProblemDetails) in
                do throws(HistoryError) {
                    let summary = try reader.facets(matching: filter)
                    let total = try reader.count(matching: EventFilter(since: filter.since, until: filter.until))
                    var tallies = summary.tallies
                    for (facet, counts) in windowTallies { tallies[facet, default: [:]].merge(counts, uniquingKeysWith: +) }
                    let merged = FacetSummary(matching: summary.matching + windowMatching, tallies: tallies)
                    return .json(FacetsRequest.body(total: total + windowTotal, summary: merged, source: "history"))
                } catch {
                    throw .history(error)
                }
            }
        }
    }

    private func historyTimeline(_ request: TimelineRequest, _ queries: HistoryQueries, key: String) -> RouteResult {
        let (filter, windowFilter) = split(request.filter)
        var windowCounts: [Int64: (count: Int, skipped: Int)] = [:]
        if let windowFilter {
            let points = Timeline.points(live.window, filter: windowFilter, bucket: request.bucket, maxPoints: Timeline.maxPointsLimit)
            for point in points where point.count > 0 { windowCounts[point.t] = (point.count, point.skipped) }
        }
        return .deferred { [shared, windowCounts] pending in
            shared.respond(pending, key: key, queries: queries) { reader throws(ProblemDetails) in
                var counts: [Int64: (count: Int, skipped: Int)]
                do throws(HistoryError) {
                    counts = try reader.timeline(matching: filter, bucketMilliseconds: request.bucket.milliseconds)
                } catch {
                    throw .history(error)
                }
                for (t, figures) in windowCounts {
                    counts[t, default: (0, 0)].count += figures.count
                    counts[t, default: (0, 0)].skipped += figures.skipped
                }
                return .json(try request.historyBody(counts: counts))
            }
        }
    }

    /// `compute`'s answer for this window and query, computed once per window change.
    private func cached(
        _ request: HTTPRequest, _ compute: () throws(ProblemDetails) -> HTTPResponse
    ) throws(ProblemDetails) -> HTTPResponse {
        try cache.response(for: key(request), version: live.window.lastSequence, compute: compute)
    }
}
