/// Follows a chunked request body (RFC 9112 section 7.1) as its bytes arrive, before evhttp
/// reads them, so that a body evhttp would parse one way and a proxy another is refused (400)
/// rather than read: chunk sizes are hexadecimal digits only (no sign, no `0x`, at most 15
/// digits), every line of the framing ends in CRLF, chunk data is followed by CRLF, and the
/// trailer section holds field lines only.
///
/// evhttp 2.1 refuses chunk extensions (`1a;name=value`), which RFC 9112 requires a recipient
/// to accept and ignore, but it does ignore whatever follows a space after the size. So the
/// scanner rewrites the one byte after the size digits, a `;` or a tab, into a space, in place
/// (same length, before evhttp sees it): evhttp then reads the size and skips the extension.
///
/// Socket-free, so it is unit-tested on its own.
struct ChunkedBodyScanner {
    enum Outcome: Equatable {
        /// More bytes are needed.
        case incomplete
        /// The body ended; the first `bytesUsed` bytes of the chunk scanned last belong to it.
        case complete(bytesUsed: Int)
        /// The framing is malformed; names the problem.
        case malformed(String)
    }

    private enum State: Equatable {
        case sizeDigits, sizeExtension, sizeLF
        case data(remaining: Int), dataCR, dataLF
        case trailerStart, trailerName, trailerValue, trailerLF, finalLF
    }

    /// Most hexadecimal digits in a chunk size: beyond it the number overflows evhttp's parser.
    static let maxSizeDigits = 15

    /// Bytes the trailer section may take (it is parsed like header fields).
    let maxTrailerBytes: Int
    private var state = State.sizeDigits
    private var size = 0
    private var digits = 0
    private var trailerBytes = 0
    private var finished: Outcome?

    init(maxTrailerBytes: Int) {
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// Scans the next bytes of the body, rewriting a chunk extension's first byte in place.
    /// Once it returns anything but `.incomplete` it keeps returning that (with `bytesUsed: 0`
    /// for a completed body).
    mutating func scan(_ bytes: UnsafeMutableRawBufferPointer) -> Outcome {
        if let finished {
            if case .complete = finished { return .complete(bytesUsed: 0) }
            return finished
        }
        var index = 0
        while index < bytes.count {
            if case .data(let remaining) = state {
                let taken = min(remaining, bytes.count - index)
                index += taken
                state = remaining == taken ? .dataCR : .data(remaining: remaining - taken)
                continue
            }
            if let outcome = take(bytes[index], at: index, in: bytes) {
                finished = outcome
                return outcome
            }
            index += 1
        }
        return .incomplete
    }

    private mutating func take(_ byte: UInt8, at index: Int, in bytes: UnsafeMutableRawBufferPointer) -> Outcome? {
        switch state {
        case .sizeDigits:
            if byte.isHexDigit {
                digits += 1
                guard digits <= Self.maxSizeDigits else { return .malformed("a chunk size of more than \(Self.maxSizeDigits) digits") }
                size = size &* 16 &+ Int(byte.hexValue)
                return nil
            }
            guard digits > 0 else { return .malformed("a chunk size that is not a hexadecimal number") }
            switch byte {
            case .cr:
                state = .sizeLF
            case UInt8(ascii: ";"), .tab:
                bytes[index] = .space
                state = .sizeExtension
            case .space:
                state = .sizeExtension
            default:
                return .malformed("a chunk size followed by something other than an extension")
            }
        case .sizeExtension:
            if byte == .cr {
                state = .sizeLF
            } else if byte.isControlOtherThanTab {
                return .malformed("a control character in a chunk extension")
            }
        case .sizeLF:
            guard byte == .lf else { return .malformed("a chunk size line not ended by CRLF") }
            if size == 0 {
                state = .trailerStart
            } else {
                state = .data(remaining: size)
            }
            size = 0
            digits = 0
        case .data:
            break   // handled in scan
        case .dataCR:
            guard byte == .cr else { return .malformed("chunk data longer than its size") }
            state = .dataLF
        case .dataLF:
            guard byte == .lf else { return .malformed("chunk data not followed by CRLF") }
            state = .sizeDigits
        case .trailerStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
            trailerBytes += 1
            guard trailerBytes <= maxTrailerBytes else { return .malformed("a trailer section larger than \(maxTrailerBytes) bytes") }
            return trailer(byte, at: index)
        }
        return nil
    }

    private mutating func trailer(_ byte: UInt8, at index: Int) -> Outcome? {
        switch state {
        case .trailerStart:
            if byte == .cr {
                state = .finalLF
            } else if byte.isTokenCharacter {
                state = .trailerName
            } else {
                return .malformed("a trailer line that is not a field")
            }
        case .trailerName:
            if byte == UInt8(ascii: ":") {
                state = .trailerValue
            } else if !byte.isTokenCharacter {
                return .malformed("an invalid character in a trailer field's name")
            }
        case .trailerValue:
            if byte == .cr {
                state = .trailerLF
            } else if byte.isControlOtherThanTab {
                return .malformed("a control character in a trailer field")
            }
        case .trailerLF:
            guard byte == .lf else { return .malformed("a trailer line not ended by CRLF") }
            state = .trailerStart
        case .finalLF:
            guard byte == .lf else { return .malformed("a chunked body not ended by CRLF") }
            return .complete(bytesUsed: index + 1)
        default:
            break
        }
        return nil
    }
}

extension UInt8 {
    /// The value of a hexadecimal digit (only called on one).
    var hexValue: UInt8 {
        if isDigit { return self - 0x30 }
        return (self | 0x20) - UInt8(ascii: "a") + 10
    }
}
