/// Width of a timeline bucket; raw values are the API's spellings. `1h` and `1d` are for
/// ranges answered from the history (days to months); the window accepts them too.
public enum TimelineBucket: String, Sendable, CaseIterable {
    case oneSecond = "1s"
    case tenSeconds = "10s"
    case oneMinute = "1m"
    case oneHour = "1h"
    case oneDay = "1d"

    public var milliseconds: Int64 {
        switch self {
        case .oneSecond: 1_000
        case .tenSeconds: 10_000
        case .oneMinute: 60_000
        case .oneHour: 3_600_000
        case .oneDay: 86_400_000
        }
    }
}
