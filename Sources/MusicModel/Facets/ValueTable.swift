/// The distinct values of one text field among the events counted, each with a small integer id
/// and how many events carry it. It is that field's facet counts, and it is what lets window
/// scans compare ids instead of strings: a filter is resolved against the table once per request
/// (`ResolvedFilter`), then each event costs an array lookup.
///
/// An id whose count drops to zero is freed and reused, so a table never has more ids than the
/// events it counts ever held at once: hostile input with a new value in every record cannot
/// grow it past the window.
struct ValueTable: Sendable {
    /// By id; "" for a freed id.
    private(set) var values: [String] = []
    /// By id; 0 for a freed id.
    private(set) var counts: [Int] = []
    private var idByValue: [String: UInt32] = [:]
    private var freeIDs: [UInt32] = []
    /// By id: the bits of `values[id]` (see `StringBits`).
    private var valueBits: [StringBits] = []
    /// Ids of recently counted values, by a hash of their bits: the ingest path counts five
    /// values per event, and the consumer thread hands over the same `String` for repeated text
    /// (its `TextInterner`; short text is inline), so most lookups are settled by comparing two
    /// words instead of hashing the text for `idByValue`.
    private var recent: [UInt32]

    /// `recentSlots` (a power of two) sizes the cache of recently counted values: a few dozen
    /// cover a facet's values; a table of users or titles wants more.
    init(recentSlots: Int = 64) {
        recent = [UInt32](repeating: .max, count: recentSlots)
    }

    /// Ids are below this; arrays indexed by id need this many slots.
    var idLimit: Int { values.count }

    /// Counts one more event carrying `value` and returns its id.
    @inline(__always)
    mutating func retain(_ value: String) -> UInt32 {
        let bits = StringBits(value)
        let slot = bits.slot(among: recent.count)
        let cached = Int(recent[slot])
        // Same bits as the value held under that id, which is alive while its count is above 0.
        if cached < counts.count, counts[cached] > 0, valueBits[cached] == bits {
            counts[cached] += 1
            return UInt32(cached)
        }
        let id: UInt32
        if let known = idByValue[value] {
            id = known
            counts[Int(id)] += 1
        } else if let reused = freeIDs.popLast() {
            id = reused
            values[Int(id)] = value
            valueBits[Int(id)] = bits
            counts[Int(id)] = 1
            idByValue[value] = id
        } else {
            id = UInt32(values.count)
            values.append(value)
            valueBits.append(bits)
            counts.append(1)
            idByValue[value] = id
        }
        recent[slot] = id
        return id
    }

    /// Counts one event fewer for `id`; ignored for an id not in use.
    @inline(__always)
    mutating func release(_ id: UInt32) {
        let index = Int(id)
        guard index < counts.count, counts[index] > 0 else { return }
        counts[index] -= 1
        if counts[index] == 0 {
            idByValue[values[index]] = nil
            values[index] = ""
            valueBits[index] = StringBits("")
            freeIDs.append(id)
        }
    }

    func id(of value: String) -> UInt32? { idByValue[value] }

    /// Values in use with their counts, unsorted.
    func entries() -> [FacetEntry] {
        var result: [FacetEntry] = []
        result.reserveCapacity(idByValue.count)
        for (index, count) in counts.enumerated() where count > 0 {
            result.append(FacetEntry(value: values[index], count: count))
        }
        return result
    }

    /// For every id, whether its value satisfies `test`; freed ids get false.
    func mask(_ test: (String) -> Bool) -> [Bool] {
        var result = [Bool](repeating: false, count: values.count)
        for (index, count) in counts.enumerated() where count > 0 { result[index] = test(values[index]) }
        return result
    }
}
