import JSON

/// The decoder's accumulator. Semantic problems are recorded (first one wins) rather than thrown,
/// so scanning continues and a document that is also broken JSON is reported as not_json.
struct PartialEvent {
    /// Shares repeated text across decodes (see `TextInterner`); nil decodes without sharing.
    var interner: TextInterner?
    // Plain (non-optional) storage plus a presence mask: optionals of String cost generic
    // value-witness calls on this path.
    var eventID = ""
    var userID = ""
    var username = ""
    var email = ""
    var trackID = ""
    var title = ""
    var artist = ""
    var genre = ""
    var platform = ""
    var mood = ""
    var city = ""
    var country = ""
    var duration = 0
    var listenPosition = 0
    var rating = 0
    var timestamp: Int64 = 0
    /// Fields that hold a value, as `EventKey` bits of the canonical name.
    private var have: UInt32 = 0

    private var seenKeys: UInt32 = 0
    private var unknownKeys: Set<[UInt8]>?
    private(set) var problem: EventRejection?

    @inline(__always)
    private mutating func report(_ reason: RejectionReason, _ detail: @autoclosure () -> String) {
        if problem == nil { problem = EventRejection(reason: reason, detail: detail()) }
    }

    static func kindName(_ firstByte: UInt8) -> String {
        switch firstByte {
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        case UInt8(ascii: "-"), 0x30...0x39: "a number"
        default: "not a JSON value"
        }
    }

    // MARK: Object structure

    /// Reads the top-level object; the scanner is at `{`.
    mutating func readObject(_ s: inout JSONScanner) throws(JSONSyntaxError) {
        s.pos += 1
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "}") {
            s.pos += 1
            return
        }
        while true {
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "\"") else { throw s.unexpected("a string key") }
            let keyToken = try s.scanString()
            let key = s.withBytes(keyToken) { EventKey.match($0) }
            if key == nil && problem == nil, let dup = Self.isDuplicate(s, keyToken, in: &unknownKeys) {
                report(.invalidValue, "\(dup): duplicate key")
            }
            s.skipWhitespace()
            try s.expect(UInt8(ascii: ":"), "':'")
            s.skipWhitespace()
            if let key {
                try readValue(key, &s)
            } else {
                try s.skipValue(depth: 1)
            }
            s.skipWhitespace()
            guard let c = s.peek() else { throw s.unexpected("',' or '}'") }
            if c == UInt8(ascii: ",") {
                s.pos += 1
                continue
            }
            if c == UInt8(ascii: "}") {
                s.pos += 1
                return
            }
            throw s.unexpected("',' or '}'")
        }
    }

    /// Remembers a key the decoder ignores; returns its text, escaped for a log line, if it was
    /// already seen.
    private static func isDuplicate(_ s: JSONScanner, _ token: StringToken, in set: inout Set<[UInt8]>?) -> String? {
        let bytes = s.withBytes(token) { Array($0) }
        if set == nil { set = [] }
        if set?.insert(bytes).inserted == false {
            return EchoedText.render(bytes)
        }
        return nil
    }

    private mutating func readValue(_ key: EventKey, _ s: inout JSONScanner) throws(JSONSyntaxError) {
        if problem != nil {
            // Already rejected; only the syntax of the rest still matters.
            try s.skipValue(depth: 1)
            return
        }
        if seenKeys & key.bit != 0 {
            report(.invalidValue, "\(key.jsonName): duplicate key")
            try s.skipValue(depth: 1)
            return
        }
        seenKeys |= key.bit
        if let alias = aliasConflict(key) {
            report(.invalidValue, alias)
            try s.skipValue(depth: 1)
            return
        }
        switch key {
        case .eventID:
            guard let token = try readStringToken(&s, "event_id") else { return }
            if let id = s.withBytes(token, { UUIDText.normalized(Self.trimmed($0)) }) {
                eventID = id
                have |= key.bit
            } else {
                report(.invalidValue, "event_id: not a UUID (expected 8-4-4-4-12 hex digits)")
            }
        case .userID: if let v = try readText(&s, "user_id") { userID = v; have |= key.bit }
        case .username: if let v = try readText(&s, "username") { username = v; have |= key.bit }
        case .name: if let v = try readText(&s, "name") { username = v; have |= EventKey.username.bit }
        case .email: if let v = try readText(&s, "email") { email = v; have |= key.bit }
        case .trackID: if let v = try readText(&s, "track_id") { trackID = v; have |= key.bit }
        case .title: if let v = try readText(&s, "title") { title = v; have |= key.bit }
        case .artist: if let v = try readText(&s, "artist") { artist = v; have |= key.bit }
        case .genre: if let v = try readText(&s, "genre") { genre = v; have |= key.bit }
        case .platform: if let v = try readText(&s, "platform") { platform = v; have |= key.bit }
        case .mood: if let v = try readText(&s, "mood") { mood = v; have |= key.bit }
        case .city: if let v = try readText(&s, "city") { city = v; have |= key.bit }
        case .country: if let v = try readText(&s, "country") { country = v; have |= key.bit }
        case .location: try readLocation(&s)
        case .duration, .durationSeconds:
            let field = key.jsonName
            guard let n = try readNumber(&s, field) else { return }
            guard let v = wholeNumber(n, s, field) else { return }
            if v <= 0 {
                report(.outOfRange, "\(field): \(s.lexeme(n)) must be positive")
            } else if v > EventDecoder.maxDuration {
                report(.outOfRange, "\(field): \(s.lexeme(n)) exceeds \(EventDecoder.maxDuration) seconds")
            } else {
                duration = Int(v)
                have |= EventKey.duration.bit
            }
        case .listenPosition:
            guard let n = try readNumber(&s, "listen_position") else { return }
            guard let v = wholeNumber(n, s, "listen_position") else { return }
            if v < 0 {
                report(.outOfRange, "listen_position: \(s.lexeme(n)) is negative")
            } else {
                listenPosition = Int(v)
                have |= key.bit
            }
        case .rating:
            guard let n = try readNumber(&s, "rating") else { return }
            if let v = ratingValue(n, s) {
                rating = v
                have |= key.bit
            }
        case .timestamp:
            guard let n = try readNumber(&s, "timestamp") else { return }
            if let v = timestampValue(n, s) {
                timestamp = v
                have |= key.bit
            }
        case .completed, .skipped, .isSkipped:
            // Recomputed from position and duration; only the type is checked.
            guard let b = s.peek() else { throw s.unexpected("a value") }
            if b == UInt8(ascii: "t") || b == UInt8(ascii: "f") {
                _ = try s.scanBool()
            } else {
                report(.wrongType, "\(key.jsonName): expected a boolean, got \(Self.kindName(b))")
                try s.skipValue(depth: 1)
            }
        }
    }

    /// The producer's alternate names are the same field; giving both is ambiguous.
    private func aliasConflict(_ key: EventKey) -> String? {
        let other: UInt32
        switch key {
        case .username: other = EventKey.name.bit
        case .name: other = EventKey.username.bit
        case .duration: other = EventKey.durationSeconds.bit
        case .durationSeconds: other = EventKey.duration.bit
        case .city, .country: other = EventKey.location.bit
        case .location: other = EventKey.city.bit | EventKey.country.bit
        default: return nil
        }
        guard seenKeys & other != 0 else { return nil }
        switch key {
        case .username, .name: return "username: given as both username and name"
        case .duration, .durationSeconds: return "duration: given as both duration and duration_seconds"
        default: return "location: given together with flat city/country"
        }
    }

    private mutating func readLocation(_ s: inout JSONScanner) throws(JSONSyntaxError) {
        guard let b = s.peek() else { throw s.unexpected("a value") }
        guard b == UInt8(ascii: "{") else {
            report(.wrongType, "location: expected an object, got \(Self.kindName(b))")
            try s.skipValue(depth: 1)
            return
        }
        s.pos += 1
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "}") {
            s.pos += 1
            return
        }
        var seen: UInt8 = 0
        var others: Set<[UInt8]>?
        while true {
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "\"") else { throw s.unexpected("a string key") }
            let keyToken = try s.scanString()
            let which: UInt8 = s.withBytes(keyToken) { k in
                switch EventKey.match(k) {
                case .city: 1
                case .country: 2
                default: 0
                }
            }
            if which == 0 && problem == nil, let dup = Self.isDuplicate(s, keyToken, in: &others) {
                report(.invalidValue, "location.\(dup): duplicate key")
            }
            s.skipWhitespace()
            try s.expect(UInt8(ascii: ":"), "':'")
            s.skipWhitespace()
            if which == 0 || problem != nil {
                try s.skipValue(depth: 2)
            } else if seen & which != 0 {
                report(.invalidValue, which == 1 ? "location.city: duplicate key" : "location.country: duplicate key")
                try s.skipValue(depth: 2)
            } else {
                seen |= which
                if which == 1 {
                    if let v = try readText(&s, "location.city", depth: 2) {
                        city = v
                        have |= EventKey.city.bit
                    }
                } else {
                    if let v = try readText(&s, "location.country", depth: 2) {
                        country = v
                        have |= EventKey.country.bit
                    }
                }
            }
            s.skipWhitespace()
            guard let c = s.peek() else { throw s.unexpected("',' or '}'") }
            s.pos += 1
            if c == UInt8(ascii: "}") { return }
            if c != UInt8(ascii: ",") {
                s.pos -= 1
                throw s.unexpected("',' or '}'")
            }
        }
    }

    // MARK: Values

    /// The string token at the cursor, or nil (problem recorded, value skipped) if it is not a
    /// string or is too long.
    private mutating func readStringToken(_ s: inout JSONScanner, _ field: String, depth: Int = 1) throws(JSONSyntaxError) -> StringToken? {
        guard let b = s.peek() else { throw s.unexpected("a value") }
        guard b == UInt8(ascii: "\"") else {
            report(.wrongType, "\(field): expected a string, got \(Self.kindName(b))")
            try s.skipValue(depth: depth)
            return nil
        }
        let token = try s.scanString()
        let length = token.escaped ? s.scratch.count : token.end - token.start
        if length > EventDecoder.maxStringBytes {
            report(.stringTooLong, "\(field): \(length) bytes exceeds the \(EventDecoder.maxStringBytes)-byte limit")
            return nil
        }
        return token
    }

    /// A required string: trimmed, non-empty.
    private mutating func readText(_ s: inout JSONScanner, _ field: String, depth: Int = 1) throws(JSONSyntaxError) -> String? {
        guard let token = try readStringToken(&s, field, depth: depth) else { return nil }
        let text: String? = s.withBytes(token) { raw in
            let bytes = Self.trimmed(raw)
            if bytes.isEmpty { return nil }
            let string = interner?.string(bytes) ?? String(decoding: bytes, as: UTF8.self)
            if !Self.startsWithUnicodeSpace(bytes) && !Self.endsWithUnicodeSpace(bytes) { return string }
            // Rare: Unicode whitespace (e.g. U+00A0, U+3000) at an edge.
            let inner = string.trimmed()
            return inner.isEmpty ? nil : inner
        }
        if text == nil { report(.invalidValue, "\(field): must not be empty") }
        return text
    }

    /// ASCII whitespace (JSON's and the other C0 spaces) cut from both ends.
    @inline(__always)
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var lo = 0
        var hi = b.count
        while lo < hi && isSpace(b[lo]) { lo += 1 }
        while hi > lo && isSpace(b[hi - 1]) { hi -= 1 }
        return UnsafeBufferPointer(rebasing: b[lo..<hi])
    }

    /// Whether the first scalar is non-ASCII whitespace (input is valid UTF-8).
    static func startsWithUnicodeSpace(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b[0] >= 0x80 else { return false }
        var decoder = UTF8()
        var iterator = b.makeIterator()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return scalar.properties.isWhitespace
        }
        return false
    }

    /// Whether the last scalar is non-ASCII whitespace (input is valid UTF-8).
    static func endsWithUnicodeSpace(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b[b.count - 1] >= 0x80 else { return false }
        var start = b.count - 1
        while start > 0 && b[start] & 0xC0 == 0x80 { start -= 1 }
        var decoder = UTF8()
        var iterator = UnsafeBufferPointer(rebasing: b[start...]).makeIterator()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return scalar.properties.isWhitespace
        }
        return false
    }

    @inline(__always)
    private static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || (c >= 0x09 && c <= 0x0D)
    }

    private mutating func readNumber(_ s: inout JSONScanner, _ field: String) throws(JSONSyntaxError) -> JSONNumber? {
        guard let b = s.peek() else { throw s.unexpected("a value") }
        guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else {
            report(.wrongType, "\(field): expected a number, got \(Self.kindName(b))")
            try s.skipValue(depth: 1)
            return nil
        }
        return try s.scanNumber()
    }

    private mutating func wholeNumber(_ n: JSONNumber, _ s: JSONScanner, _ field: String) -> Int64? {
        switch n.exactInteger() {
        case .value(let v): return v
        case .notWhole:
            report(.wrongType, "\(field): \(s.lexeme(n)) is not a whole number")
        case .tooLarge:
            report(.outOfRange, "\(field): \(s.lexeme(n)) is out of range")
        }
        return nil
    }

    /// Integer 0...5, or a float 0.0...5.0 rounded half up (the Python producer sends floats).
    private mutating func ratingValue(_ n: JSONNumber, _ s: JSONScanner) -> Int? {
        guard !n.isNegative, let whole = n.truncatedMagnitude(scale: 0),
              whole.value < 5 || (whole.value == 5 && !whole.remainder),
              let tenths = n.truncatedMagnitude(scale: 1)
        else {
            report(.outOfRange, "rating: \(s.lexeme(n)) is outside 0...5")
            return nil
        }
        return Int(tenths.value / 10 + (tenths.value % 10 >= 5 ? 1 : 0))
    }

    /// Milliseconds; values below 10^11 are seconds (fractions allowed, truncated to the ms).
    private mutating func timestampValue(_ n: JSONNumber, _ s: JSONScanner) -> Int64? {
        guard !n.isNegative, let whole = n.truncatedMagnitude(scale: 0) else {
            report(.outOfRange, "timestamp: \(s.lexeme(n)) is outside the years 2000...2100")
            return nil
        }
        let ms: Int64
        if whole.value < EventDecoder.secondsThreshold {
            guard let scaled = n.truncatedMagnitude(scale: 3) else {
                report(.outOfRange, "timestamp: \(s.lexeme(n)) is outside the years 2000...2100")
                return nil
            }
            ms = scaled.value
        } else {
            if whole.remainder {
                report(.wrongType, "timestamp: \(s.lexeme(n)) is not a whole number of milliseconds")
                return nil
            }
            ms = whole.value
        }
        guard ms >= EventDecoder.minTimestamp && ms < EventDecoder.endTimestamp else {
            report(.outOfRange, "timestamp: \(s.lexeme(n)) is outside the years 2000...2100")
            return nil
        }
        return ms
    }

    // MARK: Completion

    /// Required fields in canonical order, with the message when one is absent.
    private static let required: [(EventKey, String)] = [
        (.userID, "user_id: missing"),
        (.username, "username: missing (also accepted as name)"),
        (.email, "email: missing"),
        (.trackID, "track_id: missing"),
        (.title, "title: missing"),
        (.artist, "artist: missing"),
        (.genre, "genre: missing"),
        (.platform, "platform: missing"),
        (.mood, "mood: missing"),
        (.city, "city: missing (flat or in location)"),
        (.country, "country: missing (flat or in location)"),
        (.duration, "duration: missing (also accepted as duration_seconds)"),
        (.listenPosition, "listen_position: missing"),
        (.rating, "rating: missing"),
        (.timestamp, "timestamp: missing"),
    ]
    private static let allRequired = required.reduce(UInt32(0)) { $0 | $1.0.bit }

    /// Consuming, so the strings move into the event instead of being retained for it and
    /// released with this accumulator.
    consuming func finish(origin: EventOrigin?) throws(EventRejection) -> ListenEvent {
        if let problem { throw problem }
        func missing(_ detail: String) -> EventRejection {
            EventRejection(reason: .missingField, detail: detail)
        }
        let id: String
        if have & EventKey.eventID.bit != 0 {
            id = eventID
        } else if let origin {
            id = origin.derivedEventID
        } else {
            throw missing("event_id: missing, and no Kafka origin to derive one from")
        }
        if have & Self.allRequired != Self.allRequired {
            for (key, detail) in Self.required where have & key.bit == 0 {
                throw missing(detail)
            }
        }
        guard listenPosition <= duration else {
            throw EventRejection(
                reason: .outOfRange, detail: "listen_position: \(listenPosition) is beyond duration \(duration)")
        }
        return ListenEvent(
            eventID: id, userID: userID, username: username, email: email, trackID: trackID,
            title: title, artist: artist, genre: genre, platform: platform, mood: mood,
            city: city, country: country, duration: duration, listenPosition: listenPosition,
            rating: rating, timestamp: timestamp)
    }
}
