/// Our own %XX decoder: evhttp_decode_uri silently keeps malformed escapes, and we
/// want to reject them (400 for paths, QueryStringError for queries).
enum PercentDecoding {
    /// Decoded bytes, or nil when a '%' is not followed by two hex digits.
    static func decode<C: Collection<UInt8>>(_ input: C, plusAsSpace: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = input.startIndex
        while i != input.endIndex {
            let byte = input[i]
            if byte == UInt8(ascii: "%") {
                let h = input.index(after: i)
                guard h != input.endIndex else { return nil }
                let l = input.index(after: h)
                guard l != input.endIndex, let hi = hexValue(input[h]), let lo = hexValue(input[l]) else {
                    return nil
                }
                out.append(hi << 4 | lo)
                i = input.index(after: l)
                continue
            }
            out.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            i = input.index(after: i)
        }
        return out
    }

    /// A decoded request path: nil for bad escapes, NUL bytes or invalid UTF-8.
    static func decodePath(_ raw: String) -> String? {
        guard let bytes = decode(raw.utf8, plusAsSpace: false), !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
