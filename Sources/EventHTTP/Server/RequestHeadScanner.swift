/// Follows the bytes of one request head (request line and header fields) as they arrive,
/// before evhttp parses them, and decides what evhttp would otherwise decide on its own and
/// more leniently:
///
/// - the size limits: an over-long request line (414) or header section (431) is refused with
///   the server's own response rather than evhttp's;
/// - the syntax of the request line (one method token, a target, `HTTP/1.x`), of each field
///   line (no whitespace before the colon, no obsolete line folding, no control characters),
///   and the method, which must be one the server knows (501 otherwise, CONNECT included: this
///   is an origin server, not a proxy);
/// - the body's framing, which must be unambiguous (RFC 9112 section 6): at most one
///   `Content-Length`, a plain decimal number; at most one `Transfer-Encoding`, exactly
///   `chunked`; never both; none in an HTTP/1.0 request. A request two parsers could split
///   differently (the classic request-smuggling shapes) is refused before evhttp reads it;
/// - `Expect`: only `100-continue` (417 otherwise).
///
/// It also knows when the head is complete, which ends the header deadline, and what framing
/// the body has (`framing`), so a chunked body can be followed by `ChunkedBodyScanner`.
/// Lines end at LF, with an optional CR before it, as evhttp reads them; a CR anywhere else is
/// refused. Socket-free, so it is unit-tested on its own.
struct RequestHeadScanner: Equatable {   // Equatable: tests compare a reset scanner with a new one
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
        /// The head breaks a rule above; the request is refused as this says.
        case refused(HTTPRefusal)
    }

    /// How the body of a complete head is delimited.
    enum BodyFraming: Equatable {
        case none
        case length(Int)
        case chunked
    }

    /// The methods served (RFC 9110's, less CONNECT). Case-sensitive, as methods are.
    static let knownMethods: Set<[UInt8]> = Set(
        ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"].map { Array($0.utf8) })
    /// Longest method token kept; longer ones are unknown anyway.
    private static let maxMethodBytes = 16
    /// Longest value kept of the fields that decide framing; longer ones are malformed.
    private static let maxFramingValueBytes = 64
    /// Longest field name kept: longer than every name the scanner reads.
    private static let maxNameBytes = 18

    private enum Part {
        case method, target, version, fieldStart, fieldName, fieldValue
    }

    /// The fields whose values the scanner reads.
    private enum Field {
        case contentLength, transferEncoding, expect, other
    }

    let maxRequestLine: Int
    let maxHeaders: Int
    /// Set once the head is complete.
    private(set) var framing: BodyFraming = .none

    private var part = Part.method
    private var requestLineBytes = 0
    private var headerBytes = 0
    /// The previous byte was a CR: the next must be LF.
    private var afterCR = false
    private var method: [UInt8] = []
    private var targetBytes = 0
    private var version: [UInt8] = []
    private var isHTTP10 = false
    private var name: [UInt8] = []
    private var nameTooLong = false
    private var field = Field.other
    private var value: [UInt8] = []
    private var valueTooLong = false
    private var contentLength: Int?
    private var transferEncoding: [UInt8]?
    private var unsupportedExpectation = false
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
            if let outcome = take(byte, at: index) { return finish(outcome) }
        }
        return .incomplete
    }

    /// Ready for the next request on the same connection: every state a new scanner has, with
    /// the byte buffers emptied in place (a keep-alive connection reuses their storage instead
    /// of allocating it again for each request).
    mutating func reset() {
        framing = .none
        part = .method
        requestLineBytes = 0
        headerBytes = 0
        afterCR = false
        method.removeAll(keepingCapacity: true)
        targetBytes = 0
        version.removeAll(keepingCapacity: true)
        isHTTP10 = false
        name.removeAll(keepingCapacity: true)
        nameTooLong = false
        field = .other
        value.removeAll(keepingCapacity: true)
        valueTooLong = false
        contentLength = nil
        transferEncoding = nil
        unsupportedExpectation = false
        finished = nil
    }

    private mutating func finish(_ outcome: Outcome) -> Outcome {
        finished = outcome
        return outcome
    }

    // MARK: - One byte

    private mutating func take(_ byte: UInt8, at index: Int) -> Outcome? {
        switch part {
        case .method, .target, .version:
            requestLineBytes += 1
            if requestLineBytes > maxRequestLine { return .requestLineTooLong }
        case .fieldStart, .fieldName, .fieldValue:
            headerBytes += 1
            if headerBytes > maxHeaders { return .headersTooLarge }
        }
        if afterCR {
            afterCR = false
            guard byte == .lf else { return Self.malformed("a CR not followed by LF") }
            return lineEnded(at: index)
        }
        if byte == .cr {
            afterCR = true
            return nil
        }
        if byte == .lf { return lineEnded(at: index) }
        switch part {
        case .method:
            if byte == .space {
                guard !method.isEmpty else { return Self.malformed("the request line does not start with a method") }
                part = .target
            } else if byte.isTokenCharacter {
                if method.count < Self.maxMethodBytes { method.append(byte) }
            } else {
                return Self.malformed("an invalid character in the method")
            }
        case .target:
            if byte == .space {
                guard targetBytes > 0 else { return Self.malformed("more than one space after the method") }
                part = .version
            } else if byte < 0x21 || byte == 0x7F {
                return Self.malformed("a control character in the request target")
            } else {
                targetBytes += 1
            }
        case .version:
            guard version.count < 8 else { return Self.malformed("an invalid HTTP version") }
            version.append(byte)
        case .fieldStart:
            if byte == .space || byte == .tab {
                return Self.malformed("a header field line starts with whitespace (obsolete line folding)")
            }
            part = .fieldName
            return fieldNameByte(byte)
        case .fieldName:
            return fieldNameByte(byte)
        case .fieldValue:
            if byte.isControlOtherThanTab {
                return Self.malformed("a control character in the value of a header field")
            }
            guard field != .other else { return nil }
            if value.count < Self.maxFramingValueBytes { value.append(byte) } else { valueTooLong = true }
        }
        return nil
    }

    private mutating func fieldNameByte(_ byte: UInt8) -> Outcome? {
        if byte == UInt8(ascii: ":") {
            guard !name.isEmpty else { return Self.malformed("a header field with an empty name") }
            field = nameTooLong ? .other : Self.field(named: name)
            part = .fieldValue
            return nil
        }
        if byte == .space || byte == .tab {
            return Self.malformed("whitespace between a header field's name and its colon")
        }
        guard byte.isTokenCharacter else { return Self.malformed("an invalid character in a header field's name") }
        // Names are kept lowercased up to a length no field the scanner reads reaches.
        if name.count < Self.maxNameBytes { name.append(byte.isLetter ? byte | 0x20 : byte) } else { nameTooLong = true }
        return nil
    }

    // MARK: - Line ends

    private mutating func lineEnded(at index: Int) -> Outcome? {
        switch part {
        case .method:
            return Self.malformed(method.isEmpty ? "an empty line where the request line belongs" : "the request line has no target")
        case .target:
            return Self.malformed("the request line has no HTTP version")
        case .version:
            return requestLineEnded()
        case .fieldStart:
            return headEnded(at: index)
        case .fieldName:
            return Self.malformed("a header field line without a colon")
        case .fieldValue:
            let outcome = fieldEnded()
            part = .fieldStart
            name.removeAll(keepingCapacity: true)
            nameTooLong = false
            value.removeAll(keepingCapacity: true)
            valueTooLong = false
            field = .other
            return outcome
        }
    }

    private mutating func requestLineEnded() -> Outcome? {
        // "HTTP/" DIGIT "." DIGIT
        guard version.count == 8, version.starts(with: Self.httpPrefix), version[6] == UInt8(ascii: "."),
              version[5].isDigit, version[7].isDigit
        else { return Self.malformed("an invalid HTTP version") }
        guard version[5] == UInt8(ascii: "1") else { return .refused(.versionNotSupported) }
        isHTTP10 = version[7] == UInt8(ascii: "0")
        guard Self.knownMethods.contains(method) else { return .refused(.methodNotImplemented) }
        part = .fieldStart
        return nil
    }

    private mutating func fieldEnded() -> Outcome? {
        let trimmed = value.trimmingOptionalWhitespace()
        switch field {
        case .contentLength:
            guard contentLength == nil else { return Self.malformed("Content-Length is given more than once") }
            guard !valueTooLong, !trimmed.isEmpty, trimmed.count <= 18, trimmed.allSatisfy(\.isDigit) else {
                return Self.malformed("Content-Length is not a single decimal number")
            }
            contentLength = trimmed.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        case .transferEncoding:
            guard transferEncoding == nil else { return Self.malformed("Transfer-Encoding is given more than once") }
            transferEncoding = valueTooLong ? Array("(too long)".utf8) : trimmed.map { $0.isLetter ? $0 | 0x20 : $0 }
        case .expect:
            if valueTooLong || !trimmed.map({ $0.isLetter ? $0 | 0x20 : $0 }).elementsEqual(Self.continueExpectation) {
                unsupportedExpectation = true
            }
        case .other:
            break
        }
        return nil
    }

    private mutating func headEnded(at index: Int) -> Outcome {
        if let transferEncoding {
            if isHTTP10 { return Self.malformed("Transfer-Encoding in an HTTP/1.0 request") }
            if contentLength != nil { return Self.malformed("both Transfer-Encoding and Content-Length") }
            guard transferEncoding == Self.chunked else { return .refused(.transferCodingNotImplemented) }
            framing = .chunked
        } else if let contentLength {
            framing = contentLength > 0 ? .length(contentLength) : .none
        }
        if unsupportedExpectation { return .refused(.expectationFailed) }
        return .complete(bytesUsed: index + 1)
    }

    private static func field(named name: [UInt8]) -> Field {
        if name == contentLengthName { return .contentLength }
        if name == transferEncodingName { return .transferEncoding }
        if name == expectName { return .expect }
        return .other
    }

    // Made once: a literal array in a comparison is built again at every call.
    private static let httpPrefix = Array("HTTP/".utf8)
    private static let chunked = Array("chunked".utf8)
    private static let continueExpectation = Array("100-continue".utf8)
    private static let contentLengthName = Array("content-length".utf8)
    private static let transferEncodingName = Array("transfer-encoding".utf8)
    private static let expectName = Array("expect".utf8)

    private static func malformed(_ detail: String) -> Outcome {
        .refused(.badFraming(detail))
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    var isDigit: Bool { (0x30...0x39).contains(self) }
    var isLetter: Bool { (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
    /// What a field value (or chunk extension) may not hold: control characters, except the tab.
    var isControlOtherThanTab: Bool { (self < 0x20 && self != .tab) || self == 0x7F }
    var isHexDigit: Bool { isDigit || (0x41...0x46).contains(self) || (0x61...0x66).contains(self) }

    /// RFC 9110's tchar: what method and field names are made of.
    var isTokenCharacter: Bool {
        if isDigit || isLetter { return true }
        switch self {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

extension Array where Element == UInt8 {
    /// Without leading and trailing spaces and tabs (RFC 9110's OWS).
    func trimmingOptionalWhitespace() -> ArraySlice<UInt8> {
        var slice = self[...]
        while let first = slice.first, first == .space || first == .tab { slice.removeFirst() }
        while let last = slice.last, last == .space || last == .tab { slice.removeLast() }
        return slice
    }
}
