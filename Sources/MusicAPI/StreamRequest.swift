import EventHTTP
import MusicModel

/// `GET /stream`: which events a subscriber wants, where it resumes (the `Last-Event-ID` header
/// or `last_event_id` parameter), and whether it wants `event: stats` once a second.
public struct StreamRequest {
    public let filter: EventFilter
    /// The last id the client saw (a position in the log, or an old-style number that can
    /// only be answered with a reset); it gets the matching events after it first.
    public let resume: StreamPosition.Parsed?
    public let wantsStats: Bool

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        let query = try EventQuery.parse(request, options: ["last_event_id", "stats"])
        wantsStats = try query.flag("stats")
        filter = query.filter
        guard let text = query.option("last_event_id") ?? request.header("Last-Event-ID")?.trimmed(where: \.isSpaceOrTab),
              !text.isEmpty else {
            resume = nil
            return
        }
        let parsed = StreamPosition.parse(text)
        guard parsed != .malformed else {
            throw .badParameter("last_event_id", "last_event_id must be an id this stream sent, got '\(text.prefix(64))'")
        }
        resume = parsed
    }
}
