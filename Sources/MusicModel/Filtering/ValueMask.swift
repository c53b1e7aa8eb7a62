/// Whether each value id passes a text constraint, in memory its `ResolvedFilter` owns (and
/// frees): a scan reads it through a plain pointer, where reading an array stored in a class
/// costs a retain and a release per event.
struct ValueMask {
    private let bits: UnsafeMutableBufferPointer<Bool>

    init(_ values: [Bool]) {
        bits = .allocate(capacity: values.count)
        _ = bits.initialize(from: values)
    }

    /// Every id a slot of the window carries is below the table's `idLimit`, which the mask
    /// covers (the window does not change during a scan).
    @inline(__always)
    subscript(id: UInt32) -> Bool { bits[Int(id)] }

    func deallocate() { bits.deallocate() }
}
