/// Why a POST /api/events body was refused; `field` names the offending field (nil when the
/// body as a whole is wrong: too large, not JSON, not an object), so the API can answer 400
/// with something a client can act on.
public struct SubmissionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String?
    public var detail: String

    public init(field: String?, detail: String) {
        self.field = field
        self.detail = detail
    }

    public var description: String { detail }
}
