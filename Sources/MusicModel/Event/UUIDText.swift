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

    /// The 128 bits of 8-4-4-4-12 hex digits in either case (the inverse of `string(bits:)`),
    /// with whether all were lowercase; nil for anything else.
    ///
    /// This runs for every listen on the loop thread (the window's duplicate check), where a
    /// switch per character was a seventh of the ingest work: each digit is one table lookup
    /// (`digitValues`), and validity and case are decided once, from the bits of all of them.
    static func bits(_ bytes: UnsafeBufferPointer<UInt8>) -> (bits: (UInt64, UInt64), lowercase: Bool)? {
        let dash = UInt8(ascii: "-")
        guard bytes.count == 36, bytes[8] == dash, bytes[13] == dash, bytes[18] == dash, bytes[23] == dash else {
            return nil
        }
        return digitValues.withUnsafeBufferPointer { table in
            var seen: UInt8 = 0
            @inline(__always) func digits(_ range: Range<Int>, into word: inout UInt64) {
                for i in range {
                    let value = table[Int(bytes[i])]
                    seen |= value
                    word = word << 4 | UInt64(value & 0x0F)
                }
            }
            var high: UInt64 = 0
            var low: UInt64 = 0
            digits(0..<8, into: &high)
            digits(9..<13, into: &high)
            digits(14..<18, into: &high)
            digits(19..<23, into: &low)
            digits(24..<36, into: &low)
            guard seen & DigitFlag.invalid == 0 else { return nil }
            return ((high, low), seen & DigitFlag.uppercase == 0)
        }
    }

    /// Flags in `digitValues` above a digit's value.
    private enum DigitFlag {
        static let uppercase: UInt8 = 0x10
        static let invalid: UInt8 = 0x80
    }

    /// By byte: the hex digit's value, with `DigitFlag.uppercase` for A-F; `DigitFlag.invalid`
    /// for anything else.
    private static let digitValues: [UInt8] = (0...255).map { (byte: Int) -> UInt8 in
        switch byte {
        case 0x30...0x39: UInt8(byte - 0x30)
        case 0x61...0x66: UInt8(byte - 0x61 + 10)
        case 0x41...0x46: UInt8(byte - 0x41 + 10) | DigitFlag.uppercase
        default: DigitFlag.invalid
        }
    }

    /// Lowercased UUID text if `bytes` is 8-4-4-4-12 hex, else nil; eight bytes a step (both
    /// decoders check every event_id with it).
    static func normalized(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count == 36, let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        func word(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        // The dashes are bytes 8 and 13 (the second word's 0 and 5) and 18 and 23 (the third's 2 and 7).
        let dashes1: UInt64 = 0xFF | 0xFF << 40
        let dashes2: UInt64 = 0xFF << 16 | 0xFF << 56
        let dash: UInt64 = 0x2D2D_2D2D_2D2D_2D2D
        let zero: UInt64 = 0x3030_3030_3030_3030
        let words = (word(0), word(8), word(16), word(24), word(28))
        guard words.1 & dashes1 == dash & dashes1, words.2 & dashes2 == dash & dashes2,
              let letters0 = hexLetters(words.0),
              let letters1 = hexLetters(words.1 & ~dashes1 | zero & dashes1),
              let letters2 = hexLetters(words.2 & ~dashes2 | zero & dashes2),
              let letters3 = hexLetters(words.3),
              let letters4 = hexLetters(words.4)
        else { return nil }
        // A letter's 0x80 flag shifted to 0x20 lowercases it.
        let lowered = (words.0 | letters0 >> 2, words.1 | letters1 >> 2, words.2 | letters2 >> 2,
                       words.3 | letters3 >> 2, words.4 | letters4 >> 2)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let out = UnsafeMutableRawBufferPointer(buffer)
            out.storeBytes(of: lowered.0.littleEndian, toByteOffset: 0, as: UInt64.self)
            out.storeBytes(of: lowered.1.littleEndian, toByteOffset: 8, as: UInt64.self)
            out.storeBytes(of: lowered.2.littleEndian, toByteOffset: 16, as: UInt64.self)
            out.storeBytes(of: lowered.3.littleEndian, toByteOffset: 24, as: UInt64.self)
            out.storeBytes(of: lowered.4.littleEndian, toByteOffset: 28, as: UInt64.self)
            return 36
        }
    }

    /// When all eight bytes are hex digits, 0x80 in each byte that is a letter (either case),
    /// else nil. Bytes below 0x80 plus at most 0x50 never carry into the next byte.
    @inline(__always)
    private static func hexLetters(_ x: UInt64) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high = ones &* 0x80
        guard x & high == 0 else { return nil }
        let digit = (x &+ ones &* 0x50) & ~(x &+ ones &* 0x46)          // 0x30...0x39
        let lower = x | ones &* 0x20
        let letter = (lower &+ ones &* 0x1F) & ~(lower &+ ones &* 0x19)  // 0x61...0x66 once lowered
        guard (digit | letter) & high == high else { return nil }
        return letter & high
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
