import JSON
import Testing

@Suite struct JSONWriterTests {
    /// Strings that need escaping, or look as if they might; the event encoder tests reuse them.
    static let tricky: [String] = [
        "", "plain", "quote \" inside", "back\\slash", "emoji 🎵🇯🇵👩‍👩‍👧", "control \u{0}\u{1}\u{8}\u{C}\u{1B}\u{1F}",
        "newline\n\r\t", "separators \u{2028} \u{2029}", "</script><script>alert('x')</script>", "a & b > c < d",
        "Ñandú ñ", "\u{FFFF}\u{10FFFF}", "\u{E2}\u{80}", "/slash/",
    ]

    @Test(arguments: tricky)
    func stringRoundTrips(text: String) throws {
        var w = JSONWriter()
        w.string(text)
        #expect(try JSONParser.parse(w.bytes) == .string(text))
        let out = String(decoding: w.bytes, as: UTF8.self)
        #expect(!out.contains("<") && !out.contains(">") && !out.contains("&"))
        #expect(!out.contains("\u{2028}") && !out.contains("\u{2029}"))
        #expect(!w.bytes.contains { $0 < 0x20 })
    }

    @Test func escapeForms() {
        var w = JSONWriter()
        w.string("\"\\\n\r\t\u{8}\u{C}\u{1}<>&\u{2028}\u{2029}é")
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == #""\"\\\n\r\t\b\f\u0001\u003c\u003e\u0026\u2028\u2029é""#)
    }

    @Test func structureAndCommas() throws {
        var w = JSONWriter(capacity: 16)
        w.beginObject()
        w.key("a"); w.int(1)
        w.key("b"); w.beginArray()
        w.int64(Int64.min); w.int(Int.max); w.int(0); w.int(-7)
        w.double(1.5); w.double(.nan); w.double(-.infinity); w.double(3); w.double(1e-7)
        w.bool(true); w.bool(false); w.null(); w.string("s")
        w.beginObject(); w.endObject()
        w.beginArray(); w.endArray()
        w.endArray()
        w.key("k\"ey"); w.raw(Array(#"{"title":"Glimpse of Us","rating":4}"#.utf8))
        w.key("empty"); w.beginObject(); w.endObject()
        w.endObject()
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"a":1,"b":[-9223372036854775808,9223372036854775807,0,-7,1.5,null,null,3,1e-07,true,false,null,"s",{},[]],"k\"ey":{"#))
        let parsed = try JSONParser.parse(w.bytes)
        #expect(parsed["k\"ey"]?["title"] == .string("Glimpse of Us"))
        #expect(parsed["empty"] == .object([:]))
        guard case .array(let items)? = parsed["b"] else {
            Issue.record("b is not an array")
            return
        }
        #expect(items.count == 15)
        #expect(items[4] == .number(1.5))
        #expect(items[8] == .number(1e-7))
    }

    @Test func doublesAreValidJSON() throws {
        for d in [0.1, -0.0, 1e300, -2.5e-300, 123456789.125, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, 1e15, 1e16] {
            var w = JSONWriter()
            w.double(d)
            #expect(try JSONParser.parse(w.bytes) == .number(d), "\(d)")
        }
    }

    @Test func parserBasics() throws {
        let v = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null, "x\u00e9"], "b": {}} "#)
        #expect(v == .object(["a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null, .string("xé")]), "b": .object([:])]))
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("1e400") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("[1] [2]") }
    }
}
