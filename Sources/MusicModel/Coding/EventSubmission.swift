import JSON

/// Validates events that clients POST to /api/events.
///
/// Stricter than the Kafka decoder on purpose: the body is exactly the canonical event minus
/// what the server decides (event_id, timestamp, and the derived completed/skipped), with no
/// legacy aliases, no float ratings and no unknown fields, so a client's mistake is reported
/// instead of silently ignored. Problems are reported one at a time in a fixed order, so the
/// same body always gets the same answer:
/// 1. size, JSON syntax, top level not an object;
/// 2. a key given twice (first in document order);
/// 3. server-set fields (canonical order), then unknown fields (sorted by name);
/// 4. each field in canonical order: missing, wrong type, bad value;
/// 5. listen_position beyond duration.
public enum EventSubmission {
    public static let maxBodyBytes = 65_536
    /// Characters (Unicode scalars, as JSON Schema's maxLength counts them) per string field.
    /// 64 scalars never exceed the decoder's 256-byte limit, so an accepted submission always
    /// re-decodes from Kafka, and the published schema can state the limit exactly.
    public static let maxStringCharacters = 64

    /// Fields the server sets; a client sending them gets told so rather than "unknown".
    private static let serverFields = ["event_id", "completed", "skipped", "timestamp"]
    private static let stringFields = [
        "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform", "mood", "city", "country",
    ]
    private static let integerFields = ["duration", "listen_position", "rating"]
    private static let knownFields = Set(stringFields + integerFields)
    private static let serverFieldSet = Set(serverFields)
    /// Longest field name echoed back in an error.
    private static let maxEchoedName = 64

    /// Validates a client-submitted event: the canonical event without event_id, timestamp,
    /// completed, skipped (the server fills those in).
    public static func decode(_ body: [UInt8], eventID: String, timestamp: Int64) throws(SubmissionError) -> ListenEvent {
        guard body.count <= maxBodyBytes else {
            throw SubmissionError(
                field: nil, detail: "body is \(body.count) bytes, more than the \(maxBodyBytes)-byte limit")
        }
        let members = try readObject(body)

        var values: [String: JSONValue] = [:]
        var duplicate: String?
        for (key, value) in members where values.updateValue(value, forKey: key) != nil {
            duplicate = key
            break
        }
        if let duplicate {
            throw SubmissionError(field: echoed(duplicate), detail: "\(echoed(duplicate)) is given more than once")
        }
        for name in serverFields where values[name] != nil {
            throw SubmissionError(field: name, detail: "\(name) is set by the server")
        }
        let unknown = values.keys.filter { !knownFields.contains($0) && !serverFieldSet.contains($0) }
        if let first = unknown.min(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            throw SubmissionError(field: echoed(first), detail: "\(echoed(first)) is not a field of a listen event")
        }

        var strings: [String] = []
        strings.reserveCapacity(stringFields.count)
        for name in stringFields { strings.append(try text(name, values[name])) }
        let duration = try integer("duration", values["duration"], 1...EventDecoder.maxDuration)
        let position = try integer("listen_position", values["listen_position"], 0...Int.max)
        let rating = try integer("rating", values["rating"], 0...5)
        guard position <= duration else {
            throw SubmissionError(
                field: "listen_position", detail: "listen_position must be from 0 to duration (\(duration))")
        }
        return ListenEvent(
            eventID: eventID, userID: strings[0], username: strings[1], email: strings[2], trackID: strings[3],
            title: strings[4], artist: strings[5], genre: strings[6], platform: strings[7], mood: strings[8],
            city: strings[9], country: strings[10], duration: duration, listenPosition: position,
            rating: rating, timestamp: timestamp)
    }

    /// The top-level object's members in document order, duplicates kept (the caller reports
    /// them by name, which the general parser cannot).
    private static func readObject(_ body: [UInt8]) throws(SubmissionError) -> [(String, JSONValue)] {
        let result: Result<[(String, JSONValue)], SubmissionError> = body.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else {
                return .failure(SubmissionError(field: nil, detail: "body is empty, expected a JSON object"))
            }
            var s = JSONScanner(base: base, count: buffer.count)
            var members: [(String, JSONValue)] = []
            do throws(JSONSyntaxError) {
                s.skipWhitespace()
                guard s.peek() == UInt8(ascii: "{") else {
                    let kind = s.peek().map(PartialEvent.kindName) ?? "nothing"
                    _ = try JSONParser.parseValue(&s, depth: 0)
                    try s.expectEnd()
                    return .failure(SubmissionError(field: nil, detail: "body must be a JSON object, got \(kind)"))
                }
                s.pos += 1
                s.skipWhitespace()
                if s.peek() == UInt8(ascii: "}") {
                    s.pos += 1
                } else {
                    while true {
                        s.skipWhitespace()
                        guard s.peek() == UInt8(ascii: "\"") else { throw s.unexpected("a string key") }
                        let keyToken = try s.scanString()
                        let key = s.string(keyToken)
                        s.skipWhitespace()
                        try s.expect(UInt8(ascii: ":"), "':'")
                        members.append((key, try JSONParser.parseValue(&s, depth: 1)))
                        s.skipWhitespace()
                        guard let c = s.peek() else { throw s.unexpected("',' or '}'") }
                        if c == UInt8(ascii: "}") {
                            s.pos += 1
                            break
                        }
                        guard c == UInt8(ascii: ",") else { throw s.unexpected("',' or '}'") }
                        s.pos += 1
                    }
                }
                try s.expectEnd()
            } catch {
                return .failure(SubmissionError(field: nil, detail: "body is not valid JSON: \(error.description)"))
            }
            return .success(members)
        }
        return try result.get()
    }

    private static func echoed(_ name: String) -> String {
        name.count <= maxEchoedName ? name : String(name.prefix(maxEchoedName)) + "…"
    }

    private static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Required, a string of at most 64 characters as sent, without NUL, non-empty once trimmed
    /// (within the decoder's rules, so the stored event re-decodes identically).
    private static func text(_ name: String, _ value: JSONValue?) throws(SubmissionError) -> String {
        guard let value else { throw SubmissionError(field: name, detail: "\(name) is required") }
        guard case .string(let raw) = value else {
            throw SubmissionError(field: name, detail: "\(name) must be a string, got \(kind(value))")
        }
        guard raw.unicodeScalars.count <= maxStringCharacters else {
            throw SubmissionError(field: name, detail: "\(name) must be at most \(maxStringCharacters) characters")
        }
        // The query string refuses NUL, so an event carrying one could never be looked up by
        // that field; and C consumers downstream would read a truncated value.
        guard !raw.unicodeScalars.contains("\u{0}") else {
            throw SubmissionError(field: name, detail: "\(name) must not contain NUL (U+0000)")
        }
        let trimmed = raw.trimmed()
        guard !trimmed.isEmpty else { throw SubmissionError(field: name, detail: "\(name) must not be empty") }
        return trimmed
    }

    /// Required, a whole number (2 and 2.0 alike: JSON does not distinguish them) in `range`.
    private static func integer(_ name: String, _ value: JSONValue?, _ range: ClosedRange<Int>) throws(SubmissionError) -> Int {
        guard let value else { throw SubmissionError(field: name, detail: "\(name) is required") }
        guard case .number(let d) = value else {
            throw SubmissionError(field: name, detail: "\(name) must be an integer, got \(kind(value))")
        }
        // Conversion truncates in one instruction; Int(exactly:) and rounded() would pull in
        // libm's trunc, which a Foundation-free binary on Linux does not link.
        guard d.magnitude < 0x1p62 else {
            throw SubmissionError(field: name, detail: "\(name) must be \(allowed(range))")
        }
        let whole = Int(d)
        guard Double(whole) == d else {
            throw SubmissionError(field: name, detail: "\(name) must be an integer, got a fraction")
        }
        guard range.contains(whole) else {
            throw SubmissionError(field: name, detail: "\(name) must be \(allowed(range))")
        }
        return whole
    }

    private static func allowed(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
    }
}
