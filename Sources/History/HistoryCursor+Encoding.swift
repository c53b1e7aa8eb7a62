import MusicModel

/// The cursor as clients see it: base64url (no padding) of `<timestamp>:<event_id>`. It is not
/// signed: it selects only "rows after this key", which a client could ask for anyway with
/// `until`, so there is nothing to protect, only garbage to refuse. Store independent, so
/// SQLite and PostgreSQL hand out the same tokens.
extension HistoryCursor {
    /// Largest timestamp a cursor may carry: the filter's own bound (13 digits of ms).
    public static let maxTimestamp: Int64 = EventFilter.maxTimestampParameter
    /// Longest event_id a cursor may carry (event ids are 36-character UUIDs).
    public static let maxEventIDLength = 64
    /// Longest token: 13 digits, the colon and the longest id, in base64url.
    static let maxEncodedLength = ((13 + 1 + maxEventIDLength) * 4 + 2) / 3

    /// The opaque token. Only a cursor that `init(decoding:)` would accept back (what the stores
    /// hand out) round-trips; anything else encodes to a token that is refused.
    public var encoded: String {
        Base64URL.encode(Array("\(timestamp):\(eventID)".utf8))
    }

    /// nil unless `token` is exactly what `encoded` produces for a valid cursor: strict
    /// base64url, the timestamp as 1 to 13 plain digits without leading zeros, a colon, then an
    /// event_id of 1 to 64 visible ASCII characters (no spaces or control characters).
    public init?(decoding token: String) {
        guard !token.isEmpty, token.utf8.count <= Self.maxEncodedLength,
              let bytes = Base64URL.decode(token),
              let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        let digits = bytes[..<colon]
        let id = bytes[(colon + 1)...]
        guard (1...13).contains(digits.count),
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              digits.count == 1 || digits.first != UInt8(ascii: "0")
        else { return nil }
        var value: Int64 = 0
        for digit in digits { value = value * 10 + Int64(digit - UInt8(ascii: "0")) }
        guard value <= Self.maxTimestamp else { return nil }
        guard (1...Self.maxEventIDLength).contains(id.count), id.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return nil
        }
        self.init(timestamp: value, eventID: String(decoding: id, as: UTF8.self))
    }
}
