/// Listens counted per text id in one scan: a flat array indexed by id when the column's ids
/// are few enough (a facet's values usually are: their ids are small numbers assigned as the
/// values first appear), a dictionary otherwise. The array costs no hashing per row, which over
/// millions of rows is most of the counting.
struct SQLiteIDCounter {
    /// Largest id a flat array is allocated for (4 MiB of counts).
    static let flatLimit: Int64 = 1 << 20

    private var flat: [Int32]
    private var sparse: [Int64: Int] = [:]

    /// `maxID`: the largest id of the column's values in the snapshot being read.
    init(maxID: Int64) {
        flat = maxID >= 0 && maxID < Self.flatLimit ? [Int32](repeating: 0, count: Int(maxID) + 1) : []
    }

    @inline(__always)
    mutating func add(_ id: Int64) {
        if id >= 0 && id < Int64(flat.count) {
            flat[Int(id)] &+= 1
        } else {
            sparse[id, default: 0] += 1
        }
    }

    /// The ids counted, with their counts.
    var counts: [Int64: Int] {
        var all = sparse
        for (id, count) in flat.enumerated() where count > 0 { all[Int64(id), default: 0] += Int(count) }
        return all
    }
}
