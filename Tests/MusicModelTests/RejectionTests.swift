import Testing
@testable import MusicModel

@Suite struct RejectionTests {
    /// One input per reason; the detail must name the field (or "payload").
    @Test(arguments: [
        (RejectionReason.tooLarge, [UInt8](repeating: 0x20, count: 65_537), "payload"),
        (.notJSON, Array("{\"title\": }".utf8), "payload"),
        (.notObject, Array("[1, 2]".utf8), "payload"),
        (.missingField, Array(object(setting(canonicalFields, "mood", nil)).utf8), "mood"),
        (.wrongType, Array(object(setting(canonicalFields, "duration", "\"233\"")).utf8), "duration"),
        (.outOfRange, Array(object(setting(canonicalFields, "rating", "7")).utf8), "rating"),
        (.stringTooLong, Array(object(setting(canonicalFields, "artist", "\"" + String(repeating: "a", count: 257) + "\"")).utf8), "artist"),
        (.invalidValue, Array(object(setting(canonicalFields, "event_id", "\"not-a-uuid\"")).utf8), "event_id"),
    ])
    func everyReason(reason: RejectionReason, input: [UInt8], field: String) {
        let r = rejection(input)
        #expect(r?.reason == reason)
        #expect(r?.detail.hasPrefix(field + ":") == true, "\(String(describing: r))")
    }

    @Test func allReasonsCovered() {
        #expect(RejectionReason.allCases.count == 9)
        #expect(RejectionReason.allCases.map(\.rawValue) == [
            "too_large", "not_json", "not_object", "missing_field", "wrong_type", "out_of_range",
            "string_too_long", "invalid_value", "in_future",
        ])
    }

    /// A listen dated past the bound (its record's time plus the allowed skew) is `in_future`;
    /// at the bound it is kept. The bound follows the record's time, not the reader's clock,
    /// unless the record itself is dated ahead of now.
    @Test func listensDatedAheadOfTheirRecordAreRejected() throws {
        let bound = FutureDateBound(maxSkewSeconds: 300)
        let written: Int64 = 1_764_900_000_000
        let latest = bound.latest(recordTimestamp: written, now: written + 3_600_000)
        #expect(latest == written + 300_000, "judged by the record's time, an hour after it was written")
        #expect(bound.latest(recordTimestamp: written + 86_400_000, now: written) == written + 300_000,
                "a record dated ahead of now is judged by now")
        #expect(bound.latest(recordTimestamp: nil, now: written) == written + 300_000)

        func dated(_ timestamp: Int64) -> [UInt8] {
            Array(object(setting(canonicalFields, "timestamp", String(timestamp))).utf8)
        }
        let kept = try EventDecoder.decode(dated(latest), origin: nil, latest: latest)
        #expect(kept.timestamp == latest)
        do {
            _ = try EventDecoder.decode(dated(latest + 1), origin: nil, latest: latest)
            Issue.record("a listen 1 ms past the bound was accepted")
        } catch {
            #expect(error.reason == .inFuture)
            #expect(error.detail.hasPrefix("timestamp:"))
        }
        // The year 2100 is inside the decoder's fixed range but far past any bound.
        let year2100: Int64 = 4_102_444_800_000
        #expect((try? EventDecoder.decode(dated(year2100), origin: nil)) != nil, "no bound given: only the fixed range applies")
        #expect((try? EventDecoder.decode(dated(year2100), origin: nil, latest: latest)) == nil)
    }

    @Test func ratingDetailText() {
        let r = rejection(object(setting(canonicalFields, "rating", "7")))
        #expect(r == EventRejection(reason: .outOfRange, detail: "rating: 7 is outside 0...5"))
        #expect(r?.description == "out_of_range: rating: 7 is outside 0...5")
    }

    @Test(arguments: [
        "event_id", "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform",
        "mood", "city", "country", "duration", "listen_position", "rating", "timestamp",
    ])
    func missingEachRequiredField(field: String) {
        let r = rejection(object(setting(canonicalFields, field, nil)))
        #expect(r?.reason == .missingField)
        #expect(r?.detail.hasPrefix(field + ":") == true)
    }

    @Test func missingEventIDIsFineWithOrigin() throws {
        let event = try decode(object(setting(canonicalFields, "event_id", nil)), origin: testOrigin)
        #expect(event.eventID == testOrigin.derivedEventID)
        #expect(rejection(object(pythonFields))?.reason == .missingField)
    }

    @Test(arguments: [
        ("title", "42"), ("title", "null"), ("title", "true"), ("title", "[]"), ("title", "{}"),
        ("duration", "\"233\""), ("duration", "233.5"), ("listen_position", "1.5"), ("rating", "\"4\""),
        ("rating", "null"), ("timestamp", "\"2024-01-01\""), ("timestamp", "1700000000123.5"),
        ("completed", "\"yes\""), ("skipped", "1"), ("is_skipped", "null"), ("location", "\"Osaka\""),
        ("event_id", "12"),
    ])
    func wrongTypes(field: String, value: String) {
        let base = field == "location" ? pythonFields : canonicalFields
        let r = rejection(object(setting(base, field, value)), origin: testOrigin)
        #expect(r?.reason == .wrongType, "\(field)=\(value): \(String(describing: r))")
        #expect(r?.detail.hasPrefix(field + ":") == true)
    }

    @Test(arguments: [
        ("rating", "6"), ("rating", "-1"), ("rating", "5.01"), ("rating", "-0.2"), ("rating", "5.4"),
        ("duration", "0"), ("duration", "-5"), ("duration", "86401"), ("listen_position", "-1"),
        ("listen_position", "234"), ("timestamp", "0"), ("timestamp", "-1700000000"),
        ("timestamp", "946684799"), ("timestamp", "4133980800000"), ("timestamp", "99999999999"),
        ("duration", "99999999999999999999999"), ("rating", "1e400"), ("timestamp", "1e400"),
        ("duration", "1e19"), ("listen_position", "-9223372036854775809"),
    ])
    func outOfRange(field: String, value: String) {
        let r = rejection(object(setting(canonicalFields, field, value)))
        #expect(r?.reason == .outOfRange, "\(field)=\(value): \(String(describing: r))")
        #expect(r?.detail.hasPrefix(field + ":") == true, "\(String(describing: r))")
    }

    @Test func positionBeyondDurationNamesBoth() {
        let r = rejection(object(setting(canonicalFields, "listen_position", "300")))
        #expect(r == EventRejection(reason: .outOfRange, detail: "listen_position: 300 is beyond duration 233"))
    }

    @Test func stringLimitIsInBytes() throws {
        let ok = String(repeating: "é", count: 128)  // 256 bytes
        #expect(try decode(object(setting(canonicalFields, "title", "\"\(ok)\""))).title == ok)
        let r = rejection(object(setting(canonicalFields, "title", "\"\(ok)a\"")))
        #expect(r?.reason == .stringTooLong && r?.detail.hasPrefix("title:") == true)
        // Escapes count after unescaping: 200 × "\u00e9" is 1200 input bytes but 400 decoded bytes.
        let escaped = String(repeating: "\\u00e9", count: 200)
        #expect(rejection(object(setting(canonicalFields, "title", "\"\(escaped)\"")))?.reason == .stringTooLong)
        let unknown = String(repeating: "x", count: 1000)
        #expect(try decode(object(setting(canonicalFields, "comment", "\"\(unknown)\""))) == sampleEvent())
    }

    @Test(arguments: ["\"\"", "\"   \"", "\"\\n\\t\"", "\"\u{00A0}\u{3000}\""])
    func emptyStrings(value: String) {
        let r = rejection(object(setting(canonicalFields, "genre", value)))
        #expect(r == EventRejection(reason: .invalidValue, detail: "genre: must not be empty"))
    }

    @Test(arguments: [
        "3f2b8c1e9d4a4e7b8c2d1a2b3c4d5e6f", "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6", "{3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f}",
        "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6g", "3f2b8c1e_9d4a-4e7b-8c2d-1a2b3c4d5e6f", "",
    ])
    func badEventIDs(id: String) {
        let r = rejection(object(setting(canonicalFields, "event_id", "\"\(id)\"")), origin: testOrigin)
        #expect(r?.reason == .invalidValue && r?.detail.hasPrefix("event_id:") == true)
    }

    @Test func duplicateKeys() {
        var fields = canonicalFields
        fields.append(("genre", "\"Pop\""))
        #expect(rejection(object(fields)) == EventRejection(reason: .invalidValue, detail: "genre: duplicate key"))

        var unknown = canonicalFields
        unknown.append(("extra", "1"))
        unknown.append(("extra", "2"))
        #expect(rejection(object(unknown)) == EventRejection(reason: .invalidValue, detail: "extra: duplicate key"))

        // Same key written differently is still the same key.
        var escaped = canonicalFields
        escaped.append(("g\\u0065nre", "\"Pop\""))
        #expect(rejection(object(escaped))?.reason == .invalidValue)

        let nested = setting(pythonFields, "location", "{\"city\": \"Osaka\", \"city\": \"Kyoto\", \"country\": \"Japan\"}")
        #expect(rejection(object(nested), origin: testOrigin)?.detail == "location.city: duplicate key")
    }

    @Test func aliasesGivenTwice() {
        let names = setting(pythonFields, "username", "\"jsmith\"")
        #expect(rejection(object(names), origin: testOrigin)?.detail == "username: given as both username and name")
        let durations = setting(pythonFields, "duration", "245")
        #expect(rejection(object(durations), origin: testOrigin)?.reason == .invalidValue)
        let places = setting(pythonFields, "city", "\"Osaka\"")
        #expect(rejection(object(places), origin: testOrigin)?.detail.hasPrefix("location:") == true)
    }

    @Test func syntaxErrorWinsOverSemanticError() {
        // The rating is wrong, but the document is not even JSON.
        let text = object(setting(canonicalFields, "rating", "7")) + " x"
        #expect(rejection(text)?.reason == .notJSON)
    }

    @Test(arguments: ["42", "\"event\"", "null", "true", "[]", " [ {} ] "])
    func notObjects(text: String) {
        #expect(rejection(text)?.reason == .notObject)
    }
}
