/// How far ahead of its Kafka record a listen may be dated.
///
/// A listen "from the year 2100" would otherwise sit first in every newest-first answer and
/// stretch `/api/timeline` over the years in between until the window let it go. The bound is
/// judged against the record's own timestamp (when the producer wrote it), or against now when
/// the record has none or is itself dated ahead of now; so the window and the history sink,
/// which read the same record at different times, decide the same way.
public struct FutureDateBound: Sendable, Equatable {
    /// The clock skew allowed between a listen's producer and Kafka, in milliseconds.
    public var maxSkewMilliseconds: Int64

    public init(maxSkewSeconds: Int) {
        maxSkewMilliseconds = Int64(maxSkewSeconds) * 1_000
    }

    /// The latest listen timestamp accepted (ms) in a record written at `recordTimestamp` and
    /// read at `now` (both ms since the epoch).
    public func latest(recordTimestamp: Int64?, now: Int64) -> Int64 {
        min(recordTimestamp ?? now, now) &+ maxSkewMilliseconds
    }

    /// The rejection for a listen dated `timestamp` when `latest` is the bound, or nil when it is within.
    public static func rejection(timestamp: Int64, latest: Int64) -> EventRejection? {
        guard timestamp > latest else { return nil }
        return EventRejection(
            reason: .inFuture,
            detail: "timestamp: \(timestamp) ms is \((timestamp - latest + 999) / 1_000) s past the latest accepted "
                + "(\(latest) ms: the record's time plus the allowed clock skew)")
    }
}
