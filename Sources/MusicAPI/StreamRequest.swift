import EventHTTP
import MusicModel

/// `GET /stream`: which events a subscriber wants, where it resumes (the `Last-Event-ID` header
/// or `last_event_id` parameter), and whether it wants `event: stats` once a second.
public struct StreamRequest {
    public let filter: EventFilter
    /// The id of the last event the client saw; it gets the matching events after it first.
    public let resumeAfter: UInt64?
    public let wantsStats: Bool

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        let query = try EventQuery.parse(request, options: ["last_event_id", "stats"])
        wantsStats = try query.flag("stats")
        filter = query.filter
        guard let text = query.option("last_event_id") ?? request.header("Last-Event-ID")?.trimmed(where: \.isSpaceOrTab),
              !text.isEmpty else {
            resumeAfter = nil
            return
        }
        guard let id = UInt64(text) else {
            throw .badParameter("last_event_id", "last_event_id must be an event id from this stream, got '\(text.prefix(64))'")
        }
        resumeAfter = id
    }
}
