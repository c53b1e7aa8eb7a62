/// How long the history keeps a listen (`--history-retention`): a whole number with a unit,
/// `30d`, `12h`, `90m` or `3600s`, or `forever`.
public struct RetentionPeriod: Sendable, Comparable, LosslessStringConvertible {
    /// nil: kept forever.
    public let seconds: Int64?

    public static let forever = RetentionPeriod(seconds: nil)

    public init(seconds: Int64?) { self.seconds = seconds }

    public static func days(_ n: Int64) -> RetentionPeriod { RetentionPeriod(seconds: n * 86_400) }

    public init?(_ text: String) {
        let lowered = text.lowercased()
        if lowered == "forever" || lowered == "none" {
            seconds = nil
            return
        }
        guard let unit = lowered.last, let scale: Int64 = ["s": 1, "m": 60, "h": 3_600, "d": 86_400][unit],
              let n = Int64(lowered.dropLast()), n > 0, n <= 36_500 * 86_400 / scale else { return nil }
        seconds = n * scale
    }

    public var description: String {
        guard let seconds else { return "forever" }
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    public var duration: Duration? { seconds.map { .seconds($0) } }

    public static func < (a: RetentionPeriod, b: RetentionPeriod) -> Bool {
        (a.seconds ?? .max) < (b.seconds ?? .max)
    }
}
