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
        if let (bits, lowercase) = text.withUTF8({ UUIDText.bits($0) }) {
            return (EventIDKey(high: bits.0, low: bits.1, hashed: false), lowercase)
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
}
