/// A rejected message: a reason for counting and a detail naming the field for humans.
public struct EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectionReason
    /// Human readable and names the field, e.g. "rating: 7 is outside 0...5".
    public var detail: String

    public init(reason: RejectionReason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
