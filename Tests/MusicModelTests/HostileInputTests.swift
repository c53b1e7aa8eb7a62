import JSON
import Testing
@testable import MusicModel

@Suite struct HostileInputTests {
    @Test func deepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(rejection(deep)?.reason == .notJSON)
        let unbalanced = String(repeating: "[", count: 10_000)
        #expect(rejection(unbalanced)?.reason == .notJSON)
        let inField = object(setting(canonicalFields, "extra", String(repeating: "{\"a\":", count: 10_000)))
        #expect(rejection(inField)?.reason == .notJSON)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func nestingLimitIsExactly32() throws {
        // The event object is level 1, so a field may hold 31 more levels.
        let ok = object(setting(canonicalFields, "extra", String(repeating: "[", count: 31) + String(repeating: "]", count: 31)))
        #expect(try decode(ok) == sampleEvent())
        let tooDeep = object(setting(canonicalFields, "extra", String(repeating: "[", count: 32) + String(repeating: "]", count: 32)))
        #expect(rejection(tooDeep)?.reason == .notJSON)
        #expect(try JSONParser.parse(String(repeating: "[", count: 32) + String(repeating: "]", count: 32)) != .null)
        #expect(throws: JSONSyntaxError.self) {
            try JSONParser.parse(String(repeating: "[", count: 33) + String(repeating: "]", count: 33))
        }
    }

    @Test(arguments: [
        [0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xC3], [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ] as [[UInt8]])
    func invalidUTF8(bad: [UInt8]) {
        let head = Array("{\"title\": \"ab".utf8)
        #expect(rejection(head + bad + Array("\"}".utf8))?.reason == .notJSON)
        // Also in an ignored field and in a key.
        let unknownField = Array(object(setting(canonicalFields, "x", "\"\"")).dropLast(3).utf8)
        #expect(rejection(unknownField + bad + Array("\"}".utf8))?.reason == .notJSON)
        #expect(rejection(Array("{\"".utf8) + bad + Array("\": 1}".utf8))?.reason == .notJSON)
    }

    @Test(arguments: ["\"\\ud83c\"", "\"\\udfb5\"", "\"\\ud83c\\u0041\"", "\"\\ud83cx\"", "\"\\u12\"", "\"\\x41\"", "\"\\u00zz\""])
    func badEscapes(value: String) {
        #expect(rejection(object(setting(canonicalFields, "title", value)))?.reason == .notJSON)
        #expect(rejection(object(setting(canonicalFields, "unknown", value)))?.reason == .notJSON)
    }

    @Test(arguments: [
        "NaN", "Infinity", "-Infinity", "01", "-01", "1.", ".5", "1e", "1e+", "+1", "-", "0x10", "1_000",
        "tru", "nul", "True", "undefined", "'a'",
    ])
    func badLiterals(value: String) {
        #expect(rejection(object(setting(canonicalFields, "rating", value)))?.reason == .notJSON)
        #expect(rejection(object(setting(canonicalFields, "unknown", value)))?.reason == .notJSON)
    }

    @Test func numberEdgeCases() throws {
        // Valid JSON, but out of range for the field.
        #expect(rejection(object(setting(canonicalFields, "duration", "1e400")))?.reason == .outOfRange)
        #expect(rejection(object(setting(canonicalFields, "duration", "1e-400")))?.reason == .wrongType)
        #expect(rejection(object(setting(canonicalFields, "duration", String(repeating: "9", count: 5000))))?.reason == .outOfRange)
        #expect(rejection(object(setting(canonicalFields, "duration", "1e99999999999999999999")))?.reason == .outOfRange)
        #expect(rejection(object(setting(canonicalFields, "duration", "18446744073709551616")))?.reason == .outOfRange)
        #expect(rejection(object(setting(canonicalFields, "timestamp", "9223372036854775808")))?.reason == .outOfRange)
        #expect(rejection(object(setting(canonicalFields, "listen_position", "-9223372036854775808")))?.reason == .outOfRange)
        // -0 is zero; a huge exponent on zero is still zero; long whole decimals are fine.
        #expect(try decode(object(setting(canonicalFields, "listen_position", "-0"))).listenPosition == 0)
        #expect(try decode(object(setting(canonicalFields, "listen_position", "0e999999"))).listenPosition == 0)
        #expect(try decode(object(setting(canonicalFields, "duration", "233.000000000000000000000000"))).duration == 233)
        #expect(rejection(object(setting(canonicalFields, "duration", "233.000000000000000000000001")))?.reason == .wrongType)
        // Ignored fields may hold any valid number.
        #expect(try decode(object(setting(canonicalFields, "x", "-1.5e+400"))) == sampleEvent())
    }

    @Test func structuralGarbage() {
        let good = object(canonicalFields)
        for text in [
            "", " ", "\n\t ", "{", "}", "{\"title\"}", "{\"title\":}", "{\"title\" \"x\"}", "{,}",
            good + "}", good + "{}", good + " 1", String(good.dropLast()) + ",}", "{\"a\":1,,\"b\":2}",
            "[1,]", "{\"a\":[1,2,]}", "{'a': 1}", "{a: 1}", "\u{FEFF}" + good, good + "\u{0}",
            "{\"a\":1}garbage", "{\"a\":[}", "{\"a\":{]}",
        ] {
            #expect(rejection(text)?.reason == .notJSON, "\(text.debugDescription)")
        }
        #expect(rejection([])?.reason == .notJSON)
        #expect(rejection([])?.detail == "payload: empty input")
    }

    @Test func rawControlCharactersInStrings() throws {
        for c in [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] as [UInt8] {
            let bytes = Array("{\"title\": \"a".utf8) + [c] + Array("b\"}".utf8)
            #expect(rejection(bytes)?.reason == .notJSON)
        }
        // DEL is not a control character in JSON's sense.
        #expect(try decode(object(setting(canonicalFields, "title", "\"a\u{7F}b\""))).title == "a\u{7F}b")
    }

    @Test func payloadSizeLimit() throws {
        // 70 KiB is rejected before parsing, even though it is valid JSON.
        let padding = String(repeating: " ", count: 70 * 1024)
        let big = object(canonicalFields) + padding
        #expect(rejection(big)?.reason == .tooLarge)
        #expect(rejection(String(repeating: "x", count: 70 * 1024))?.reason == .tooLarge)
        // Exactly at the limit is still parsed.
        let exact = object(canonicalFields)
        let atLimit = exact + String(repeating: " ", count: EventDecoder.maxPayloadBytes - exact.utf8.count)
        #expect(atLimit.utf8.count == 65_536)
        #expect(try decode(atLimit) == sampleEvent())
    }

    @Test func manyUnknownKeysStayLinear() throws {
        var fields = canonicalFields
        for i in 0..<3000 { fields.append(("k\(i)", "0")) }
        #expect(try decode(object(fields)) == sampleEvent())
    }

    @Test func truncatedCanonicalNeverCrashes() {
        let bytes = sampleEvent().canonicalJSON()
        for n in 0..<bytes.count {
            #expect(rejection(Array(bytes[0..<n]))?.reason == .notJSON)
        }
    }

    @Test func randomMutationsNeverCrash() {
        // Every single-byte substitution of a valid event either decodes or is rejected cleanly.
        var rng = SplitMix64(seed: 99)
        let base = Array(object(pythonFields).utf8)
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<(1 + rng.below(3)) {
                bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let event = try? EventDecoder.decode(bytes, origin: testOrigin) {
                #expect(event.duration > 0 && (0...5).contains(event.rating))
            }
        }
    }
}
