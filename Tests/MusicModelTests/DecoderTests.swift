import Testing
@testable import MusicModel

@Suite struct DecoderTests {
    @Test func canonicalRoundTrip() throws {
        let event = sampleEvent()
        let json = event.canonicalJSON()
        let decoded = try EventDecoder.decode(json, origin: nil)
        #expect(decoded == event)
        #expect(decoded.canonicalJSON() == json)
    }

    @Test func canonicalFieldOrder() {
        let text = String(decoding: sampleEvent().canonicalJSON(), as: UTF8.self)
        #expect(text == """
            {"event_id":"3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f","user_id":"u-1","username":"maya.tanaka42",\
            "email":"maya@example.com","track_id":"t-1","title":"Glimpse of Us","artist":"Joji","genre":"Indie",\
            "platform":"Spotify","mood":"Melancholic","city":"Osaka","country":"Japan","duration":233,\
            "listen_position":200,"completed":true,"skipped":false,"rating":4,"timestamp":1700000000123}
            """)
    }

    @Test func decodesHandWrittenCanonical() throws {
        let event = try decode(object(canonicalFields))
        #expect(event == sampleEvent())
        #expect(event.completed && !event.skipped)
    }

    @Test func unsafeBufferEntryPoint() throws {
        let bytes = sampleEvent().canonicalJSON()
        let event = try bytes.withUnsafeBytes { raw throws(EventRejection) in
            try EventDecoder.decode(raw, origin: nil)
        }
        #expect(event == sampleEvent())
    }

    @Test func roundTripWithHostileStrings() throws {
        var event = sampleEvent()
        event.title = "Quote \" back\\slash <script>alert(1)</script> & \u{2028}\u{2029} tab\t nl\n end"
        event.artist = "Beyoncé 🎤 Ñandú"
        event.city = "\u{01}\u{1F}ctrl"
        let decoded = try EventDecoder.decode(event.canonicalJSON(), origin: nil)
        #expect(decoded == event)
    }

    @Test func pythonShape() throws {
        let event = try decode(object(pythonFields), origin: testOrigin)
        #expect(event.username == "jsmith")
        #expect(event.city == "Osaka" && event.country == "Japan")
        #expect(event.duration == 245)
        #expect(event.listenPosition == 80)
        #expect(event.rating == 4)  // 3.7 rounds to 4
        #expect(event.timestamp == 1_700_000_000_000)
        #expect(event.skipped && !event.completed)
        #expect(isUUID(event.eventID))
        #expect(event.eventID == testOrigin.derivedEventID)
    }

    @Test func derivedEventIDIsStable() throws {
        let text = object(pythonFields)
        let a = try decode(text, origin: EventOrigin(topic: "listens", partition: 0, offset: 7))
        let b = try decode(text, origin: EventOrigin(topic: "listens", partition: 0, offset: 7))
        let c = try decode(text, origin: EventOrigin(topic: "listens", partition: 0, offset: 8))
        let d = try decode(text, origin: EventOrigin(topic: "listens", partition: 1, offset: 7))
        let e = try decode(text, origin: EventOrigin(topic: "other", partition: 0, offset: 7))
        #expect(a.eventID == b.eventID)
        #expect(Set([a.eventID, c.eventID, d.eventID, e.eventID]).count == 4)
        for id in [a, c, d, e].map(\.eventID) {
            #expect(isUUID(id))
            let chars = Array(id)
            #expect(chars[14] == "8")  // version nibble
            #expect("89ab".contains(chars[19]))  // RFC variant
        }
        // A fixed value guards against accidental changes to the hash (ids must survive restarts).
        #expect(a.eventID == "7e28c6fc-0ed6-8c83-b650-1195399e64fc")
    }

    @Test func eventIDTakesPrecedenceOverOrigin() throws {
        let fields = setting(pythonFields, "event_id", "\"3F2B8C1E-9D4A-4E7B-8C2D-1A2B3C4D5E6F\"")
        let event = try decode(object(fields), origin: testOrigin)
        #expect(event.eventID == "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f")
    }

    @Test(arguments: [
        ("0", 0), ("0.0", 0), ("0.49", 0), ("0.5", 1), ("2.5", 3), ("2.4999", 2), ("3.7", 4),
        ("4.5", 5), ("5", 5), ("5.0", 5), ("5e0", 5), ("-0", 0), ("-0.0", 0), ("45e-1", 5), ("1", 1),
    ])
    func ratingRounding(text: String, expected: Int) throws {
        let event = try decode(object(setting(pythonFields, "rating", text)), origin: testOrigin)
        #expect(event.rating == expected)
    }

    @Test(arguments: [
        ("1700000000", Int64(1_700_000_000_000)),
        ("1700000000.5", 1_700_000_000_500),
        ("1700000000.1239", 1_700_000_000_123),
        ("1.7e9", 1_700_000_000_000),
        ("1700000000123", 1_700_000_000_123),
        ("1700000000123.0", 1_700_000_000_123),
        ("946684800", 946_684_800_000),
    ])
    func timestampUnits(text: String, expected: Int64) throws {
        let event = try decode(object(setting(pythonFields, "timestamp", text)), origin: testOrigin)
        #expect(event.timestamp == expected)
    }

    @Test func wholeFloatsAreIntegers() throws {
        var fields = setting(pythonFields, "duration_seconds", "245.0")
        fields = setting(fields, "listen_position", "8e1")
        let event = try decode(object(fields), origin: testOrigin)
        #expect(event.duration == 245 && event.listenPosition == 80)
    }

    @Test func optionalBooleansAreIgnored() throws {
        // Input says completed though the position says otherwise: recomputed.
        var fields = setting(pythonFields, "completed", "true")
        fields = setting(fields, "is_skipped", nil)
        fields = setting(fields, "skipped", "true")
        let event = try decode(object(fields), origin: testOrigin)
        #expect(!event.completed)
        let without = try decode(object(setting(setting(pythonFields, "completed", nil), "is_skipped", nil)), origin: testOrigin)
        #expect(without.listenPosition == 80)
    }

    @Test func unknownFieldsIgnored() throws {
        var fields = setting(canonicalFields, "extra", "{\"a\": [1, 2, {\"b\": null}], \"c\": \"d\"}")
        fields = setting(fields, "another", "[[[[]]]]")
        fields = setting(fields, "location2", "-1.5e-3")
        #expect(try decode(object(fields)) == sampleEvent())
    }

    @Test func flatPlaceInPythonShapeAndNestedInCanonical() throws {
        var fields = setting(pythonFields, "location", nil)
        fields = setting(fields, "city", "\"Lagos\"")
        fields = setting(fields, "country", "\"Nigeria\"")
        let flat = try decode(object(fields), origin: testOrigin)
        #expect(flat.city == "Lagos" && flat.country == "Nigeria")

        var nested = setting(canonicalFields, "city", nil)
        nested = setting(nested, "country", nil)
        nested = setting(nested, "location", "{\"country\": \"Japan\", \"zip\": \"530\", \"city\": \"Osaka\"}")
        #expect(try decode(object(nested)) == sampleEvent())
    }

    @Test func stringsAreTrimmed() throws {
        let event = try decode(object(setting(canonicalFields, "genre", "\"  Indie\\n\"")))
        #expect(event.genre == "Indie")
        let unicode = try decode(object(setting(canonicalFields, "genre", "\"\u{3000}Indie\u{00A0}\"")))
        #expect(unicode.genre == "Indie")
    }

    @Test func escapesInKeysAndValues() throws {
        var fields = canonicalFields.filter { $0.key != "title" && $0.key != "artist" }
        fields.append(("\\u0074itle", "\"Caf\\u00e9 \\ud83c\\udfb5 \\\"x\\\" \\/\""))
        fields.append(("art\\u0069st", "\"A\\tB\""))
        let event = try decode(object(fields))
        #expect(event.title == "Café 🎵 \"x\" /")
        #expect(event.artist == "A\tB")
    }

    @Test func whitespaceEverywhere() throws {
        let text = " \n\t{ " + canonicalFields.map { "\r\n\"\($0.key)\" \t:\n \($0.value) " }.joined(separator: " , ") + " }\n "
        #expect(try decode(text) == sampleEvent())
    }

    @Test func positionEqualToDurationIsComplete() throws {
        let event = try decode(object(setting(canonicalFields, "listen_position", "233")))
        #expect(event.completed && event.percentListened == 100)
        let zero = try decode(object(setting(canonicalFields, "listen_position", "0")))
        #expect(zero.skipped && zero.percentListened == 0)
    }
}

@Suite struct TextInternerTests {
    @Test func repeatedTextIsSharedAndDecodesTheSame() throws {
        let interner = TextInterner(slots: 64)
        var simulator = Simulator(seed: 12)
        let events = (0..<200).map { _ in simulator.next(timestamp: 1_764_000_000_000) }
        for event in events {
            let decoded = try EventDecoder.decode(event.canonicalJSON(), origin: nil, interner: interner)
            #expect(decoded == event)
        }
        #expect(interner.hits > 0)
    }

    @Test func collidingAndShortTextStaysCorrect() {
        // One slot: every long text collides; each answer must still be its own text.
        let interner = TextInterner(slots: 1)
        let texts = ["a much longer title one", "a much longer title two", "short", "a much longer title one", "ünïcödé text that is long"]
        for text in texts {
            let bytes = Array(text.utf8)
            let result = bytes.withUnsafeBufferPointer { interner.string($0) }
            #expect(result == text)
        }
        #expect(interner.hits == 0)
        let again = Array("ünïcödé text that is long".utf8).withUnsafeBufferPointer { interner.string($0) }
        #expect(again == "ünïcödé text that is long" && interner.hits == 1)
    }
}
