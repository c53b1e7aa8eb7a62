import Testing
@testable import MusicModel

/// The decoder's fast lane against its general one: the fast lane must take the common shape
/// (or ingest slows down unnoticed), and whatever it takes must decode exactly as the general
/// decoder would; everything else it must leave alone.
@Suite struct FastEventDecoderTests {
    private func fastLane(_ bytes: [UInt8], interner: TextInterner? = nil) -> ListenEvent? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            return FastEventDecoder.decode(base, count: buffer.count, interner: interner)
        }
    }

    private func generalLane(_ bytes: [UInt8], origin: EventOrigin? = testOrigin) -> Result<ListenEvent, EventRejection> {
        bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(EventRejection) in
                guard let base = buffer.baseAddress else { throw EventRejection(reason: .notJSON, detail: "empty") }
                return try EventDecoder.decodeInGeneral(base, count: buffer.count, origin: origin, interner: nil)
            }
        }
    }

    private func decoded(_ bytes: [UInt8], origin: EventOrigin? = testOrigin) -> Result<ListenEvent, EventRejection> {
        Result { () throws(EventRejection) in try EventDecoder.decode(bytes, origin: origin) }
    }

    /// Events as `musicstream produce` and the simulator write them.
    private func simulated(_ count: Int, seed: UInt64) -> [ListenEvent] {
        var simulator = Simulator(seed: seed)
        return (0..<count).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0) * 250) }
    }

    @Test func takesWhatTheSimulatorProduces() {
        let interner = TextInterner()
        for event in simulated(2_000, seed: 7) {
            let bytes = event.canonicalJSON()
            #expect(fastLane(bytes, interner: interner) == event)
            #expect(generalLane(bytes) == .success(event))
        }
    }

    /// Shapes the fast lane takes, each decoding as the general decoder does.
    @Test(arguments: [
        object(canonicalFields),   // spaces after ':' and ','
        " \n\t" + object(canonicalFields) + " \r\n",
        object(Array(canonicalFields.reversed())),
        object(setting(canonicalFields, "completed", nil)),
        object(setting(setting(canonicalFields, "skipped", nil), "completed", "false")),
        object(setting(canonicalFields, "event_id", "\"  3F2B8C1E-9D4A-4E7B-8C2D-1A2B3C4D5E6F\\t\"")),
        object(setting(canonicalFields, "title", "\"  R\\u0026B \\\"live\\\" \\ud83c\\udfb5\\n\"")),
        object(setting(canonicalFields, "artist", "\"Beyoncé\"")),
        object(setting(canonicalFields, "city", "\"Bogotá\"")),
        object(setting(canonicalFields, "city", "\"é\"")),
        object(setting(canonicalFields, "user_id", "\"" + String(repeating: "u", count: 256) + "\"")),
        object(setting(canonicalFields, "timestamp", "1700000000")),   // seconds
        object(setting(canonicalFields, "timestamp", "946684800")),   // the first second accepted
        object(setting(canonicalFields, "timestamp", "4133980799")),   // the last
        object(setting(canonicalFields, "timestamp", "946684800000")),
        object(setting(canonicalFields, "timestamp", "4133980799999")),
        object(setting(setting(canonicalFields, "listen_position", "0"), "rating", "0")),
        object(setting(setting(canonicalFields, "duration", "86400"), "listen_position", "86400")),
        object(setting(canonicalFields, "rating", "5")),
    ])
    func takesTheCommonShape(_ text: String) {
        let bytes = Array(text.utf8)
        let fast = fastLane(bytes)
        #expect(fast != nil)
        if let fast { #expect(generalLane(bytes) == .success(fast)) }
    }

    /// Shapes the fast lane leaves to the general decoder: aliases, derived ids, anything to
    /// reject. The public decoder's answer is the general one's in every case.
    @Test(arguments: [
        object(pythonFields),
        object(setting(canonicalFields, "event_id", nil)),
        object(setting(canonicalFields, "name", "\"other\"")),
        object(setting(canonicalFields, "extra", "[1, {\"a\": null}]")),
        object(canonicalFields + [("title", "\"again\"")]),
        object(canonicalFields + [("completed", "true")]),
        "{\"user\\u005fid\": \"u-1\", " + String(object(setting(canonicalFields, "user_id", nil)).dropFirst()),
        object(setting(canonicalFields, "event_id", "\"3f2b8c1e9d4a-4e7b-8c2d-1a2b3c4d5e6f0\"")),
        object(setting(canonicalFields, "event_id", "\"3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6g\"")),
        object(setting(canonicalFields, "event_id", "42")),
        object(setting(canonicalFields, "title", "\"\"")),
        object(setting(canonicalFields, "title", "\"  \\t \"")),
        object(setting(canonicalFields, "title", "\"\u{00A0}Glimpse\"")),
        object(setting(canonicalFields, "title", "\"Glimpse\u{3000}\"")),
        object(setting(canonicalFields, "title", "\"\u{00A0}\"")),
        object(setting(canonicalFields, "title", "\"" + String(repeating: "t", count: 257) + "\"")),
        object(setting(canonicalFields, "title", "null")),
        object(setting(canonicalFields, "title", "\"bad \\x escape\"")),
        object(setting(canonicalFields, "rating", "4.0")),
        object(setting(canonicalFields, "rating", "4.5")),
        object(setting(canonicalFields, "rating", "6")),
        object(setting(canonicalFields, "rating", "-0")),
        object(setting(canonicalFields, "rating", "04")),
        object(setting(canonicalFields, "duration", "0")),
        object(setting(canonicalFields, "duration", "86401")),
        object(setting(canonicalFields, "duration", "2.33e2")),
        object(setting(canonicalFields, "duration", "1E3")),
        object(setting(canonicalFields, "listen_position", "234")),
        object(setting(canonicalFields, "listen_position", "-1")),
        object(setting(canonicalFields, "timestamp", "946684799999")),
        object(setting(canonicalFields, "timestamp", "4133980800000")),
        object(setting(canonicalFields, "timestamp", "1700000000.5")),
        object(setting(canonicalFields, "timestamp", "99999999999")),   // seconds, year 5138
        object(setting(canonicalFields, "timestamp", "100000000000")),   // milliseconds, 1973
        object(setting(canonicalFields, "timestamp", "1234567890123456789")),
        object(setting(canonicalFields, "timestamp", "99999999999999999999999")),
        object(setting(canonicalFields, "completed", "1")),
        object(setting(canonicalFields, "skipped", "fals")),
        object(setting(canonicalFields, "skipped", "truex")),
        object(setting(canonicalFields, "mood", nil)),
        object(canonicalFields) + "x",
        object(canonicalFields) + "{}",
        String(object(canonicalFields).dropLast()),
        String(object(canonicalFields).dropLast()) + ",}",
        "[" + object(canonicalFields) + "]",
        "{}",
        " ",
    ])
    func leavesEverythingElse(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(fastLane(bytes) == nil)
        #expect(decoded(bytes) == generalLane(bytes))
    }

    /// Random damage to real records: whenever the fast lane still takes one, the general
    /// decoder agrees exactly; and the public answer is always the general one's.
    @Test func agreesUnderRandomDamage() {
        var rng = SplitMix64(seed: 2024)
        let sources = simulated(40, seed: 3).map { $0.canonicalJSON() } + [Array(object(canonicalFields).utf8)]
        let interesting: [UInt8] = Array(" \t\n\"\\,:{}[]0159.eE-+tfn".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xA0, 0xC3, 0xE3, 0xFF]
        var taken = 0
        for _ in 0..<20_000 {
            var bytes = sources[rng.below(sources.count)]
            for _ in 0..<(1 + rng.below(2)) {
                let at = rng.below(bytes.count)
                switch rng.below(4) {
                case 0: bytes[at] = interesting[rng.below(interesting.count)]
                case 1: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 2: bytes.remove(at: at)
                default: bytes.insert(interesting[rng.below(interesting.count)], at: at)
                }
            }
            let general = generalLane(bytes)
            if let fast = fastLane(bytes) {
                taken += 1
                #expect(general == .success(fast), "\(String(decoding: bytes, as: UTF8.self))")
            }
            #expect(decoded(bytes) == general)
        }
        #expect(taken > 1_000, "the damage should leave many records in the fast lane's shape")
    }

    /// The word-at-a-time UUID check against a byte-by-byte one, every byte value at every position.
    @Test func uuidCheckMatchesTheByteByByteOne() {
        let valid = Array("3f2b8c1e-9D4A-4e7b-8c2d-1a2b3c4d5e6f".utf8)
        func both(_ bytes: [UInt8]) -> (String?, String?) {
            bytes.withUnsafeBufferPointer { (UUIDText.normalized($0), Self.byteByByteNormalized($0)) }
        }
        #expect(both(valid).0 == "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f")
        for position in valid.indices {
            for value in 0...255 {
                var bytes = valid
                bytes[position] = UInt8(value)
                let (fast, reference) = both(bytes)
                #expect(fast == reference, "byte \(value) at \(position)")
            }
        }
        #expect(both(Array(valid.dropLast())).0 == nil)
    }

    /// The definition, one byte at a time: 36 bytes, dashes at 8, 13, 18 and 23, hex digits
    /// elsewhere, letters lowered.
    private static func byteByByteNormalized(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count == 36 else { return nil }
        var lowered: [UInt8] = []
        for (i, b) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard b == UInt8(ascii: "-") else { return nil }
                lowered.append(b)
            } else if (0x30...0x39).contains(b) || (0x61...0x66).contains(b) {
                lowered.append(b)
            } else if (0x41...0x46).contains(b) {
                lowered.append(b + 0x20)
            } else {
                return nil
            }
        }
        return String(decoding: lowered, as: UTF8.self)
    }
}
