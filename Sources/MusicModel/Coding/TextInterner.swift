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
    /// Plain pointers rather than stored arrays and counters: a class's stored `var`s are
    /// checked for exclusive access at run time on every use, which showed in ingest profiles.
    private let slots: UnsafeMutablePointer<String?>
    private let mask: Int
    /// Hits, then misses.
    private let counts: UnsafeMutablePointer<Int>
    public var hits: Int { counts[0] }
    public var misses: Int { counts[1] }

    /// `slots` is rounded up to a power of two.
    public init(slots: Int = 4096) {
        var size = 1
        while size < max(1, slots) { size <<= 1 }
        self.slots = .allocate(capacity: size)
        self.slots.initialize(repeating: nil, count: size)
        self.mask = size - 1
        counts = .allocate(capacity: 2)
        counts.initialize(repeating: 0, count: 2)
    }

    deinit {
        slots.deinitialize(count: mask + 1)
        slots.deallocate()
        counts.deallocate()
    }

    /// The text of `bytes` (valid UTF-8), shared with an earlier call for the same bytes when
    /// the cache still holds it.
    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count > 15 else { return Self.uncached(bytes) }
        let slot = slots + (Int(truncatingIfNeeded: Self.hash(UnsafeRawBufferPointer(bytes))) & mask)
        if let cached = slot.pointee, Self.equal(cached, bytes) {
            counts[0] += 1
            return cached
        }
        counts[1] += 1
        let string = String(decoding: bytes, as: UTF8.self)
        slot.pointee = string
        return string
    }

    /// The text of `bytes` (valid UTF-8) in a new `String`. Up to 15 bytes it is built in place
    /// (Swift keeps such text inline), which skips the general validating path for ASCII.
    @inline(__always)
    static func uncached(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count <= 15, let base = bytes.baseAddress else { return String(decoding: bytes, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            buffer.baseAddress!.update(from: base, count: bytes.count)
            return bytes.count
        }
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
