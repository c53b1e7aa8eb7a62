/// A deterministic 128-bit hash (two differently seeded FNV-1a lanes, each finished with a
/// SplitMix64 mix). Swift's Hasher is randomly seeded per process, so ids derived from it would
/// change on restart; this one never does.
struct StableHash {
    private var a: UInt64 = 0xCBF2_9CE4_8422_2325
    private var b: UInt64 = 0x6C62_272E_07BB_0142
    private static let prime: UInt64 = 0x0000_0100_0000_01B3

    @inline(__always)
    mutating func add(byte: UInt8) {
        a = (a ^ UInt64(byte)) &* Self.prime
        b = (b ^ UInt64(byte ^ 0x5A)) &* Self.prime
    }

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { add(byte: byte) }
        // Length-delimit so ("ab","c") and ("a","bc") differ.
        add(byte: 0xFF)
    }

    mutating func add(_ string: String) {
        add(string.utf8)
    }

    mutating func add(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            add(byte: UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    func finish() -> (UInt64, UInt64) {
        (SplitMix64.mix(a), SplitMix64.mix(b &+ 0x9E37_79B9_7F4A_7C15))
    }
}
