import JSON

/// The decoder's fast lane, for the record nearly every producer sends: one flat object of the
/// canonical keys (any order, each once), string values, plain non-negative whole numbers and
/// values within range. It reads such a record straight into locals (no accumulator to copy
/// and destroy, no optional-returning steps per byte) and predicts each key from the canonical
/// order, so a key usually costs one two-word comparison.
///
/// Anything else (an alias or an unknown key, a fraction, a value to reject, broken JSON) makes
/// it answer nil, and `PartialEvent`, which knows every rejection and its wording, decodes the
/// record from the start. It accepts a record only when `PartialEvent` would accept it as the
/// same event, so which lane a record took never shows (the decoder tests and the fuzz target
/// compare the two).
enum FastEventDecoder {
    /// The event, or nil when the general decoder has to decide.
    static func decode(_ base: UnsafePointer<UInt8>, count: Int, interner: TextInterner?) -> ListenEvent? {
        withUnsafeTemporaryAllocation(of: ListenEvent.self, capacity: 1) { slot in
            guard let event = slot.baseAddress else { return nil }
            return decode(base, count: count, interner: interner, into: event) ? event.move() : nil
        }
    }

    /// Writes the event into `destination` (uninitialised memory) and returns true, or leaves
    /// it uninitialised and returns false when the general decoder has to decide.
    static func decode(
        _ base: UnsafePointer<UInt8>, count: Int, interner: TextInterner?, into destination: UnsafeMutablePointer<ListenEvent>
    ) -> Bool {
        var s = JSONScanner(base: base, count: count)
        var eventID = "", userID = "", username = "", email = "", trackID = "", title = "", artist = ""
        var genre = "", platform = "", mood = "", city = "", country = ""
        var duration = 0, listenPosition = 0, rating = 0
        var timestamp: Int64 = 0
        var seen: UInt32 = 0
        var predicted = 0
        let order = canonicalOrder
        s.skipWhitespace()
        guard s.pos < s.end, base[s.pos] == UInt8(ascii: "{") else { return false }
        s.pos += 1
        while true {
            s.skipWhitespace()
            guard s.pos < s.end, base[s.pos] == UInt8(ascii: "\""), let key = readKey(&s, order, predicted: &predicted),
                  seen & key.bit == 0
            else { return false }
            seen |= key.bit
            s.skipWhitespace()
            guard s.pos < s.end, base[s.pos] == UInt8(ascii: ":") else { return false }
            s.pos += 1
            s.skipWhitespace()
            guard s.pos < s.end else { return false }
            switch key {
            case .eventID:
                guard let v = identifier(&s) else { return false }
                eventID = v
            case .userID:
                guard let v = text(&s, interner) else { return false }
                userID = v
            case .username:
                guard let v = text(&s, interner) else { return false }
                username = v
            case .email:
                guard let v = text(&s, interner) else { return false }
                email = v
            case .trackID:
                guard let v = text(&s, interner) else { return false }
                trackID = v
            case .title:
                guard let v = text(&s, interner) else { return false }
                title = v
            case .artist:
                guard let v = text(&s, interner) else { return false }
                artist = v
            case .genre:
                guard let v = text(&s, interner) else { return false }
                genre = v
            case .platform:
                guard let v = text(&s, interner) else { return false }
                platform = v
            case .mood:
                guard let v = text(&s, interner) else { return false }
                mood = v
            case .city:
                guard let v = text(&s, interner) else { return false }
                city = v
            case .country:
                guard let v = text(&s, interner) else { return false }
                country = v
            case .duration:
                guard let v = wholeNumber(&s), v > 0, v <= Int64(EventDecoder.maxDuration) else { return false }
                duration = Int(v)
            case .listenPosition:
                guard let v = wholeNumber(&s) else { return false }
                listenPosition = Int(v)
            case .rating:
                guard let v = wholeNumber(&s), v <= 5 else { return false }
                rating = Int(v)
            case .timestamp:
                guard let v = wholeNumber(&s) else { return false }
                // Below the threshold the value is seconds (PartialEvent.timestampValue).
                let ms = v < EventDecoder.secondsThreshold ? v * 1_000 : v
                guard ms >= EventDecoder.minTimestamp && ms < EventDecoder.endTimestamp else { return false }
                timestamp = ms
            case .completed, .skipped:
                guard boolean(&s) else { return false }
            case .name, .location, .durationSeconds, .isSkipped:
                return false   // readKey never returns these
            }
            s.skipWhitespace()
            guard s.pos < s.end else { return false }
            let c = base[s.pos]
            s.pos += 1
            if c == UInt8(ascii: "}") { break }
            guard c == UInt8(ascii: ",") else { return false }
        }
        s.skipWhitespace()
        // Every field, event_id included (without one, the general decoder derives it from the origin).
        let required = EventKey.eventID.bit | EventKey.userID.bit | EventKey.username.bit | EventKey.email.bit
            | EventKey.trackID.bit | EventKey.title.bit | EventKey.artist.bit | EventKey.genre.bit | EventKey.platform.bit
            | EventKey.mood.bit | EventKey.city.bit | EventKey.country.bit | EventKey.duration.bit
            | EventKey.listenPosition.bit | EventKey.rating.bit | EventKey.timestamp.bit
        guard s.pos == s.end, seen & required == required, listenPosition <= duration else { return false }
        destination.initialize(to: ListenEvent(
            eventID: eventID, userID: userID, username: username, email: email, trackID: trackID,
            title: title, artist: artist, genre: genre, platform: platform, mood: mood,
            city: city, country: country, duration: duration, listenPosition: listenPosition,
            rating: rating, timestamp: timestamp))
        return true
    }

    // MARK: Keys

    /// A canonical key with its closing quote, as two little-endian words and the masks of
    /// the bytes it fills.
    private struct KeyPattern {
        let key: EventKey
        let length: Int
        let words: (UInt64, UInt64)
        let masks: (UInt64, UInt64)

        init(_ key: EventKey) {
            let bytes = Array(key.jsonName.utf8) + [UInt8(ascii: "\"")]
            precondition(bytes.count <= 16)
            var words: (UInt64, UInt64) = (0, 0)
            var masks: (UInt64, UInt64) = (0, 0)
            for (index, byte) in bytes.enumerated() {
                let shift = UInt64(index % 8 * 8)
                if index < 8 {
                    words.0 |= UInt64(byte) << shift
                    masks.0 |= 0xFF << shift
                } else {
                    words.1 |= UInt64(byte) << shift
                    masks.1 |= 0xFF << shift
                }
            }
            self.key = key
            self.length = bytes.count
            self.words = words
            self.masks = masks
        }
    }

    /// The keys in the order `EventEncoder` writes them.
    private static let canonicalOrder: [KeyPattern] = [
        EventKey.eventID, .userID, .username, .email, .trackID, .title, .artist, .genre, .platform, .mood,
        .city, .country, .duration, .listenPosition, .completed, .skipped, .rating, .timestamp,
    ].map(KeyPattern.init)

    /// The key whose opening quote is at the cursor, moving past its closing quote; nil for a
    /// key the fast lane does not take (aliases, unknown or escaped keys).
    @inline(__always)
    private static func readKey(_ s: inout JSONScanner, _ order: [KeyPattern], predicted: inout Int) -> EventKey? {
        let start = s.pos + 1
        if predicted < order.count && s.end - start >= 16 {
            let pattern = order[predicted]
            let raw = UnsafeRawPointer(s.base + start)
            let first = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            let second = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if (first ^ pattern.words.0) & pattern.masks.0 | (second ^ pattern.words.1) & pattern.masks.1 == 0 {
                s.pos = start + pattern.length
                predicted += 1
                return pattern.key
            }
        }
        // Out of the canonical order: plain ASCII up to the closing quote, matched by name.
        var end = start
        while end < s.end {
            let c = s.base[end]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { return nil }
            end += 1
        }
        guard end < s.end, let key = EventKey.match(UnsafeBufferPointer(start: s.base + start, count: end - start)),
              let index = order.firstIndex(where: { $0.key == key })
        else { return nil }
        s.pos = end + 1
        predicted = index + 1
        return key
    }

    // MARK: Values

    /// A string field as `PartialEvent.readText` keeps it: at most 256 bytes, trimmed, not empty;
    /// nil also when Unicode whitespace sits at an edge (rare, left to the general decoder).
    @inline(__always)
    private static func text(_ s: inout JSONScanner, _ interner: TextInterner?) -> String? {
        guard s.base[s.pos] == UInt8(ascii: "\""), let token = try? s.scanString() else { return nil }
        return s.withBytes(token) { raw -> String? in
            guard raw.count <= EventDecoder.maxStringBytes else { return nil }
            let bytes = PartialEvent.trimmed(raw)
            guard !bytes.isEmpty else { return nil }
            if bytes[0] >= 0x80 || bytes[bytes.count - 1] >= 0x80 {
                guard !PartialEvent.startsWithUnicodeSpace(bytes), !PartialEvent.endsWithUnicodeSpace(bytes) else { return nil }
            }
            return interner?.string(bytes) ?? TextInterner.uncached(bytes)
        }
    }

    /// event_id as the general decoder keeps it: trimmed, 8-4-4-4-12 hex digits, lowercased.
    private static func identifier(_ s: inout JSONScanner) -> String? {
        guard s.base[s.pos] == UInt8(ascii: "\""), let token = try? s.scanString() else { return nil }
        return s.withBytes(token) { raw -> String? in
            guard raw.count <= EventDecoder.maxStringBytes else { return nil }
            return UUIDText.normalized(PartialEvent.trimmed(raw))
        }
    }

    /// A plain whole number (digits only, no sign, fraction or exponent, at most 18 digits, so
    /// it fits), or nil for any other number or none.
    @inline(__always)
    private static func wholeNumber(_ s: inout JSONScanner) -> Int64? {
        let first = s.pos
        var index = first
        var value: Int64 = 0
        while index < s.end {
            let digit = s.base[index] &- 0x30
            if digit > 9 { break }
            value = value &* 10 &+ Int64(digit)
            index += 1
        }
        let digits = index - first
        guard digits > 0 && digits <= 18 && (digits == 1 || s.base[first] != 0x30) else { return nil }
        if index < s.end {
            let next = s.base[index]
            if next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") { return nil }
        }
        s.pos = index
        return value
    }

    /// Moves past `true` or `false`; false for anything else.
    @inline(__always)
    private static func boolean(_ s: inout JSONScanner) -> Bool {
        let left = s.end - s.pos
        guard left >= 4 else { return false }
        let four = UInt32(littleEndian: UnsafeRawPointer(s.base + s.pos).loadUnaligned(as: UInt32.self))
        if four == 0x6575_7274 {   // "true"
            s.pos += 4
            return true
        }
        if left >= 5 && four == 0x736C_6166 && s.base[s.pos + 4] == UInt8(ascii: "e") {   // "false"
            s.pos += 5
            return true
        }
        return false
    }
}
