import EventHTTP
import Testing

@Suite struct QueryParsingTests {
    private func pairs(_ query: String) throws -> [String] {
        try HTTPRequest.parseQuery(query).map { "\($0.name)=\($0.value)" }
    }

    @Test func plusIsSpaceAndPercentIsDecoded() throws {
        #expect(try pairs("q=hello+world&x=a%2Bb%26c%3D") == ["q=hello world", "x=a+b&c="])
    }

    @Test func utf8IsDecoded() throws {
        #expect(try pairs("artist=Bj%C3%B6rk&city=S%C3%A3o+Paulo") == ["artist=Björk", "city=São Paulo"])
    }

    @Test func orderAndRepeatsAreKept() throws {
        #expect(try pairs("genre=rock&country=SE&genre=jazz") == ["genre=rock", "country=SE", "genre=jazz"])
    }

    @Test func emptyPiecesAndMissingValues() throws {
        #expect(try pairs("") == [])
        #expect(try pairs("a=1&&b&c=") == ["a=1", "b=", "c="])
        #expect(try pairs("a=b=c") == ["a=b=c"])
    }

    @Test func invalidPercentEncodingThrows() {
        #expect(throws: QueryStringError(detail: "invalid percent-encoding near 'a%zz'", parameter: "x")) {
            try HTTPRequest.parseQuery("x=a%zz")
        }
        #expect(throws: QueryStringError.self) { try HTTPRequest.parseQuery("x=%4") }
        #expect(throws: QueryStringError.self) { try HTTPRequest.parseQuery("x=%") }
        #expect(throws: QueryStringError.self) { try HTTPRequest.parseQuery("%G1=x") }
    }

    @Test func invalidUTF8Throws() {
        #expect(throws: QueryStringError(detail: "invalid UTF-8 near '%C3%28'", parameter: "x")) {
            try HTTPRequest.parseQuery("x=%C3%28")
        }
        #expect(throws: QueryStringError.self) { try HTTPRequest.parseQuery("x=%FF") }
    }

    /// The problem names the parameter: decoded when only its value is bad, as sent when
    /// the name itself is.
    @Test func errorsNameTheParameter() {
        let cases: [(query: String, parameter: String)] = [
            ("ok=1&artist=%zz", "artist"), ("genre=%", "genre"), ("country=%C0%AF", "country"),
            ("q=%E0%80%80", "q"), ("user_id=%00", "user_id"), ("a%00b=1", "a%00b"), ("%G1=x", "%G1"),
            ("na%C3%AFve=%ff", "naïve"),
        ]
        for (query, parameter) in cases {
            do {
                _ = try HTTPRequest.parseQuery(query)
                Issue.record("\(query) parsed")
            } catch {
                #expect(error.parameter == parameter, "\(query)")
            }
        }
    }

    @Test func nulIsRefused() {
        #expect(throws: QueryStringError(detail: "NUL (%00) is not allowed, near 'a%00'", parameter: "x")) {
            try HTTPRequest.parseQuery("x=a%00")
        }
    }

    @Test func parameterCountIsLimited() throws {
        let atLimit = Array(repeating: "genre=", count: HTTPRequest.maxQueryParameters).joined(separator: "&")
        #expect(try HTTPRequest.parseQuery(atLimit).count == HTTPRequest.maxQueryParameters)
        #expect(throws: QueryStringError(detail: "the query has more than 256 parameters", parameter: "genre")) {
            try HTTPRequest.parseQuery(atLimit + "&genre=")
        }
        #expect(throws: QueryStringError.self) { try HTTPRequest.parseQuery("a=1&b=2&c=3", maxParameters: 2) }
    }

    @Test func requestUsesItsRawQuery() throws {
        let request = HTTPRequest(method: .GET, path: "/api/top", rawQuery: "n=5&by=artist")
        let parsed = try request.queryParameters()
        #expect(parsed.map(\.name) == ["n", "by"])
        #expect(parsed.map(\.value) == ["5", "artist"])
    }

    @Test func headerLookupIsCaseInsensitive() {
        let request = HTTPRequest(method: .GET, path: "/", headers: [("Content-Type", "a"), ("X-Thing", "b")])
        #expect(request.header("content-type") == "a")
        #expect(request.header("X-THING") == "b")
        #expect(request.header("missing") == nil)
    }
}
