import EventHTTP
import MusicAPI

/// `GET /api/events`, `/api/facets` and `/api/timeline`: answers computed from the live window
/// (the loop thread owns it, so handlers read it directly) and kept in the response cache until
/// the window moves on. `GET /api/events/{event_id}` is one O(1) lookup and is not cached.
struct ReadEndpoints {
    let live: LiveWindow
    let cache: ResponseCache
    /// The topic the window's events were consumed from, named in an event's detail.
    let topic: String

    func events(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        .respond(try cached(request) { () throws(ProblemDetails) in try EventsRequest(request).response(from: live.window) })
    }

    func event(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        .respond(try EventDetailRequest(request).response(from: live.window, topic: topic))
    }

    func facets(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        .respond(try cached(request) { () throws(ProblemDetails) in try FacetsRequest(request).response(from: live.window) })
    }

    func timeline(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        .respond(try cached(request) { () throws(ProblemDetails) in try TimelineRequest(request).response(from: live.window) })
    }

    /// `compute`'s answer for this window and query, computed once per window change.
    private func cached(
        _ request: HTTPRequest, _ compute: () throws(ProblemDetails) -> HTTPResponse
    ) throws(ProblemDetails) -> HTTPResponse {
        try cache.response(for: request.path + "?" + request.rawQuery, version: live.window.lastSequence, compute: compute)
    }
}
