import MusicModel
import Testing
@testable import History

@Suite struct HistoryCursorEncodingTests {
    private func token(_ text: String) -> String {
        Base64URL.encode(Array(text.utf8))
    }

    @Test func roundTrip() {
        let cursors = [
            HistoryCursor(timestamp: 1_700_000_000_123, eventID: "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f"),
            HistoryCursor(timestamp: 0, eventID: "a"),
            HistoryCursor(timestamp: 9_999_999_999_999, eventID: String(repeating: "~", count: 64)),
            HistoryCursor(timestamp: 5, eventID: "with:colons:inside"),
        ]
        for cursor in cursors {
            let encoded = cursor.encoded
            #expect(encoded.utf8.allSatisfy { $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") })
            #expect(HistoryCursor(decoding: encoded) == cursor)
        }
        #expect(HistoryCursor(timestamp: 12, eventID: "ab").encoded == token("12:ab"))
        #expect(HistoryCursor(decoding: "MTI6Pz8-") == HistoryCursor(timestamp: 12, eventID: "??>"))
    }

    @Test func rejectsGarbage() {
        let garbage = [
            "",
            "!!!!",
            "a",  // impossible base64 length
            token("12:ab") + "=",  // padding
            "MTI6Pz8+",  // "12:??>" in the standard alphabet, not base64url
            "MTI6YW",  // "12:a" with non-zero trailing bits
            token("12ab"),  // no colon
            token(":ab"),  // no timestamp
            token("12:"),  // no event_id
            token("-1:ab"),
            token("+1:ab"),
            token("1x:ab"),
            token(" 12:ab"),
            token("012:ab"),  // leading zero: one spelling per cursor
            token("10000000000000:ab"),  // 14 digits
            token("99999999999999999999999:ab"),  // beyond Int64
            token("12:" + String(repeating: "a", count: 65)),
            token("12:a b"),
            token("12:a\u{0}"),
            token("12:ab\n"),
            token("12:é"),
            token("12:\u{7F}"),
            String(repeating: "A", count: 400),
        ]
        for text in garbage {
            #expect(HistoryCursor(decoding: text) == nil, "\(text)")
        }
    }

    @Test func invalidCursorsDoNotRoundTrip() {
        #expect(HistoryCursor(decoding: HistoryCursor(timestamp: -5, eventID: "a").encoded) == nil)
        #expect(HistoryCursor(decoding: HistoryCursor(timestamp: 5, eventID: "").encoded) == nil)
    }
}
