/// Timestamps for a run of `count` listens spaced evenly over the `span` milliseconds that end
/// at `end`, oldest first: `musicstream produce --spread 24h` stamps a day of listens in one go,
/// so a history store can be filled with a realistic range (for benchmarks and demos) without
/// waiting a day. The first listen lies one step after `end - span`, the last exactly at `end`,
/// so every listen falls inside a `since = end - span` query.
public struct SpreadTimestamps: Sendable, Equatable {
    public let count: Int
    public let span: Int64
    public let end: Int64

    /// `count` > 0 and `span` >= 0 (milliseconds).
    public init(count: Int, span: Int64, end: Int64) {
        precondition(count > 0 && span >= 0, "SpreadTimestamps needs count > 0 and span >= 0")
        self.count = count
        self.span = span
        self.end = end
    }

    /// The timestamp of listen `index` (0 ..< count): never decreasing, steps differing by at
    /// most 1 ms. Computed in full width, so a century of milliseconds times a billion listens
    /// cannot overflow.
    public func timestamp(at index: Int) -> Int64 {
        precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
        let product = span.multipliedFullWidth(by: Int64(index + 1))
        return end - span + Int64(count).dividingFullWidth(product).quotient
    }
}
