import EventHTTP
import MusicModel
#if canImport(Glibc)
import Glibc
#endif

/// `GET /api/export?filters&format=csv|ndjson`: every stored listen the filters select (the
/// same filters as /api/events, `since`/`until` included), oldest first, as a download.
public struct ExportRequest: Sendable {
    public enum Format: String, CaseIterable, Sendable {
        case csv, ndjson

        public var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .ndjson: "application/x-ndjson"
            }
        }
    }

    public let filter: EventFilter
    public let format: Format

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        let query = try EventQuery.parse(request, options: ["format"])
        filter = query.filter
        let text = query.option("format") ?? Format.csv.rawValue
        guard let format = Format(rawValue: text.lowercased()) else {
            throw .badParameter("format", "format must be csv or ndjson, got '\(text.prefix(64))'")
        }
        self.format = format
    }

    /// The download's file name: what and when, e.g. `musicstream-listens-20261204T1010Z-20261204T1110Z.csv`.
    public func fileName(oldest: Int64?, newest: Int64?) -> String {
        let from = (filter.since ?? oldest).map(Self.stamp) ?? "start"
        let to = (filter.until ?? newest).map(Self.stamp) ?? "now"
        return "musicstream-listens-\(from)-\(to).\(format.rawValue)"
    }

    /// UTC, minute precision, digits and letters only (safe in a header and a file system).
    static func stamp(_ ms: Int64) -> String {
        var time = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))Z"
    }
}
