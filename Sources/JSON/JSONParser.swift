/// Strict general-purpose JSON parser built on the same scanner as the event decoder.
/// Duplicate object keys and numbers outside Double's range are rejected.
public enum JSONParser {
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else {
                return .failure(JSONSyntaxError(offset: 0, message: "empty input"))
            }
            var scanner = JSONScanner(base: base, count: buffer.count)
            do throws(JSONSyntaxError) {
                let value = try parseValue(&scanner, depth: 0)
                try scanner.expectEnd()
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Internal so `EventSubmission` can read a top-level object member by member.
    package static func parseValue(_ s: inout JSONScanner, depth: Int) throws(JSONSyntaxError) -> JSONValue {
        s.skipWhitespace()
        guard let b = s.peek() else { throw s.unexpected("a value") }
        switch b {
        case UInt8(ascii: "{"):
            guard depth < JSONScanner.maxDepth else { throw s.fail("nesting deeper than \(JSONScanner.maxDepth)") }
            s.pos += 1
            var members: [String: JSONValue] = [:]
            s.skipWhitespace()
            if s.peek() == UInt8(ascii: "}") {
                s.pos += 1
                return .object(members)
            }
            while true {
                s.skipWhitespace()
                guard s.peek() == UInt8(ascii: "\"") else { throw s.unexpected("a string key") }
                let keyOffset = s.pos
                let keyToken = try s.scanString()
                let key = s.string(keyToken)
                s.skipWhitespace()
                try s.expect(UInt8(ascii: ":"), "':'")
                let value = try parseValue(&s, depth: depth + 1)
                if members.updateValue(value, forKey: key) != nil {
                    throw JSONSyntaxError(offset: keyOffset, message: "duplicate key")
                }
                s.skipWhitespace()
                guard let c = s.peek() else { throw s.unexpected("',' or '}'") }
                s.pos += 1
                if c == UInt8(ascii: "}") { return .object(members) }
                if c != UInt8(ascii: ",") {
                    s.pos -= 1
                    throw s.unexpected("',' or '}'")
                }
            }
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maxDepth else { throw s.fail("nesting deeper than \(JSONScanner.maxDepth)") }
            s.pos += 1
            var elements: [JSONValue] = []
            s.skipWhitespace()
            if s.peek() == UInt8(ascii: "]") {
                s.pos += 1
                return .array(elements)
            }
            while true {
                elements.append(try parseValue(&s, depth: depth + 1))
                s.skipWhitespace()
                guard let c = s.peek() else { throw s.unexpected("',' or ']'") }
                s.pos += 1
                if c == UInt8(ascii: "]") { return .array(elements) }
                if c != UInt8(ascii: ",") {
                    s.pos -= 1
                    throw s.unexpected("',' or ']'")
                }
            }
        case UInt8(ascii: "\""):
            // Scan first: `s.string(try s.scanString())` would read `s` before the scan mutates it.
            let token = try s.scanString()
            return .string(s.string(token))
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try s.scanBool())
        case UInt8(ascii: "n"):
            try s.scanLiteral("null")
            return .null
        case UInt8(ascii: "-"), 0x30...0x39:
            let n = try s.scanNumber()
            let text = String(decoding: UnsafeBufferPointer(start: s.base + n.start, count: n.end - n.start), as: UTF8.self)
            guard let d = Double(text), d.isFinite else {
                throw JSONSyntaxError(offset: n.start, message: "number out of range")
            }
            return .number(d)
        default:
            throw s.unexpected("a value")
        }
    }
}
