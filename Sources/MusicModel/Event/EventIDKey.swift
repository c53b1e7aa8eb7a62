/// An event_id as 128 bits, so the window's duplicate index hashes two words rather than 36
/// characters per lookup (three lookups per event on the ingest path).
///
/// The decoder admits only UUIDs, which map exactly. Any other text (events built in code) maps
/// to a 128-bit hash of its bytes, where a collision is as unlikely as a UUID clash.
struct EventIDKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64
    /// True when the bits are a hash of non-UUID text, so they never equal a parsed UUID.
    let hashed: Bool

    init(_ id: String) {
        self = Self.parse(id).key
    }

    /// The key of `id`, and whether `id` is exactly the text the key's bits give back (a
    /// lowercase UUID, as the decoder stores them), so that the window need not keep the text.
    static func parse(_ id: String) -> (key: EventIDKey, canonical: Bool) {
        var text = id
        if let (key, lowercase) = text.withUTF8({ EventIDKey.parseUUID($0) }) {
            return (key, lowercase)
        } else {
            var h1: UInt64 = 0xcbf2_9ce4_8422_2325
            var h2: UInt64 = 0x8422_2325_cbf2_9ce4
            for byte in id.utf8 {
                h1 = (h1 ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                h2 = (h2 ^ UInt64(byte)) &* 0x9e37_79b9_7f4a_7c15
            }
            return (EventIDKey(high: h1, low: h2, hashed: true), false)
        }
    }

    init(high: UInt64, low: UInt64, hashed: Bool) {
        self.high = high
        self.low = low
        self.hashed = hashed
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(mixed)
    }

    /// The bits folded into one well-spread word: the window's id index probes by it.
    @inline(__always)
    var mixed: UInt64 {
        let folded = (high ^ (low &* 0x9e37_79b9_7f4a_7c15)) &* 0xff51_afd7_ed55_8ccd
        return folded ^ (folded >> 33)
    }

    /// The lowercase 8-4-4-4-12 text of a parsed UUID (what the decoder stores); nil for hashed
    /// bits, whose text cannot be recovered.
    var uuidText: String? {
        hashed ? nil : UUIDText.string(bits: (high, low))
    }

    /// 8-4-4-4-12 hex digits, either case; with whether all were lowercase.
    ///
    /// This runs for every listen on the loop thread (the window's duplicate check), where a
    /// switch per character was a seventh of the ingest work: each digit is one table lookup
    /// (`hexDigits`), and validity and case are decided once, from the bits of all of them.
    private static func parseUUID(_ bytes: UnsafeBufferPointer<UInt8>) -> (EventIDKey, Bool)? {
        guard bytes.count == 36, bytes[8] == dash, bytes[13] == dash, bytes[18] == dash, bytes[23] == dash else {
            return nil
        }
        return hexDigits.withUnsafeBufferPointer { table in
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
            guard seen & HexDigit.invalid == 0 else { return nil }
            return (EventIDKey(high: high, low: low, hashed: false), seen & HexDigit.uppercase == 0)
        }
    }

    private static let dash = UInt8(ascii: "-")

    /// Flags in `hexDigits` above a digit's value.
    private enum HexDigit {
        static let uppercase: UInt8 = 0x10
        static let invalid: UInt8 = 0x80
    }

    /// By byte: the hex digit's value, with `HexDigit.uppercase` for A-F; `HexDigit.invalid` for
    /// anything else.
    private static let hexDigits: [UInt8] = (0...255).map { (byte: Int) -> UInt8 in
        switch byte {
        case 0x30...0x39: UInt8(byte - 0x30)
        case 0x61...0x66: UInt8(byte - 0x61 + 10)
        case 0x41...0x46: UInt8(byte - 0x41 + 10) | HexDigit.uppercase
        default: HexDigit.invalid
        }
    }
}
