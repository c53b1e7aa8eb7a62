/// Listen counts over time for the dashboard chart.
public enum Timeline {
    /// Hard cap on `maxPoints`, so a caller's value can never size a huge allocation
    /// (a day of one-second buckets).
    public static let maxPointsLimit = 86_400

    /// Bucketed counts of the matching events, ascending by `t` and continuous: every bucket
    /// from the oldest to the newest matching one is present, empty ones as zeros, so a chart
    /// can plot the array as is. At most `maxPoints` buckets (clamped to 1...`maxPointsLimit`),
    /// the newest ones; older events are left out. Empty when nothing matches.
    public static func points(
        _ events: some Sequence<StoredEvent>, filter: EventFilter, bucket: TimelineBucket, maxPoints: Int = 3600
    ) -> [TimelinePoint] {
        var tally = Tally(size: bucket.milliseconds)
        for stored in events where filter.matches(stored.event) {
            tally.add(timestamp: stored.event.timestamp, skipped: stored.event.skipped)
        }
        return tally.points(maxPoints: maxPoints)
    }

    /// The same over the whole window, reading its slots in place (see
    /// `EventWindow.forEachStored`): the request path's way.
    public static func points(
        _ window: EventWindow, filter: EventFilter, bucket: TimelineBucket, maxPoints: Int = 3600
    ) -> [TimelinePoint] {
        var tally = Tally(size: bucket.milliseconds)
        let resolved = window.resolve(filter)
        window.forEachStored(through: window.lastSequence) { _, slot in
            guard resolved.matches(slot) else { return }
            tally.add(timestamp: slot.pointee.timestamp, skipped: !slot.pointee.isCompleted)
        }
        return tally.points(maxPoints: maxPoints)
    }

    /// Per-bucket counts in one pass. Consecutive events usually share a bucket, so counts
    /// go to a running bucket and reach the dictionary only when the bucket changes.
    private struct Tally {
        let size: Int64
        var totals: [Int64: (count: Int, skipped: Int)] = [:]
        var current: Int64?
        var currentCount = 0
        var currentSkipped = 0
        var newest = Int64.min
        var oldest = Int64.max

        init(size: Int64) {
            self.size = size
        }

        @inline(__always)
        mutating func add(timestamp: Int64, skipped: Bool) {
            guard let start = bucketStart(timestamp, size) else { return }
            if start != current {
                flush()
                current = start
                newest = max(newest, start)
                oldest = min(oldest, start)
            }
            currentCount += 1
            if skipped { currentSkipped += 1 }
        }

        private mutating func flush() {
            guard let current, currentCount > 0 else { return }
            totals[current, default: (0, 0)].count += currentCount
            totals[current, default: (0, 0)].skipped += currentSkipped
            currentCount = 0
            currentSkipped = 0
        }

        mutating func points(maxPoints: Int) -> [TimelinePoint] {
            flush()
            guard current != nil else { return [] }
            let cap = Int64(min(max(maxPoints, 1), maxPointsLimit))
            // Buckets from `first` to `newest` inclusive; the span may overflow for absurd
            // timestamps, in which case it certainly exceeds the cap.
            let (span, overflow) = newest.subtractingReportingOverflow(oldest)
            let first = !overflow && span / size < cap ? oldest : newest - (cap - 1) * size
            let count = Int((newest - first) / size) + 1
            var points: [TimelinePoint] = []
            points.reserveCapacity(count)
            for i in 0..<count {
                points.append(TimelinePoint(t: first + Int64(i) * size, count: 0, skipped: 0))
            }
            for (t, total) in totals where t >= first {
                let i = Int((t - first) / size)
                points[i].count = total.count
                points[i].skipped = total.skipped
            }
            return points
        }
    }

    /// Continuous points from sparse bucket totals (`counts`: bucket start -> figures, as a
    /// store's GROUP BY returns them): every bucket from the oldest to the newest, empty ones as
    /// zeros, the same series `points` builds from a window. nil when that takes more than
    /// `maxPoints` buckets: a history range is refused rather than cut, so a client never
    /// mistakes a clipped series for the whole range.
    public static func continuous(
        _ counts: [Int64: (count: Int, skipped: Int)], bucketMilliseconds size: Int64, maxPoints: Int
    ) -> [TimelinePoint]? {
        guard let oldest = counts.keys.min(), let newest = counts.keys.max() else { return [] }
        let (span, overflow) = newest.subtractingReportingOverflow(oldest)
        guard !overflow, span / size < Int64(max(1, maxPoints)) else { return nil }
        var points = (0...Int(span / size)).map { TimelinePoint(t: oldest + Int64($0) * size, count: 0, skipped: 0) }
        for (t, figures) in counts {
            let i = Int((t - oldest) / size)
            points[i].count += figures.count
            points[i].skipped += figures.skipped
        }
        return points
    }

    /// floor(timestamp / size) * size; nil if that does not fit in Int64 (only for timestamps
    /// near Int64.min, which the decoder never admits).
    @inline(__always)
    public static func bucketStart(_ timestamp: Int64, _ size: Int64) -> Int64? {
        var q = timestamp / size
        if timestamp % size < 0 { q -= 1 }
        let (start, overflow) = q.multipliedReportingOverflow(by: size)
        return overflow ? nil : start
    }
}
