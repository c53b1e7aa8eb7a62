import MusicModel

/// Where a walk of `/api/events` through the history stopped: the last listen's (timestamp,
/// event_id), the keyset the store pages by, plus the order and the filter it was made for,
/// so it is refused under another sort or filter just as the window's cursor is. A different
/// format from the window's cursor (which holds a sequence number the history does not have):
/// each side recognises the other's and refuses it by name.
///
/// Encoded as base64url of `h1|<asc|desc>|<filter fingerprint hex>|<timestamp>|<event_id>`.
/// Not signed: it only selects rows after a key, which a client could ask for with since/until.
public struct HistoryEventsCursor: Sendable, Equatable {
    public var order: SortOrder
    public var filterFingerprint: UInt64
    public var timestamp: Int64
    public var eventID: String

    /// Longest event_id carried (event ids are 36-character UUIDs); keeps tokens under the
    /// 256 characters the API allows for `cursor`.
    static let maxEventIDLength = 64

    public init(order: SortOrder, filterFingerprint: UInt64, timestamp: Int64, eventID: String) {
        self.order = order
        self.filterFingerprint = filterFingerprint
        self.timestamp = timestamp
        self.eventID = eventID
    }

    public var encoded: String {
        let hash = String(filterFingerprint, radix: 16)
        let padded = String(repeating: "0", count: 16 - hash.utf8.count) + hash
        return Base64URL.encode(Array("h1|\(order.rawValue)|\(padded)|\(timestamp)|\(eventID)".utf8))
    }

    /// nil unless `token` is exactly what `encoded` makes of a valid cursor.
    public init?(decoding token: String) {
        guard token.utf8.count <= 256, let bytes = Base64URL.decode(token),
              let text = String(validating: bytes, as: UTF8.self)
        else { return nil }
        let parts = text.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "h1", let order = SortOrder(rawValue: String(parts[1])),
              parts[2].utf8.count == 16, let hash = UInt64(parts[2], radix: 16),
              (1...13).contains(parts[3].utf8.count), parts[3].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let timestamp = Int64(parts[3]), String(timestamp) == parts[3],
              (1...Self.maxEventIDLength).contains(parts[4].utf8.count),
              parts[4].utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "|") })
        else { return nil }
        self.init(order: order, filterFingerprint: hash, timestamp: timestamp, eventID: String(parts[4]))
    }
}
