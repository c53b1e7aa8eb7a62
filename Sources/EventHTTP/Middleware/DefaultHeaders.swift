/// Headers every response carries unless it sets them itself: security headers such as
/// `X-Content-Type-Options: nosniff` or a Content-Security-Policy.
///
/// Why it exists: which headers are "default" is the service's policy; as a middleware it
/// reaches every response head, refusals and stream heads included, without the server
/// knowing about it. `DefaultHeaders()` is the `nosniff` header alone, the default of
/// `HTTPApplication`.
public struct DefaultHeaders: HTTPMiddleware, Sendable {
    public var headers: [(name: String, value: String)]

    public init(_ headers: [(name: String, value: String)] = [(name: "X-Content-Type-Options", value: "nosniff")]) {
        self.headers = headers
    }

    /// Puts the missing defaults first, in their order; a header is missing when none of the
    /// same name (any case) is there yet.
    public func finishHeaders(_ response: inout [(name: String, value: String)], status: Int) {
        var inserted = 0
        for header in headers where !response[inserted...].contains(where: { HeaderName.equal($0.name, header.name) }) {
            response.insert(header, at: inserted)
            inserted += 1
        }
    }
}
