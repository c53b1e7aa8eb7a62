/// The two machine words a `String` value consists of. Equal words mean equal strings: the
/// same inline text (15 UTF-8 bytes or fewer are stored in the words themselves), or the same
/// storage object with the same length. Unequal words say nothing: equal text can live in two
/// objects. So a match is only trusted while a `String` with these bits is known to be alive,
/// which keeps the object (and its address) from being reused.
struct StringBits: Equatable {
    let first: UInt64
    let second: UInt64

    init(_ string: String) {
        // `String` is exactly two words on every 64-bit platform Swift supports.
        (first, second) = unsafeBitCast(string, to: (UInt64, UInt64).self)
    }

    /// A slot in a table of `count` (a power of two) entries.
    func slot(among count: Int) -> Int {
        let mixed = (first ^ (second &* 0x9e37_79b9_7f4a_7c15)) &* 0xff51_afd7_ed55_8ccd
        return Int(truncatingIfNeeded: mixed >> 32) & (count - 1)
    }
}
