/// Width of a timeline bucket; raw values are the API's spellings.
public enum TimelineBucket: String, Sendable, CaseIterable {
    case oneSecond = "1s"
    case tenSeconds = "10s"
    case oneMinute = "1m"

    public var milliseconds: Int64 {
        switch self {
        case .oneSecond: 1_000
        case .tenSeconds: 10_000
        case .oneMinute: 60_000
        }
    }
}
