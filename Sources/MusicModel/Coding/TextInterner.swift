/// Hands out one shared `String` for text seen again, so the decoder does not allocate a new
/// copy of "Glimpse of Us" for every listen of it. Listen events repeat most of their text
/// (users, tracks, artists, places): sharing it saves an allocation and a free per field on the
/// ingest path and several hundred bytes per event held in the window.
///
/// A direct-mapped cache: each slot holds the last text that hashed to it, so memory is bounded
/// (slots × the decoder's 256-byte field limit) whatever the input, and hostile input costs only
/// misses. Text of 15 bytes or fewer is not cached: Swift stores it inline, without allocating.
/// One per decoding thread; not thread-safe.
public final class TextInterner {
    private var slots: [String?]
    private let mask: Int
    public private(set) var hits = 0
    public private(set) var misses = 0

    /// `slots` is rounded up to a power of two.
    public init(slots: Int = 4096) {
        var size = 1
        while size < max(1, slots) { size <<= 1 }
        self.slots = [String?](repeating: nil, count: size)
        self.mask = size - 1
    }

    /// The text of `bytes` (valid UTF-8), shared with an earlier call for the same bytes when
    /// the cache still holds it.
    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count > 15 else { return String(decoding: bytes, as: UTF8.self) }
        let slot = Int(truncatingIfNeeded: Self.hash(UnsafeRawBufferPointer(bytes))) & mask
        if let cached = slots[slot], Self.equal(cached, bytes) {
            hits += 1
            return cached
        }
        misses += 1
        let string = String(decoding: bytes, as: UTF8.self)
        slots[slot] = string
        return string
    }

    /// Eight bytes a step (byte-at-a-time FNV-1a was most of this type's cost); the slot only
    /// needs a fair spread, and a collision merely costs a miss.
    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(bytes.count)
        var index = 0
        while index + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xff51_afd7_ed55_8ccd
            hash ^= hash >> 32
            index += 8
        }
        if index < bytes.count {
            // The last one to eight bytes, read as the final (overlapping) word.
            let tail = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            hash = (hash ^ tail) &* 0xc4ce_b9fe_1a85_ec53
        }
        return hash ^ (hash >> 29)
    }

    private static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == bytes.count else { return false }
        return utf8.withContiguousStorageIfAvailable { stored in
            sameBytes(UnsafeRawBufferPointer(stored), UnsafeRawBufferPointer(bytes))
        } ?? utf8.elementsEqual(bytes)
    }

    /// Equal-length buffers compared eight bytes at a time (the generic `elementsEqual` showed up
    /// in ingest profiles).
    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index + 8 <= a.count {
            if a.loadUnaligned(fromByteOffset: index, as: UInt64.self) != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) {
                return false
            }
            index += 8
        }
        while index < a.count {
            if a[index] != b[index] { return false }
            index += 1
        }
        return true
    }
}
