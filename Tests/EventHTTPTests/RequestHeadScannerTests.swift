@testable import EventHTTP
import Testing

@Suite struct RequestHeadScannerTests {
    private func feed(_ scanner: inout RequestHeadScanner, _ text: String) -> RequestHeadScanner.Outcome {
        Array(text.utf8).withUnsafeBytes { scanner.scan($0) }
    }

    @Test func completeHeadReportsWhereItEnds() {
        var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 100)
        let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(feed(&scanner, head + "BODY") == .complete(bytesUsed: head.utf8.count))
        // Sticky until reset.
        #expect(feed(&scanner, "more") == .complete(bytesUsed: 0))
        scanner.reset()
        #expect(feed(&scanner, "GET / HTTP/1.1\r\n") == .incomplete)
    }

    /// reset() empties the state field by field (keeping the buffers' storage): after any head,
    /// finished or refused anywhere, the scanner must equal a new one, every stored property.
    @Test func resetLeavesNothingOfTheLastHead() {
        let fresh = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 1_000)
        for head in ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n",
                     "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                     "GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n",
                     "GET / HTTP/1.0\r\nA-Very-Long-Header-Name-Indeed: 1\r\n\r\n", "GET / HTTP/1.1\r\nContent-Le",
                     "GET / HTTP/1.1\r\nA: b\r\r", String(repeating: "x", count: 200)] {
            var scanner = fresh
            _ = feed(&scanner, head)
            #expect(scanner != fresh, "\(head.debugDescription)")
            scanner.reset()
            #expect(scanner == fresh, "\(head.debugDescription)")
        }
    }

    @Test func bareLineFeedsEndLinesAsEvhttpReadsThem() {
        var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 100)
        #expect(feed(&scanner, "GET / HTTP/1.1\nA: b\n\n") == .complete(bytesUsed: 21))
    }

    @Test func headWithoutHeaderFieldsEndsAtTheBlankLine() {
        var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 100)
        #expect(feed(&scanner, "GET / HTTP/1.1\r\n\r\n") == .complete(bytesUsed: 18))
    }

    @Test func byteAtATimeFindsTheEnd() {
        var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 100)
        let head = Array("GET /a HTTP/1.1\r\nX-A: 1\r\nX-B: 2\r\n\r\n".utf8)
        for (index, byte) in head.enumerated() {
            let outcome = [byte].withUnsafeBytes { scanner.scan($0) }
            #expect(outcome == (index == head.count - 1 ? .complete(bytesUsed: 1) : .incomplete))
        }
    }

    @Test func requestLineLimitIncludesTheLineEnd() {
        let line = "GET /" + String(repeating: "a", count: 10) + " HTTP/1.1\r\n"   // 26 bytes
        var exact = RequestHeadScanner(maxRequestLine: line.utf8.count, maxHeaders: 100)
        #expect(feed(&exact, line + "\r\n") == .complete(bytesUsed: line.utf8.count + 2))
        var over = RequestHeadScanner(maxRequestLine: line.utf8.count - 1, maxHeaders: 100)
        #expect(feed(&over, line) == .requestLineTooLong)
    }

    @Test func overlongRequestLineIsCaughtBeforeItEnds() {
        var scanner = RequestHeadScanner(maxRequestLine: 50, maxHeaders: 100)
        #expect(feed(&scanner, "GET /" + String(repeating: "a", count: 40)) == .incomplete)
        #expect(feed(&scanner, String(repeating: "a", count: 10)) == .requestLineTooLong)
        #expect(feed(&scanner, "\r\n\r\n") == .requestLineTooLong)
    }

    @Test func headerSectionLimitCountsEveryHeaderByte() {
        let fields = "A: 1234\r\nB: 5678\r\n"   // 18 bytes, then the 2-byte blank line
        var exact = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 20)
        #expect(feed(&exact, "GET / HTTP/1.1\r\n" + fields + "\r\n") == .complete(bytesUsed: 36))
        var over = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 19)
        #expect(feed(&over, "GET / HTTP/1.1\r\n" + fields + "\r\n") == .headersTooLarge)
    }

    @Test func endlessHeaderLineIsCaught() {
        var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 1_000)
        #expect(feed(&scanner, "GET / HTTP/1.1\r\nX: ") == .incomplete)
        #expect(feed(&scanner, String(repeating: "x", count: 2_000)) == .headersTooLarge)
    }

    @Test func framingIsReadFromTheHead() {
        func framing(_ fields: String) -> RequestHeadScanner.BodyFraming? {
            var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 1_000)
            guard case .complete = feed(&scanner, "POST / HTTP/1.1\r\n" + fields + "\r\n") else { return nil }
            return scanner.framing
        }
        #expect(framing("") == RequestHeadScanner.BodyFraming.none)
        #expect(framing("Content-Length: 0\r\n") == RequestHeadScanner.BodyFraming.none)
        #expect(framing("content-length:  42 \r\n") == .length(42))
        #expect(framing("Transfer-Encoding: Chunked\r\n") == .chunked)
        #expect(framing("X-Content-Length: 5\r\nX-Transfer-Encoding-Long-Name: gzip\r\n") == RequestHeadScanner.BodyFraming.none)
    }

    /// Each rule of the head, and the refusal it gives (the framing ones are 400 naming the problem).
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nContent-Length : 1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nA: b\u{00}\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nA\"b: c\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n", 417),
        ("\r\nGET / HTTP/1.1\r\n\r\n", 400),
        ("GET /a b HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / http/1.1\r\n\r\n", 400),
        ("BREW / HTTP/1.1\r\n\r\n", 501),
        ("CONNECT host:443 HTTP/1.1\r\n\r\n", 501),
    ])
    func headRulesRefuse(head: String, status: Int) {
        var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 1_000)
        guard case .refused(let refusal) = feed(&scanner, head) else {
            Issue.record("not refused: \(head.debugDescription)")
            return
        }
        #expect(refusal.status == status, "\(head.debugDescription)")
    }

    @Test func acceptedHeadsStayAccepted() {
        for head in ["GET /?a=b HTTP/1.0\r\n\r\n", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET http://x/y HTTP/1.1\r\nX-Value: caf\u{e9} \t tab\r\nExpect: 100-Continue\r\n\r\n",
                     "DELETE /a HTTP/1.1\nHost: x\n\n"] {
            var scanner = RequestHeadScanner(maxRequestLine: 100, maxHeaders: 1_000)
            #expect(feed(&scanner, head) == .complete(bytesUsed: head.utf8.count), "\(head.debugDescription)")
        }
    }
}
