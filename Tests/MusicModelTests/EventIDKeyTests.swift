import Testing
@testable import MusicModel

@Suite struct EventIDKeyTests {
    /// What a UUID's text stands for, written independently of the parser: the 32 digits read
    /// by `UInt64(_:radix:)`, after checking the dashes and that every other byte is an ASCII
    /// hex digit; nil for anything else.
    func oracle(_ text: String) -> (high: UInt64, low: UInt64, lowercase: Bool)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return nil }
        var digits = ""
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard byte < 0x80, Character(Unicode.Scalar(byte)).isHexDigit else { return nil }
            digits.append(Character(Unicode.Scalar(byte)))
        }
        guard let high = UInt64(digits.prefix(16), radix: 16), let low = UInt64(digits.suffix(16), radix: 16) else {
            return nil
        }
        return (high, low, digits == digits.lowercased())
    }

    func check(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let (key, canonical) = EventIDKey.parse(text)
        if let expected = oracle(text) {
            #expect(!key.hashed && key.high == expected.high && key.low == expected.low, "\(text.debugDescription)",
                    sourceLocation: sourceLocation)
            #expect(canonical == expected.lowercase, "\(text.debugDescription)", sourceLocation: sourceLocation)
            #expect(key.uuidText == text.lowercased(), sourceLocation: sourceLocation)
        } else {
            #expect(key.hashed && !canonical, "\(text.debugDescription)", sourceLocation: sourceLocation)
        }
    }

    @Test func uuidsInEveryCaseParseToTheirBits() {
        var rng = SplitMix64(seed: 61)
        for _ in 0..<2_000 {
            let lower = UUIDText.string(bits: (rng.next(), rng.next()))
            check(lower)
            check(lower.uppercased())
            // Mixed: every other letter upper-cased.
            check(String(lower.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element }))
        }
    }

    /// Every byte value at every position of a UUID (a dash where a digit belongs, a digit
    /// where a dash belongs, letters past f, bytes of other characters), and other lengths.
    @Test func anythingElseIsHashedNeverMistakenForAUUID() {
        let base = Array(UUIDText.string(bits: (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)).utf8)
        for position in base.indices {
            for byte in UInt8.min...UInt8.max {
                var bytes = base
                bytes[position] = byte
                check(String(decoding: bytes, as: UTF8.self))
            }
        }
        let text = String(decoding: base, as: UTF8.self)
        for other in [String(text.dropLast()), text + "0", "", "-", String(repeating: "0", count: 36), " " + text.dropLast()] {
            check(other)
        }
        // The same text always maps to the same key; different non-UUID texts to different ones.
        #expect(EventIDKey("listen-1") == EventIDKey("listen-1"))
        #expect(EventIDKey("listen-1") != EventIDKey("listen-2"))
    }
}
