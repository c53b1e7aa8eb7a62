import EventHTTP
import JSON
import MusicModel

/// `GET /api/events`: the filters, the order, the page size and where to continue, validated.
/// Answers `{"events": [...], "count", "matching", "window", "next"}`, sorted (default: newest
/// first) and paged with an opaque cursor that stays stable while new events arrive.
public struct EventsRequest {
    public static let options: Set<String> = ["limit", "sort_by", "sort_order", "cursor"]
    public let page: PageRequest

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        let query = try EventQuery.parse(request, options: Self.options)
        let limit = try query.integer("limit", in: 1...Pager.maxLimit, default: 50)
        do {
            let (sortBy, order) = try Pager.parseSort(query.parameters)
            page = PageRequest(filter: query.filter, sortBy: sortBy, order: order, limit: limit, cursor: query.option("cursor"))
        } catch {
            throw .badParameter(error.parameter, error.detail)
        }
    }

    /// The page of `window` asked for; a cursor the window cannot continue is the client's error.
    public func page(of window: EventWindow) throws(ProblemDetails) -> EventPage {
        do {
            return try Pager.page(window, page)
        } catch {
            throw .badParameter(error.parameter, error.detail)
        }
    }

    public func response(from window: EventWindow) throws(ProblemDetails) -> HTTPResponse {
        let page = try page(of: window)
        var writer = JSONWriter(capacity: 512 * page.events.count + 256)
        writer.beginObject()
        writer.key("events")
        writer.beginArray()
        for stored in page.events { stored.event.write(to: &writer) }
        writer.endArray()
        writer.key("count"); writer.int(page.events.count)
        writer.key("matching"); writer.int(page.matching)
        writer.key("window"); writer.int(window.count)
        writer.key("next")
        if let next = page.next { writer.string(next) } else { writer.null() }
        writer.endObject()
        return .json(writer.bytes)
    }
}
