/// UUID text formatting and validation without Foundation's UUID, so ids can be produced
/// from raw bits (derived or simulated) and checked byte-by-byte on the decode path.
public enum UUIDText {
    private static let hexDigits: StaticString = "0123456789abcdef"

    /// A random (version 4) UUID from the system's generator: the id of an event a client
    /// publishes without one.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return string((generator.next(), generator.next()), version: 4)
    }

    /// Formats 128 bits as 8-4-4-4-12 lowercase hex with the given version nibble and the
    /// RFC 9562 variant bits.
    static func string(_ bits: (UInt64, UInt64), version: UInt8) -> String {
        let hi = (bits.0 & ~0xF000) | (UInt64(version & 0xF) << 12)
        let lo = (bits.1 & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return string(bits: (hi, lo))
    }

    /// Formats 128 bits exactly as they are (no version or variant forced) as 8-4-4-4-12
    /// lowercase hex: the text of an id the window holds as bits.
    static func string(bits: (UInt64, UInt64)) -> String {
        let (hi, lo) = bits
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let h = hexDigits.utf8Start
            var out = 0
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 {
                    buffer[out] = UInt8(ascii: "-")
                    out += 1
                }
                let word = i < 16 ? hi : lo
                let shift = UInt64(60 - (i % 16) * 4)
                buffer[out] = h[Int(word >> shift & 0xF)]
                out += 1
            }
            return 36
        }
    }

    /// Lowercased UUID text if `bytes` is 8-4-4-4-12 hex, else nil.
    static func normalized(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count == 36 else { return nil }
        for i in 0..<36 {
            let b = bytes[i]
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if b != UInt8(ascii: "-") { return nil }
            } else if !((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)) {
                return nil
            }
        }
        return String(unsafeUninitializedCapacity: 36) { buffer in
            for i in 0..<36 {
                let b = bytes[i]
                buffer[i] = (b >= 0x41 && b <= 0x46) ? b + 0x20 : b
            }
            return 36
        }
    }

    static func isValid(_ text: String) -> Bool {
        canonical(text) != nil
    }

    /// The lowercase form of UUID text given in either case, nil for anything else: a client's
    /// id compared with held ones (the decoder stores them lowercase).
    public static func canonical(_ text: String) -> String? {
        var copy = text
        return copy.withUTF8 { normalized($0) }
    }
}
