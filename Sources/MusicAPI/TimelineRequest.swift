import EventHTTP
import JSON
import MusicModel

/// `GET /api/timeline`: listens (and skips) per time bucket under the filters, for charts.
public struct TimelineRequest: Sendable {
    public let filter: EventFilter
    public let bucket: TimelineBucket

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        let query = try EventQuery.parse(request, options: ["bucket"])
        let name = query.option("bucket") ?? TimelineBucket.oneSecond.rawValue
        guard let bucket = TimelineBucket(rawValue: name) else {
            throw .badParameter("bucket", "bucket must be one of "
                + TimelineBucket.allCases.map(\.rawValue).joined(separator: ", ") + ", got '\(name.prefix(64))'")
        }
        self.filter = query.filter
        self.bucket = bucket
    }

    public func points(of window: EventWindow) -> [TimelinePoint] {
        Timeline.points(window, filter: filter, bucket: bucket)
    }

    /// Most points in one answer. The window keeps the newest this many (as it always has);
    /// a history range needing more is refused with 400 on `bucket`.
    public static let maxPoints = 3_600

    public func response(from window: EventWindow) -> HTTPResponse {
        .json(Self.body(bucket: bucket, points: points(of: window), source: "window"))
    }

    /// The history's series, continuous like the window's; 400 on `bucket` past `maxPoints`.
    public func historyBody(counts: [Int64: (count: Int, skipped: Int)]) throws(ProblemDetails) -> [UInt8] {
        guard let points = Timeline.continuous(counts, bucketMilliseconds: bucket.milliseconds, maxPoints: Self.maxPoints)
        else {
            throw .badParameter("bucket", "the matching listens span more than \(Self.maxPoints) buckets of "
                + "\(bucket.rawValue): use a larger bucket (1m, 1h, 1d) or a narrower since/until")
        }
        return Self.body(bucket: bucket, points: points, source: "history")
    }

    static func body(bucket: TimelineBucket, points: [TimelinePoint], source: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 64 + points.count * 40)
        writer.beginObject()
        writer.key("bucket_ms"); writer.int64(bucket.milliseconds)
        writer.key("points")
        writer.beginArray()
        for point in points {
            writer.beginObject()
            writer.key("t"); writer.int64(point.t)
            writer.key("count"); writer.int(point.count)
            writer.key("skipped"); writer.int(point.skipped)
            writer.endObject()
        }
        writer.endArray()
        writer.key("source"); writer.string(source)
        writer.endObject()
        return writer.bytes
    }
}
