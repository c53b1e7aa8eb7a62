/// Where a page ended, in the order it was sorted by, plus the snapshot bound the first page
/// fixed. Both are in Kafka's terms (positions in the topic, an event's partition and offset),
/// not the server's own numbering, so any replica reading the same topic continues the walk.
/// Encoded as base64url of a small text record:
///
///     <checksum hex>|2|<sort field>|<order>|<bound position>|<bound sequence>|<filter hash hex>
///         |<last partition>|<last offset>|<last sequence>|<key>
///
/// The sequences only order and bound events that did not come from Kafka (appended in code),
/// which no two windows share.
/// The key (last field, may itself contain `|`) is a decimal integer, a Double's bit pattern in
/// hex, or the raw string. The checksum (a stable hash of the rest) catches corruption and casual
/// edits; it is not a secret, and nothing in a cursor is trusted beyond what it can select.
struct PageCursor: Equatable {
    static let version = "2"
    /// Longest token accepted; a real one is well under this (keys are ≤ 256 bytes).
    static let maxTokenLength = 2_048

    var field: SortField
    var order: SortOrder
    /// The window's position when the first page was made: later pages see nothing read after it.
    var bound: StreamPosition
    var boundSequence: UInt64
    var filterHash: UInt64
    /// The last event returned: its partition and offset (-1 when not from Kafka) and sequence.
    var lastPartition: Int32
    var lastOffset: Int64
    var lastSequence: UInt64
    var key: SortKey

    func encoded() -> String {
        let keyText: String
        switch key {
        case .integer(let v): keyText = String(v)
        case .real(let d): keyText = Self.hex(d.bitPattern)
        case .text(let s): keyText = s
        }
        let body = [
            Self.version, field.rawValue, order.rawValue, bound.id, String(boundSequence), Self.hex(filterHash),
            String(lastPartition), String(lastOffset), String(lastSequence), keyText,
        ].joined(separator: "|")
        return Base64URL.encode(Array((Self.hex(Self.checksum(body.utf8)) + "|" + body).utf8))
    }

    /// nil for anything that is not a well-formed cursor of this version.
    static func decode(_ token: String) -> PageCursor? {
        guard token.utf8.count <= maxTokenLength, let bytes = Base64URL.decode(token),
              let text = String(validating: bytes, as: UTF8.self)
        else { return nil }
        let parts = text.split(separator: "|", maxSplits: 10, omittingEmptySubsequences: false)
        guard parts.count == 11, let sum = UInt64(parts[0], radix: 16), parts[0].utf8.count == 16 else { return nil }
        guard sum == checksum(bytes[17...]) else { return nil }
        guard parts[1] == version,
              let field = SortField(rawValue: String(parts[2])),
              let order = SortOrder(rawValue: String(parts[3])),
              case .position(let bound) = StreamPosition.parse(parts[4]),
              let boundSequence = UInt64(parts[5]),
              parts[6].utf8.count == 16, let filterHash = UInt64(parts[6], radix: 16),
              let lastPartition = Int32(parts[7]), lastPartition >= -1,
              let lastOffset = Int64(parts[8]), lastOffset >= -1,
              let lastSequence = UInt64(parts[9])
        else { return nil }
        let keyText = parts[10]
        let key: SortKey
        switch Pager.keyKind(field) {
        case .integer:
            guard let v = Int64(keyText) else { return nil }
            key = .integer(v)
        case .real:
            guard keyText.utf8.count == 16, let bits = UInt64(keyText, radix: 16) else { return nil }
            let d = Double(bitPattern: bits)
            guard d.isFinite else { return nil }
            key = .real(d)
        case .text:
            key = .text(String(keyText))
        }
        return PageCursor(
            field: field, order: order, bound: bound, boundSequence: boundSequence, filterHash: filterHash,
            lastPartition: lastPartition, lastOffset: lastOffset, lastSequence: lastSequence, key: key)
    }

    private static func checksum(_ body: some Sequence<UInt8>) -> UInt64 {
        var hash = StableHash()
        hash.add(body)
        return hash.finish().1
    }

    private static func hex(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.utf8.count) + digits
    }
}
