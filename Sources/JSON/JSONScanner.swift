/// Strict RFC 8259 tokenizer over borrowed bytes. The event decoder and `JSONParser` share it,
/// so both accept exactly the same language: validated UTF-8, no raw control characters,
/// paired surrogates only, no NaN/Infinity/leading zeros, and a hard nesting limit.
package struct JSONScanner {
    /// Deepest container nesting accepted; deeper documents are rejected without recursion.
    package static let maxDepth = 32

    package let base: UnsafePointer<UInt8>
    package let end: Int
    package var pos = 0
    /// Unescaped content of the last escaped string.
    package var scratch: [UInt8] = []

    package init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
    }

    @inline(__always)
    package func peek() -> UInt8? { pos < end ? base[pos] : nil }

    package func fail(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: pos, message: message)
    }

    package func unexpected(_ expected: String) -> JSONSyntaxError {
        guard pos < end else { return fail("unexpected end of input, expected \(expected)") }
        let b = base[pos]
        if b >= 0x20 && b < 0x7F {
            return fail("unexpected '\(Character(Unicode.Scalar(b)))', expected \(expected)")
        }
        return fail("unexpected byte 0x\(String(b, radix: 16)), expected \(expected)")
    }

    @inline(__always)
    package mutating func skipWhitespace() {
        while pos < end {
            let b = base[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    @inline(__always)
    package mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        guard pos < end && base[pos] == byte else { throw unexpected(what) }
        pos += 1
    }

    /// After the top-level value only whitespace may follow.
    package mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if pos < end { throw fail("trailing characters after the JSON value") }
    }

    // MARK: Literals

    package mutating func scanLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        guard end - pos >= n else { throw fail("invalid literal") }
        for i in 0..<n where base[pos + i] != w[i] {
            throw fail("invalid literal")
        }
        pos += n
    }

    /// Scans `true` or `false` at the current position.
    package mutating func scanBool() throws(JSONSyntaxError) -> Bool {
        if peek() == UInt8(ascii: "t") {
            try scanLiteral("true")
            return true
        }
        try scanLiteral("false")
        return false
    }

    // MARK: Strings

    /// Scans a string starting at the opening quote, validating UTF-8 and escapes.
    package mutating func scanString() throws(JSONSyntaxError) -> StringToken {
        pos += 1  // opening quote, checked by the caller
        let start = pos
        var escaped = false
        while true {
            if !escaped {
                // Eight plain ASCII bytes at a time: no quote, backslash, control byte or high bit.
                let ones: UInt64 = 0x0101_0101_0101_0101
                while end - pos >= 8 {
                    let x = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
                    let q = x ^ (ones &* 0x22)
                    let bs = x ^ (ones &* 0x5C)
                    let hits = (((q &- ones) & ~q) | ((bs &- ones) & ~bs) | ((x &- ones &* 0x20) & ~x) | x) & (ones &* 0x80)
                    if hits != 0 {
                        // The lowest flagged byte is always a real hit; jump straight to it.
                        pos += hits.trailingZeroBitCount >> 3
                        break
                    }
                    pos += 8
                }
            }
            guard pos < end else { throw fail("unterminated string") }
            let b = base[pos]
            if b == 0x22 {
                let token = StringToken(start: start, end: pos, escaped: escaped)
                pos += 1
                return token
            }
            if b == 0x5C {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                    scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: pos - start))
                }
                try scanEscape()
                continue
            }
            if b < 0x20 { throw fail("raw control character in string") }
            if b < 0x80 {
                if escaped { scratch.append(b) }
                pos += 1
                continue
            }
            let n = try utf8SequenceLength()
            if escaped { scratch.append(contentsOf: UnsafeBufferPointer(start: base + pos, count: n)) }
            pos += n
        }
    }

    /// Runs `body` on the content bytes of a token (unescaped).
    package func withBytes<R>(_ token: StringToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if token.escaped {
            return scratch.withUnsafeBufferPointer(body)
        }
        return body(UnsafeBufferPointer(start: base + token.start, count: token.end - token.start))
    }

    package func string(_ token: StringToken) -> String {
        withBytes(token) { String(decoding: $0, as: UTF8.self) }
    }

    /// Length of the valid multi-byte UTF-8 sequence at `pos` (first byte >= 0x80).
    private func utf8SequenceLength() throws(JSONSyntaxError) -> Int {
        let b0 = base[pos]
        let n: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; hi = 0x9F
        case 0xF0: n = 4; lo = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; hi = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard end - pos >= n else { throw fail("invalid UTF-8 (truncated sequence)") }
        let b1 = base[pos + 1]
        guard b1 >= lo && b1 <= hi else { throw fail("invalid UTF-8") }
        for i in 2..<n where base[pos + i] & 0xC0 != 0x80 {
            throw fail("invalid UTF-8")
        }
        return n
    }

    private mutating func scanEscape() throws(JSONSyntaxError) {
        // base[pos] == backslash
        guard pos + 1 < end else { throw fail("unterminated escape") }
        let c = base[pos + 1]
        var out: UInt8
        switch c {
        case UInt8(ascii: "\""): out = 0x22
        case UInt8(ascii: "\\"): out = 0x5C
        case UInt8(ascii: "/"): out = 0x2F
        case UInt8(ascii: "b"): out = 0x08
        case UInt8(ascii: "f"): out = 0x0C
        case UInt8(ascii: "n"): out = 0x0A
        case UInt8(ascii: "r"): out = 0x0D
        case UInt8(ascii: "t"): out = 0x09
        case UInt8(ascii: "u"):
            pos += 2
            var scalar = try hex4()
            if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw fail("lone low surrogate escape")
            }
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                guard end - pos >= 2 && base[pos] == 0x5C && base[pos + 1] == UInt8(ascii: "u") else {
                    throw fail("lone high surrogate escape")
                }
                pos += 2
                let low = try hex4()
                guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("high surrogate not followed by a low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            appendUTF8(scalar)
            return
        default:
            throw fail("invalid escape")
        }
        scratch.append(out)
        pos += 2
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard end - pos >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for i in 0..<4 {
            let b = base[pos + i]
            let d: UInt8
            switch b {
            case 0x30...0x39: d = b - 0x30
            case 0x41...0x46: d = b - 0x41 + 10
            case 0x61...0x66: d = b - 0x61 + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        pos += 4
        return v
    }

    private mutating func appendUTF8(_ s: UInt32) {
        switch s {
        case 0..<0x80:
            scratch.append(UInt8(s))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | s >> 6))
            scratch.append(UInt8(0x80 | s & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | s >> 12))
            scratch.append(UInt8(0x80 | s >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | s >> 18))
            scratch.append(UInt8(0x80 | s >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | s >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        }
    }

    // MARK: Numbers

    /// Scans a number per the RFC grammar into an exact decimal.
    package mutating func scanNumber() throws(JSONSyntaxError) -> JSONNumber {
        var n = JSONNumber()
        n.start = pos
        if base[pos] == UInt8(ascii: "-") {
            n.negative = true
            pos += 1
        }
        guard pos < end, base[pos] >= 0x30 && base[pos] <= 0x39 else { throw fail("invalid number") }
        let limit = (UInt64.max - 9) / 10
        if base[pos] == 0x30 {
            pos += 1
            if pos < end && base[pos] >= 0x30 && base[pos] <= 0x39 { throw fail("leading zero in number") }
        } else {
            while pos < end {
                let d = base[pos] &- 0x30
                if d > 9 { break }
                if n.mantissa <= limit {
                    n.mantissa = n.mantissa * 10 + UInt64(d)
                } else {
                    n.exponent += 1  // dropped integer digit; value is huge either way
                }
                pos += 1
            }
        }
        if pos < end && base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < end, base[pos] >= 0x30 && base[pos] <= 0x39 else { throw fail("digit expected after decimal point") }
            while pos < end {
                let d = base[pos] &- 0x30
                if d > 9 { break }
                if n.mantissa <= limit {
                    n.mantissa = n.mantissa * 10 + UInt64(d)
                    n.exponent -= 1
                } else if d != 0 {
                    n.droppedFraction = true
                }
                pos += 1
            }
        }
        if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
            pos += 1
            var negativeExponent = false
            if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) {
                negativeExponent = base[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard pos < end, base[pos] >= 0x30 && base[pos] <= 0x39 else { throw fail("digit expected in exponent") }
            var e = 0
            while pos < end {
                let d = base[pos] &- 0x30
                if d > 9 { break }
                if e < 1_000_000 { e = e * 10 + Int(d) }
                pos += 1
            }
            n.exponent += negativeExponent ? -e : e
        }
        n.end = pos
        return n
    }

    /// The source text of a number, shortened, for error messages.
    package func lexeme(_ n: JSONNumber) -> String {
        let count = min(n.end - n.start, 40)
        let text = String(decoding: UnsafeBufferPointer(start: base + n.start, count: count), as: UTF8.self)
        return count < n.end - n.start ? text + "…" : text
    }

    // MARK: Skipping

    /// Validates and skips one value of any shape, iteratively, so hostile nesting costs no stack.
    /// `depth` is the number of containers already open around the value.
    package mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        var kinds: UInt64 = 0  // bit i set: container at relative level i is an object
        var level = 0
        while true {
            // A value is expected here.
            skipWhitespace()
            guard pos < end else { throw unexpected("a value") }
            let b = base[pos]
            var opened = false
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = b == UInt8(ascii: "{")
                guard depth + level < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
                pos += 1
                if isObject { kinds |= 1 << UInt64(level) } else { kinds &= ~(1 << UInt64(level)) }
                level += 1
                skipWhitespace()
                if peek() == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    pos += 1
                    level -= 1
                } else {
                    if isObject { try skipKeyAndColon() }
                    opened = true
                }
            case UInt8(ascii: "\""): _ = try scanString()
            case UInt8(ascii: "t"): try scanLiteral("true")
            case UInt8(ascii: "f"): try scanLiteral("false")
            case UInt8(ascii: "n"): try scanLiteral("null")
            case UInt8(ascii: "-"), 0x30...0x39: _ = try scanNumber()
            default: throw unexpected("a value")
            }
            if opened { continue }
            // After a value: close containers or move to the next element.
            while true {
                if level == 0 { return }
                skipWhitespace()
                guard pos < end else { throw unexpected("',' or a closing bracket") }
                let c = base[pos]
                let inObject = kinds & (1 << UInt64(level - 1)) != 0
                if c == UInt8(ascii: ",") {
                    pos += 1
                    if inObject {
                        skipWhitespace()
                        try skipKeyAndColon()
                    }
                    break
                }
                if c == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    pos += 1
                    level -= 1
                    continue
                }
                throw unexpected(inObject ? "',' or '}'" : "',' or ']'")
            }
        }
    }

    private mutating func skipKeyAndColon() throws(JSONSyntaxError) {
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("a string key") }
        _ = try scanString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "':'")
    }
}
