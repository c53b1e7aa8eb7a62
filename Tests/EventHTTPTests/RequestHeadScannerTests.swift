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
}
