import Testing
@testable import MusicModel

/// The canonical event JSON, written with the shared escaper, reads back as the same event.
@Suite struct EventEncoderTests {
    static let trickyStrings: [String] = [
        "plain", "quote \" inside", "back\\slash", "emoji 🎵🇯🇵👩‍👩‍👧", "control \u{0}\u{1}\u{8}\u{C}\u{1B}\u{1F}",
        "newline\n\r\t", "separators \u{2028} \u{2029}", "</script><script>alert('x')</script>", "a & b > c < d",
        "Ñandú ñ", "\u{FFFF}\u{10FFFF}", "\u{E2}\u{80}", "/slash/",
    ]

    @Test func canonicalEventWithTrickyStringsDecodes() throws {
        for text in Self.trickyStrings where !text.allSatisfy(\.isWhitespace) && text.first?.isWhitespace != true
            && text.last?.isWhitespace != true && text.utf8.count <= 256 && !text.isEmpty
        {
            var event = sampleEvent()
            event.title = text
            event.artist = text
            #expect(try EventDecoder.decode(event.canonicalJSON(), origin: nil) == event, "\(text.debugDescription)")
        }
    }
}

/// Ids for events published without one.
@Suite struct UUIDTextTests {
    @Test func randomIdsAreVersion4AndDistinct() {
        let ids = (0..<100).map { _ in UUIDText.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(UUIDText.isValid(id) && id == id.lowercased(), "\(id)")
            let characters = Array(id)
            #expect(characters[14] == "4", "version nibble of \(id)")
            #expect("89ab".contains(characters[19]), "variant of \(id)")
        }
    }
}
