import Testing
@testable import MusicModel

/// Rejection details end up in the server's log, one line each; text from a record must not be
/// able to end that line and start a forged one.
@Suite struct EchoedTextTests {
    @Test func duplicateKeyWithEscapedNewlineStaysOnOneLine() {
        let key = "k\\n2030-01-01T00:00:00.000Z error forged"
        let text = "{\"\(key)\": 1, \"\(key)\": 2}"
        let r = rejection(text)
        #expect(r?.reason == .invalidValue)
        #expect(r?.detail == "k\\n2030-01-01T00:00:00.000Z error forged: duplicate key")
        #expect(r?.detail.contains("\n") == false)
    }

    @Test func nestedDuplicateKeyIsEscapedToo() {
        let location = "{\"city\": \"Osaka\", \"country\": \"Japan\", \"z\\r\\u001b[2J\": 1, \"z\\r\\u001b[2J\": 2}"
        let r = rejection(object(setting(pythonFields, "location", location)), origin: testOrigin)
        #expect(r?.detail == "location.z\\r\\u001b[2J: duplicate key")
    }

    @Test func controlCharactersAndLineSeparatorsAreEscaped() {
        let input = "a\u{0}b\u{7}c\td\u{7F}e\u{85}f\u{2028}g\u{2029}h"
        #expect(EchoedText.render(Array(input.utf8)) == "a\\u0000b\\u0007c\\td\\u007fe\\u0085f\\u2028g\\u2029h")
        #expect(EchoedText.render(Array("Beyoncé 🎤".utf8)) == "Beyoncé 🎤")
    }

    @Test func longTextIsCutByScalarsNotBytes() {
        let long = String(repeating: "é", count: 100)
        let rendered = EchoedText.render(Array(long.utf8), limit: 64)
        #expect(rendered == String(repeating: "é", count: 64) + "…")
        #expect(!rendered.unicodeScalars.contains("\u{FFFD}"))
    }
}
