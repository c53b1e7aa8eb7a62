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
    private static func parseUUID(_ bytes: UnsafeBufferPointer<UInt8>) -> (EventIDKey, Bool)? {
        guard bytes.count == 36 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var digits = 0
        var lowercase = true
        for i in 0..<36 {
            let b = bytes[i]
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard b == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            switch b {
            case 0x30...0x39: nibble = b - 0x30
            case 0x61...0x66: nibble = b - 0x61 + 10
            case 0x41...0x46:
                nibble = b - 0x41 + 10
                lowercase = false
            default: return nil
            }
            if digits < 16 { words.0 = words.0 << 4 | UInt64(nibble) } else { words.1 = words.1 << 4 | UInt64(nibble) }
            digits += 1
        }
        return (EventIDKey(high: words.0, low: words.1, hashed: false), lowercase)
    }
}
