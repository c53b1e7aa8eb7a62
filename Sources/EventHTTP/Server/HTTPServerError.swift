/// Setup failures (bind, libevent allocation) with a message fit for the operator.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
