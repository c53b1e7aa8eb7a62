/// A bad query parameter; names the parameter so the API can answer 400 with a useful message.
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var parameter: String
    public var detail: String

    public init(parameter: String, detail: String) {
        self.parameter = parameter
        self.detail = detail
    }

    public var description: String { detail }
}
