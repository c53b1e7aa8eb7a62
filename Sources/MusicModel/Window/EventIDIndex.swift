/// The window's duplicate index: which ring slot holds each event_id. Open addressing with
/// linear probing, one 8-byte word per bucket (the slot and 32 bits of the id's hash), so a
/// million held ids cost 16 MB rather than the ~64 MB of a `[EventIDKey: UInt64]`, and a miss
/// (the usual answer on the ingest path) is mostly decided without reading the ring.
///
/// Ids live in the ring, not here: every operation is handed the ring's buffer. Deletion shifts
/// later entries back (no tombstones), so probe runs never grow with churn. A slot number takes
/// 32 bits, far above the largest window `--window` allows (10,000,000).
struct EventIDIndex {
    /// 0 for an empty bucket, else `tag << 32 | (slot + 1)`. The tag is the high 32 bits of the
    /// id's mixed hash and its low bits pick the entry's home bucket, so entries move (growth,
    /// deletion) without reading the ring.
    private var buckets: [UInt64]
    private var mask: Int
    private(set) var count = 0

    init(expecting capacity: Int) {
        var size = 16
        while size < 2 * min(max(capacity, 1), 1 << 16) { size <<= 1 }
        buckets = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func tag(_ mixed: UInt64) -> UInt64 { mixed >> 32 }

    /// The slot holding `id`, if any.
    func slot(of id: EventIDKey, in ring: UnsafeBufferPointer<WindowSlot>) -> Int? {
        let mixed = id.mixed
        let tag = Self.tag(mixed)
        var index = Int(truncatingIfNeeded: Self.tag(mixed)) & mask
        while true {
            let bucket = buckets[index]
            if bucket == 0 { return nil }
            if bucket >> 32 == tag {
                let slot = Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1
                if ring[slot].id == id { return slot }
            }
            index = (index + 1) & mask
        }
    }

    /// Files `id` (already written to `slot` of the ring) under that slot, replacing an entry
    /// for the same id: the newest copy is the one found.
    mutating func set(_ id: EventIDKey, slot: Int, in ring: UnsafeBufferPointer<WindowSlot>) {
        if 2 * (count + 1) > buckets.count { grow() }
        let mixed = id.mixed
        let entry = Self.tag(mixed) << 32 | UInt64(slot + 1)
        var index = Int(truncatingIfNeeded: Self.tag(mixed)) & mask
        while true {
            let bucket = buckets[index]
            if bucket == 0 {
                buckets[index] = entry
                count += 1
                return
            }
            if bucket >> 32 == Self.tag(mixed) {
                let held = Int(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1
                if ring[held].id == id {
                    buckets[index] = entry
                    return
                }
            }
            index = (index + 1) & mask
        }
    }

    /// Forgets `slot` if `id`'s entry points at it (a newer copy of the id keeps its entry).
    mutating func remove(_ id: EventIDKey, slot: Int) {
        let mixed = id.mixed
        let entry = Self.tag(mixed) << 32 | UInt64(slot + 1)
        var index = Int(truncatingIfNeeded: Self.tag(mixed)) & mask
        while true {
            let bucket = buckets[index]
            if bucket == 0 { return }
            if bucket == entry { break }
            index = (index + 1) & mask
        }
        // Shift back every later entry of the run that may sit at the hole: one whose home
        // bucket is not between the hole and where it lies.
        var hole = index
        var next = (index + 1) & mask
        while buckets[next] != 0 {
            let home = Int(truncatingIfNeeded: buckets[next] >> 32) & mask
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
        count -= 1
    }

    private mutating func grow() {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: old.count * 2)
        mask = buckets.count - 1
        for bucket in old where bucket != 0 {
            var index = Int(truncatingIfNeeded: bucket >> 32) & mask
            while buckets[index] != 0 { index = (index + 1) & mask }
            buckets[index] = bucket
        }
    }
}
