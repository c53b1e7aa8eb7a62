import EventHTTP
import JSON
import MusicModel

/// `GET /api/timeline`: listens (and skips) per time bucket under the filters, for charts.
public struct TimelineRequest {
    public let filter: EventFilter
    public let bucket: TimelineBucket

    public init(_ request: HTTPRequest) throws(ProblemDetails) {
        let query = try EventQuery.parse(request, options: ["bucket"])
        let name = query.option("bucket") ?? TimelineBucket.oneSecond.rawValue
        guard let bucket = TimelineBucket(rawValue: name) else {
            throw .badParameter("bucket", "bucket must be one of 1s, 10s, 1m, got '\(name.prefix(64))'")
        }
        self.filter = query.filter
        self.bucket = bucket
    }

    public func points(of window: EventWindow) -> [TimelinePoint] {
        Timeline.points(window, filter: filter, bucket: bucket)
    }

    public func response(from window: EventWindow) -> HTTPResponse {
        let points = points(of: window)
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
        writer.endObject()
        return .json(writer.bytes)
    }
}
