import EventHTTP
import Testing

@Suite struct HTTPRefusalTests {
    /// The default pages, byte for byte: clients and the end-to-end tests read these texts.
    @Test(arguments: [
        (HTTPRefusal.tooManyConnections(limit: 3), 503,
         #"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the server is at its limit of 3 connections; try again later"}"#),
        (.requestLineTooLong(limit: 1000), 414,
         #"{"type":"about:blank","title":"URI Too Long","status":414,"detail":"the request line is longer than 1000 bytes"}"#),
        (.headersTooLarge(limit: 2000), 431,
         #"{"type":"about:blank","title":"Request Header Fields Too Large","status":431,"detail":"the request's header fields are larger than 2000 bytes"}"#),
        (.timedOut(.head, seconds: 10), 408,
         #"{"type":"about:blank","title":"Request Timeout","status":408,"detail":"the request head did not arrive within 10.0 seconds"}"#),
        (.timedOut(.body, seconds: 0.5), 408,
         #"{"type":"about:blank","title":"Request Timeout","status":408,"detail":"the request body did not arrive within 0.5 seconds"}"#),
        (.bodyTooLarge(limit: 1000), 413,
         #"{"type":"about:blank","title":"Content Too Large","status":413,"detail":"the request body is larger than 1000 bytes"}"#),
        (.malformed, 400,
         #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"malformed request line, header field or body framing"}"#),
        (.expectationFailed, 417,
         #"{"type":"about:blank","title":"Expectation Failed","status":417,"detail":"only 'Expect: 100-continue' is supported"}"#),
        (.methodNotImplemented, 501,
         #"{"type":"about:blank","title":"Not Implemented","status":501,"detail":"the request method is not implemented (methods are case-sensitive; CONNECT is for proxies)"}"#),
        (.badFraming("both Transfer-Encoding and Content-Length"), 400,
         #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"malformed or ambiguous request: both Transfer-Encoding and Content-Length"}"#),
        (.versionNotSupported, 505,
         #"{"type":"about:blank","title":"HTTP Version Not Supported","status":505,"detail":"only HTTP/1.0 and HTTP/1.1 are served"}"#),
        (.transferCodingNotImplemented, 501,
         #"{"type":"about:blank","title":"Not Implemented","status":501,"detail":"the only transfer coding accepted is 'chunked'"}"#),
        (.evhttpError(status: 505), 505,
         #"{"type":"about:blank","title":"HTTP Version Not Supported","status":505}"#),
        (.unparsableTarget, 400,
         #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"unparsable request target"}"#),
        (.invalidPath, 400,
         #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"invalid percent-encoding, NUL or non-UTF-8 in path"}"#),
        (.internalError, 500, #"{"type":"about:blank","title":"Internal Server Error","status":500}"#),
    ])
    func defaultPageIsTodaysProblem(refusal: HTTPRefusal, status: Int, body: String) {
        let page = HTTPRefusal.defaultPage(refusal)
        #expect(refusal.status == status)
        #expect(page.status == status)
        #expect(page.header("Content-Type") == "application/problem+json")
        #expect(String(decoding: page.body, as: UTF8.self) == body)
        #expect(page.header("Retry-After") == (status == 503 ? "1" : nil))
    }
}
