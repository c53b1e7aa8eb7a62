/// Thrown by `HTTPRequest.queryParameters()` so handlers can answer 400 with the detail
/// and the offending parameter.
public struct QueryStringError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String
    /// The parameter the problem is in: its decoded name, or the name as sent when the name
    /// itself cannot be decoded.
    public var parameter: String?
    public init(detail: String, parameter: String? = nil) {
        self.detail = detail
        self.parameter = parameter
    }
    public var description: String { detail }
}
