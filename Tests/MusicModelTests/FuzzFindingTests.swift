import Testing
@testable import MusicModel

/// Inputs found by the fuzz targets in Fuzz/ (scripts/fuzz), kept as regression tests.
@Suite struct FuzzFindingTests {
    /// The decoder target once required values to have no whitespace character at either end, by
    /// grapheme cluster; the decoder trims by scalar, and a space carrying a combining mark
    /// (U+1035) is one cluster whose mark is content. The value keeps it, and round-trips.
    @Test func spaceWithCombiningMarkEndsAValue() throws {
        let text = object(setting(canonicalFields, "username", "\"\\t x \\u1035\""))
        let event = try decode(text)
        #expect(event.username == "x \u{1035}")
        #expect(event.username.unicodeScalars.last?.properties.isWhitespace == false)
        #expect(try EventDecoder.decode(event.canonicalJSON(), origin: nil) == event)
    }
}
