@testable import EventHTTP
import Testing

@Suite struct ChunkedBodyScannerTests {
    /// Scans `text` in pieces of `step` bytes; returns the last outcome and the bytes as rewritten.
    private func scan(_ text: String, step: Int = .max) -> (ChunkedBodyScanner.Outcome, String) {
        var scanner = ChunkedBodyScanner(maxTrailerBytes: 100)
        var bytes = Array(text.utf8)
        var outcome = ChunkedBodyScanner.Outcome.incomplete
        var start = 0
        while start < bytes.count, outcome == .incomplete {
            let end = min(bytes.count, start + min(step, bytes.count))
            let offset = start
            outcome = bytes[start..<end].withUnsafeMutableBytes { scanner.scan($0) }
            if case .complete(let used) = outcome { outcome = .complete(bytesUsed: offset + used) }
            start = end
        }
        return (outcome, String(decoding: bytes, as: UTF8.self))
    }

    @Test func bodyEndsAfterTheLastChunkAndTrailers() {
        let body = "3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Sum: 1\r\n\r\n"
        #expect(scan(body + "GET / HTTP/1.1\r\n").0 == .complete(bytesUsed: body.utf8.count))
        for step in [1, 2, 7] {
            #expect(scan(body, step: step).0 == .complete(bytesUsed: body.utf8.count), "step \(step)")
        }
    }

    /// evhttp reads a size followed by a space and ignores the rest; `;` or a tab becomes that space.
    @Test func extensionsAreRewrittenForEvhttp() {
        let body = "3;a=b\r\nabc\r\n2\t;q=\"x;y\"\r\nde\r\n0;end\r\n\r\n"
        let (outcome, rewritten) = scan(body, step: 3)
        #expect(outcome == .complete(bytesUsed: body.utf8.count))
        #expect(rewritten == "3 a=b\r\nabc\r\n2 ;q=\"x;y\"\r\nde\r\n0 end\r\n\r\n")
    }

    @Test(arguments: ["x\r\n", "0x3\r\n", "-3\r\n", ";a\r\n", "3\n", "3\rX", "3\r\nabcd", "3\r\nabc\n",
                      "1234567890abcdef\r\n", "3;\u{7F}\r\n", "0\r\nno colon\r\n", "0\r\nA: b\n", "0\r\n\rX"])
    func malformedFramingIsNamed(body: String) {
        guard case .malformed(let detail) = scan(body).0 else {
            Issue.record("not refused: \(body.debugDescription)")
            return
        }
        #expect(!detail.isEmpty)
    }

    @Test func trailerSectionIsBounded() {
        let trailer = "0\r\nX: " + String(repeating: "t", count: 200) + "\r\n\r\n"
        guard case .malformed = scan(trailer).0 else {
            Issue.record("an endless trailer section was accepted")
            return
        }
    }
}
