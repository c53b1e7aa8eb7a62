/// Rows in COPY's binary format (`COPY ... FROM STDIN (FORMAT binary)`), built in one reusable
/// byte buffer. Binary rather than text: every field goes as a length and its bytes, so text a
/// listener sent (tabs, newlines, backslashes, `\N`, anything) needs no escaping that could go
/// wrong, and the server parses no digits. The price is that each field's encoding must match
/// its column's type exactly (bigint 8 bytes, integer 4, boolean 1); a mismatch makes the server
/// refuse the COPY ("incorrect binary data format"), never store something else.
struct PostgresCopyBuffer {
    private(set) var bytes: [UInt8] = []

    /// The fixed header: signature, flags (no OIDs), no header extension.
    private static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: Self.header)
    }

    /// Empties the buffer for the next COPY, keeping its memory.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: Self.header)
    }

    /// Starts a row of `fields` fields.
    mutating func startRow(fields: Int16) {
        appendBigEndian(fields)
    }

    /// Text as its UTF-8 bytes. PostgreSQL text cannot hold U+0000, so a NUL is sent as U+FFFD,
    /// visibly replaced (as `PostgresParameters` does), rather than having the whole COPY refused.
    mutating func append(_ text: String) {
        let lengthAt = bytes.count
        appendBigEndian(Int32(0))
        let start = bytes.count
        // Fast path: native strings hand over their UTF-8 in one piece.
        let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(0) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied != true {
            for byte in text.utf8 {
                if byte == 0 {
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
                } else {
                    bytes.append(byte)
                }
            }
        }
        setBigEndian(Int32(truncatingIfNeeded: bytes.count - start), at: lengthAt)
    }

    /// A bigint field.
    mutating func append(_ number: Int64) {
        appendBigEndian(Int32(8))
        appendBigEndian(number)
    }

    /// An integer (int4) field.
    mutating func append(_ number: Int32) {
        appendBigEndian(Int32(4))
        appendBigEndian(number)
    }

    /// A boolean field.
    mutating func append(_ flag: Bool) {
        appendBigEndian(Int32(1))
        bytes.append(flag ? 1 : 0)
    }

    /// Ends the data: the trailer the server expects after the last row.
    mutating func finish() {
        appendBigEndian(Int16(-1))
    }

    private mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func setBigEndian(_ value: Int32, at index: Int) {
        withUnsafeBytes(of: value.bigEndian) { raw in
            for offset in 0..<4 { bytes[index + offset] = raw[offset] }
        }
    }
}
