import EventHTTP
import JSON
import MusicModel

/// `GET /api/events`: the filters, the order, the page size and where to continue, validated.
/// Answers `{"events": [...], "count", "matching", "window", "next"}`, sorted (default: newest
/// first) and paged with an opaque cursor that stays stable while new events arrive.
/// Every answer says which part of the server gave it (`source`: `window` or `history`).
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
            if error.parameter == "cursor", let token = page.cursor, HistoryEventsCursor(decoding: token) != nil {
                throw .badParameter("cursor", "cursor was issued for a range answered from the history; "
                    + "this range is answered from the window: start again without cursor")
            }
            throw .badParameter(error.parameter, error.detail)
        }
    }

    /// The page as the history must be asked for it: only the timestamp order is supported
    /// there (the store pages by its (timestamp, event_id) index; other sorts would need the
    /// whole matching range sorted per page), and the cursor must be one of the history's,
    /// made for this filter and order.
    public func historyCursor() throws(ProblemDetails) -> HistoryEventsCursor? {
        guard page.sortBy == .timestamp else {
            throw .badParameter("sort_by", "sort_by=\(page.sortBy.rawValue) is not supported for a range answered "
                + "from the history (since or until before the window's oldest listen): only sort_by=timestamp is")
        }
        guard let token = page.cursor, !token.isEmpty else { return nil }
        guard let cursor = HistoryEventsCursor(decoding: token) else {
            if Pager.isWindowCursor(token) {
                throw .badParameter("cursor", "cursor was issued for a range answered from the window; this range "
                    + "reaches before the window and is answered from the history: start again without cursor")
            }
            throw .badParameter("cursor", "cursor is not a valid paging cursor")
        }
        guard cursor.order == page.order else {
            throw .badParameter("cursor", "cursor was made for sort_by=timestamp&sort_order=\(cursor.order.rawValue)")
        }
        guard cursor.filterFingerprint == page.filter.fingerprint else {
            throw .badParameter("cursor", "cursor was made for a different filter")
        }
        return cursor
    }

    /// A history page in the window's shape. `window` is the window's size, as in a window
    /// answer; `matching` counts the matching listens in the store.
    public static func historyBody(listens: [ListenEvent], matching: Int, window: Int, next: String?) -> [UInt8] {
        var writer = JSONWriter(capacity: 512 * listens.count + 256)
        writer.beginObject()
        writer.key("events")
        writer.beginArray()
        for event in listens { event.write(to: &writer) }
        writer.endArray()
        writer.key("count"); writer.int(listens.count)
        writer.key("matching"); writer.int(matching)
        writer.key("window"); writer.int(window)
        writer.key("next")
        if let next { writer.string(next) } else { writer.null() }
        writer.key("source"); writer.string("history")
        writer.endObject()
        return writer.bytes
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
        writer.key("source"); writer.string("window")
        writer.endObject()
        return .json(writer.bytes)
    }
}
