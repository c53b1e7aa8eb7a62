import EventHTTP
import JSON
import MusicModel

/// `GET /api/events/{event_id}`: one held event, for someone looking into it, with what the list
/// endpoints leave out: where it was read in Kafka and its sequence number in the window (its
/// stream id). Answers `{"event": {...}, "sequence", "kafka": {"topic", "partition", "offset"}}`,
/// `event` byte for byte as the list endpoints encode it; 404 once the window no longer holds it.
public struct EventDetailRequest {
    public let eventID: String

    /// The path's `{event_id}`: a UUID, as the decoder admits only those (either case, as RFC
    /// 9562 allows; the answer spells it lowercase). Anything else cannot name a held event, so it is refused rather than looked up.
    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        try EventQuery.requireNone(request)
        let text = request.pathParameter("event_id") ?? ""
        guard let id = UUIDText.canonical(text) else {
            throw ProblemDetails(
                status: 400, title: "Invalid path parameter",
                detail: "event_id must be a UUID (8-4-4-4-12 hexadecimal digits), got '\(text.prefix(64))'",
                parameter: "event_id")
        }
        eventID = id
    }

    /// `topic` is the one the window's events were consumed from.
    public func response(from window: EventWindow, topic: String) throws(ProblemDetails) -> HTTPResponse {
        guard let stored = window.event(withID: eventID) else {
            throw ProblemDetails(
                status: 404, title: "Not Found",
                detail: "event \(eventID) is not in the server's window: evicted by newer events, or never received")
        }
        var writer = JSONWriter(capacity: 640)
        writer.beginObject()
        writer.key("event"); stored.event.write(to: &writer)
        writer.key("sequence"); writer.int64(Int64(stored.sequence))   // below 2^53: see LiveWindow
        writer.key("kafka")
        if let position = stored.position {
            writer.beginObject()
            writer.key("topic"); writer.string(topic)
            writer.key("partition"); writer.int(Int(position.partition))
            writer.key("offset"); writer.int64(position.offset)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.endObject()
        return .json(writer.bytes)
    }
}
