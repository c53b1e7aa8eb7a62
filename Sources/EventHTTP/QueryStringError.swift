internal import CLibEvent

/// Thrown by `HTTPRequest.queryParameters()` so handlers can answer 400 with the detail.
public struct QueryStringError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String
    public init(detail: String) { self.detail = detail }
    public var description: String { detail }
}
