import EventHTTP
import History
import JSON
import MusicAPI
import MusicModel

/// The history's routes: a listener's listens and summary, and exports. Each request is
/// validated on the loop thread, answered by a job on the query pool (never on the loop), and
/// completed back on the loop. Without a store (`--history none`) they answer 404 saying so.
final class HistoryEndpoints {
    /// Rows a history page examines at most per job: bounds a sparse filter's scan.
    static let scanLimit = 50_000
    /// An export's chunk: listens read per job.
    static let exportChunk = 1_000
    /// An export reads on only while the client has less than this unsent.
    static let exportBacklog = 512 * 1_024

    private let queries: HistoryQueries?
    private let exportEnabled: Bool
    private let loop: EventLoop

    init(queries: HistoryQueries?, exportEnabled: Bool, loop: EventLoop) {
        self.queries = queries
        self.exportEnabled = exportEnabled
        self.loop = loop
    }

    private func pool() throws(ProblemDetails) -> HistoryQueries {
        guard let queries else {
            throw ProblemDetails(status: 404, title: "Not Found",
                                 detail: "this server keeps no history (started with --history none)")
        }
        return queries
    }

    func userListens(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        let query = try UserHistoryRequest(request, kind: .listens)
        var cursor: HistoryCursor?
        if let text = query.cursor {
            guard let decoded = HistoryCursor(decoding: text) else {
                throw .badParameter("cursor", "cursor is not a paging cursor of this endpoint")
            }
            cursor = decoded
        }
        let queries = try pool()
        return .deferred { [cursor] pending in
            queries.respond(pending) { reader throws(ProblemDetails) in
                let page: HistoryPage
                let known: Bool
                do throws(HistoryError) {
                    page = try reader.listens(matching: query.filter, order: .newestFirst, after: cursor,
                                              limit: query.limit, scanLimit: Self.scanLimit)
                    if !page.listens.isEmpty || cursor != nil { known = true } else { known = try Self.userExists(query.userID, reader) }
                } catch {
                    throw .history(error)
                }
                guard known else { throw Self.unknownUser(query.userID) }
                var writer = JSONWriter(capacity: 512 + page.listens.count * 600)
                writer.beginObject()
                writer.key("user_id"); writer.string(query.userID)
                writer.key("listens"); writer.beginArray()
                for event in page.listens { event.write(to: &writer) }
                writer.endArray()
                writer.key("next")
                if let next = page.next { writer.string(next.encoded) } else { writer.null() }
                writer.key("source"); writer.string("history")
                writer.endObject()
                return .json(writer.bytes)
            }
        }
    }

    func userSummary(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        let query = try UserHistoryRequest(request, kind: .summary)
        let queries = try pool()
        return .deferred { pending in
            queries.respond(pending) { reader throws(ProblemDetails) in
                let summary: UserSummary?
                let known: Bool
                do throws(HistoryError) {
                    summary = try reader.userSummary(
                        userID: query.userID, since: query.filter.since, until: query.filter.until, top: query.top)
                    if summary != nil { known = true } else { known = try Self.userExists(query.userID, reader) }
                } catch {
                    throw .history(error)
                }
                guard known else { throw Self.unknownUser(query.userID) }
                return .json(Self.summaryJSON(summary, userID: query.userID, filter: query.filter))
            }
        }
    }

    func export(_ request: HTTPRequest) throws(ProblemDetails) -> RouteResult {
        guard exportEnabled else {
            throw ProblemDetails(status: 403, title: "Export disabled",
                                 detail: "this server was started with --no-export: listens carry e-mail addresses")
        }
        let query = try ExportRequest(request)
        let queries = try pool()
        let headers: [(name: String, value: String)] = [
            ("Content-Type", query.format.contentType),
            ("Content-Disposition", "attachment; filename=\"\(query.fileName(oldest: nil, newest: nil))\""),
            ("Cache-Control", "no-store"),
        ]
        return .stream(status: 200, headers: headers) { [loop] stream in
            HistoryExport(queries: queries, loop: loop, filter: query.filter, format: query.format, stream: stream).start()
        }
    }

    private static func userExists(_ userID: String, _ reader: any HistoryReader) throws(HistoryError) -> Bool {
        !(try reader.listens(matching: EventFilter(userID: userID), order: .newestFirst, after: nil, limit: 1,
                            scanLimit: 1).listens.isEmpty)
    }

    private static func unknownUser(_ userID: String) -> ProblemDetails {
        ProblemDetails(status: 404, title: "Not Found", detail: "no listen of user '\(userID.prefix(64))' is stored")
    }

    static func summaryJSON(_ summary: UserSummary?, userID: String, filter: EventFilter) -> [UInt8] {
        var writer = JSONWriter(capacity: 1_024)
        writer.beginObject()
        writer.key("user_id"); writer.string(userID)
        writer.key("username")
        if let summary { writer.string(summary.username) } else { writer.null() }
        writer.key("since"); if let since = filter.since { writer.int64(since) } else { writer.null() }
        writer.key("until"); if let until = filter.until { writer.int64(until) } else { writer.null() }
        writer.key("listens"); writer.int(summary?.listens ?? 0)
        writer.key("first_seen"); if let s = summary { writer.int64(s.firstSeen) } else { writer.null() }
        writer.key("last_seen"); if let s = summary { writer.int64(s.lastSeen) } else { writer.null() }
        writer.key("skip_rate"); if let s = summary { writer.double(s.skipRate) } else { writer.null() }
        writer.key("average_rating"); if let s = summary { writer.double(s.averageRating) } else { writer.null() }
        for (name, entries) in [("top_artists", summary?.topArtists), ("top_genres", summary?.topGenres),
                                ("top_platforms", summary?.topPlatforms)] {
            writer.key(name)
            writer.beginArray()
            for entry in entries ?? [] {
                writer.beginObject()
                writer.key("value"); writer.string(entry.value)
                writer.key("count"); writer.int(entry.count)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.key("source"); writer.string("history")
        writer.endObject()
        return writer.bytes
    }
}
