import EventHTTP
import JSON
import MusicModel

/// `GET /api/facets`: value counts per facet under the filters. Each facet is counted under every
/// filter except its own, so a filter form can still offer the other values.
public struct FacetsRequest: Sendable {
    public let filter: EventFilter

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        filter = try EventQuery.parse(request).filter
    }

    /// The unfiltered counts are kept up to date as events enter and leave the window, so the
    /// common case costs no scan.
    public func summary(of window: EventWindow) -> FacetSummary {
        filter.isEmpty
            ? FacetSummary(matching: window.count, counts: window.facets)
            : FacetSummary.compute(over: window, filter: filter)
    }

    public func response(from window: EventWindow) -> HTTPResponse {
        .json(Self.body(total: window.count, summary: summary(of: window), source: "window"))
    }

    /// The answer's JSON; `total` is the window's size, or from the history the listens
    /// stored in since..until; `source` says which (`window`, `history`).
    public static func body(total: Int, summary: FacetSummary, source: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("total"); writer.int(total)
        writer.key("matching"); writer.int(summary.matching)
        writer.key("facets")
        writer.beginObject()
        for facet in Facet.allCases {
            writer.key(facet.rawValue)
            writer.beginArray()
            for entry in summary.entries(facet) {
                writer.beginObject()
                writer.key("value"); writer.string(entry.value)
                writer.key("count"); writer.int(entry.count)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.endObject()
        writer.key("source"); writer.string(source)
        writer.endObject()
        return writer.bytes
    }
}
