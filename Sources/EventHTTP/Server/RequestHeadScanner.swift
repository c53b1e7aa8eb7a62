/// Follows the bytes of one request head (request line and header fields) as they arrive,
/// before evhttp parses them, so the server can refuse an over-long request line (414) or
/// header section (431) with its own response rather than evhttp's, and knows when the head
/// is complete (which ends the header deadline). Lines end at LF, with an optional CR before
/// it, as evhttp reads them. Socket-free, so it is unit-tested on its own.
struct RequestHeadScanner {
    enum Outcome: Equatable {
        /// More bytes are needed.
        case incomplete
        /// The blank line ending the head was found; the first `bytesUsed` bytes of the chunk
        /// scanned last belong to the head, the rest to the body or the next request.
        case complete(bytesUsed: Int)
        /// The request line, line end included, passed `maxRequestLine` bytes.
        case requestLineTooLong
        /// The header section (every line after the request line, line ends included)
        /// passed `maxHeaders` bytes.
        case headersTooLarge
    }

    let maxRequestLine: Int
    let maxHeaders: Int
    private var inRequestLine = true
    private var requestLineBytes = 0
    private var headerBytes = 0
    /// Bytes of the current header line so far, LF not included.
    private var lineBytes = 0
    private var lineEndsWithCR = false
    private var finished: Outcome?

    init(maxRequestLine: Int, maxHeaders: Int) {
        self.maxRequestLine = maxRequestLine
        self.maxHeaders = maxHeaders
    }

    /// Scans the next chunk of the head. Once it returns anything but `.incomplete`, it
    /// keeps returning that (with `bytesUsed: 0` for a completed head) until `reset()`.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if let finished {
            if case .complete = finished { return .complete(bytesUsed: 0) }
            return finished
        }
        for (index, byte) in bytes.enumerated() {
            if inRequestLine {
                requestLineBytes += 1
                if requestLineBytes > maxRequestLine { return finish(.requestLineTooLong) }
                if byte == UInt8(ascii: "\n") { inRequestLine = false }
                continue
            }
            headerBytes += 1
            if headerBytes > maxHeaders { return finish(.headersTooLarge) }
            if byte == UInt8(ascii: "\n") {
                let content = lineBytes - (lineEndsWithCR ? 1 : 0)
                if content == 0 { return finish(.complete(bytesUsed: index + 1)) }
                lineBytes = 0
                lineEndsWithCR = false
            } else {
                lineBytes += 1
                lineEndsWithCR = byte == UInt8(ascii: "\r")
            }
        }
        return .incomplete
    }

    /// Ready for the next request on the same connection.
    mutating func reset() {
        self = RequestHeadScanner(maxRequestLine: maxRequestLine, maxHeaders: maxHeaders)
    }

    private mutating func finish(_ outcome: Outcome) -> Outcome {
        finished = outcome
        return outcome
    }
}
