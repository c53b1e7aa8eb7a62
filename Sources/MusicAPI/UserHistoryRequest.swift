import EventHTTP
import MusicModel

/// `GET /api/users/{user_id}/listens` and `GET /api/users/{user_id}`: one listener's history
/// and summary, from the history store. The path's id is matched exactly (ids are opaque); the
/// range is `since`/`until` in milliseconds as everywhere else; the listens page takes `limit`
/// and `cursor`, the summary `top`.
public struct UserHistoryRequest: Sendable {
    public enum Kind: Sendable { case listens, summary }

    public static let defaultLimit = 50
    public static let maxLimit = 1_000
    public static let defaultTop = 5
    public static let maxTop = 50

    public let userID: String
    /// The user and the range as a filter (user_id, since, until).
    public let filter: EventFilter
    public let limit: Int
    /// The `cursor` as sent; the store decodes it (400 when it is not one of its cursors).
    public let cursor: String?
    public let top: Int

    public init(_ request: HTTPRequest, kind: Kind) throws(ProblemDetails) {
        let text = request.pathParameter("user_id") ?? ""
        guard !text.isEmpty, text.utf8.count <= EventDecoder.maxStringBytes,
              !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ProblemDetails(
                status: 400, title: "Invalid path parameter",
                detail: "user_id must be 1 to \(EventDecoder.maxStringBytes) bytes of text without control characters",
                parameter: "user_id")
        }
        userID = text
        let query = try EventQuery.parse(request, options: kind == .listens ? ["limit", "cursor"] : ["top"])
        // Only the range applies here: other filters belong to /api/events?user_id=...
        let filter = EventFilter(userID: text, since: query.filter.since, until: query.filter.until)
        if let other = query.parameters.first(where: {
            EventFilter.parameterNames.contains($0.name) && $0.name != "since" && $0.name != "until"
        }) {
            throw .badParameter(other.name, "unknown query parameter '\(other.name)': this endpoint takes since and until"
                + (kind == .listens ? ", limit and cursor" : " and top"))
        }
        self.filter = filter
        limit = try query.integer("limit", in: 1...Self.maxLimit, default: Self.defaultLimit)
        top = try query.integer("top", in: 1...Self.maxTop, default: Self.defaultTop)
        cursor = query.option("cursor")
    }
}
