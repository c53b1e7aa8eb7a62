import MusicModel

/// What the aggregates read of a listen: its time, the ids of its five text facets, its rating
/// and whether it was completed. `facet_blocks` stores these packed, a minute's listens
/// together, so a range is aggregated by reading ~24 bytes a listen in long runs rather than
/// stepping SQLite through an index entry by entry (~0.35 µs a listen, measured on a million).
struct SQLiteFacetRow: Hashable {
    var timestamp: Int64
    /// genre, platform, mood, country, artist: `texts` ids, in `SQLiteFacetTally.textFacets` order.
    var genre: Int64
    var platform: Int64
    var mood: Int64
    var country: Int64
    var artist: Int64
    var rating: Int
    var completed: Bool

    /// Bytes of one packed row: the millisecond in its minute (2), rating and completed (1),
    /// a spare byte, five ids of 4 bytes.
    static let packedSize = 24

    /// The minute a listen's block belongs to (its start, in milliseconds). Wrapping: only a
    /// timestamp within a minute of Int64.min could overflow, and decoding accepts the years
    /// 2000-2100 only.
    static func minute(of timestamp: Int64) -> Int64 {
        let remainder = (timestamp % SQLiteRollup.minute &+ SQLiteRollup.minute) % SQLiteRollup.minute
        return timestamp &- remainder
    }

    /// Whether the row's ids fit the packed form's 4 bytes each (a file would need four
    /// billion distinct texts to pass it; the writer refuses rather than store a wrong id).
    var isPackable: Bool {
        [genre, platform, mood, country, artist].allSatisfy { $0 >= 0 && $0 <= Int64(UInt32.max) }
        && (0...5).contains(rating)
    }

    /// Appends the packed row (little-endian) to `bytes`.
    func pack(into bytes: inout [UInt8]) {
        let offset = UInt16(truncatingIfNeeded: timestamp &- Self.minute(of: timestamp))
        bytes.append(UInt8(truncatingIfNeeded: offset))
        bytes.append(UInt8(truncatingIfNeeded: offset >> 8))
        bytes.append(UInt8(rating << 1) | (completed ? 1 : 0))
        bytes.append(0)
        for id in [genre, platform, mood, country, artist] {
            let value = UInt32(truncatingIfNeeded: id)
            bytes.append(UInt8(truncatingIfNeeded: value))
            bytes.append(UInt8(truncatingIfNeeded: value >> 8))
            bytes.append(UInt8(truncatingIfNeeded: value >> 16))
            bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        }
    }

    /// Calls `body` with every row packed in `bytes`, whose block starts at `minute`. Trailing
    /// bytes short of a row are ignored.
    @inline(__always)
    static func forEach(in bytes: UnsafeRawBufferPointer, minute: Int64, _ body: (SQLiteFacetRow) -> Void) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count / packedSize
        for index in 0..<count {
            let row = base + index * packedSize
            func id(_ at: Int) -> Int64 { Int64(UInt32(littleEndian: row.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
            let offset = UInt16(littleEndian: row.loadUnaligned(as: UInt16.self))
            let flags = row.load(fromByteOffset: 2, as: UInt8.self)
            body(SQLiteFacetRow(
                timestamp: minute + Int64(offset), genre: id(4), platform: id(8), mood: id(12), country: id(16),
                artist: id(20), rating: Int(flags >> 1), completed: flags & 1 == 1))
        }
    }
}
