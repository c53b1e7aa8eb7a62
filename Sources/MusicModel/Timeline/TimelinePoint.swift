/// One timeline bucket: listens starting in [t, t + bucket) and how many of them were skips.
public struct TimelinePoint: Sendable, Equatable {
    /// Bucket start, ms since the epoch, a multiple of the bucket width.
    public var t: Int64
    public var count: Int
    public var skipped: Int

    public init(t: Int64, count: Int, skipped: Int) {
        self.t = t
        self.count = count
        self.skipped = skipped
    }
}
