/// A totally ordered sort key, compared three-way so one comparison serves both directions.
protocol PageSortKey {
    /// Negative, zero or positive as `a` sorts before, with, or after `b` ascending.
    static func order(_ a: Self, _ b: Self) -> Int
    /// The value as a cursor carries it.
    var sortKey: SortKey { get }
    /// The value back out of a cursor; nil when the cursor holds another kind.
    init?(sortKey: SortKey)
}

extension Int64: PageSortKey {
    var sortKey: SortKey { .integer(self) }

    init?(sortKey: SortKey) {
        guard case .integer(let v) = sortKey else { return nil }
        self = v
    }

    @inline(__always)
    static func order(_ a: Int64, _ b: Int64) -> Int {
        a < b ? -1 : (a > b ? 1 : 0)
    }
}

extension Double: PageSortKey {
    var sortKey: SortKey { .real(self) }

    init?(sortKey: SortKey) {
        guard case .real(let v) = sortKey else { return nil }
        self = v
    }

    /// Keys are finite (cursors with anything else are refused), so `<` is a total order.
    @inline(__always)
    static func order(_ a: Double, _ b: Double) -> Int {
        a < b ? -1 : (a > b ? 1 : 0)
    }
}

extension String: PageSortKey {
    var sortKey: SortKey { .text(self) }

    init?(sortKey: SortKey) {
        guard case .text(let v) = sortKey else { return nil }
        self = v
    }

    /// Case-insensitive (full Unicode lowercasing, compared as UTF-8 bytes), then the exact
    /// bytes as a tie-break, so distinct strings never compare equal and paging is deterministic.
    /// `String`'s own `<` is not used: it orders by Unicode canonical equivalence, which would
    /// make distinct byte strings tie.
    static func order(_ a: String, _ b: String) -> Int {
        let fast: Int?? = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb in foldedOrder(pa, pb) } ?? nil
        }
        if let answer = fast ?? nil { return answer }
        return fullOrder(a, b)
    }

    @inline(__always)
    private static func fold(_ b: UInt8) -> UInt8 {
        b >= 0x41 && b <= 0x5A ? b | 0x20 : b
    }

    /// Byte walk with ASCII case folding. Identical bytes are skipped even when non-ASCII (an
    /// identical scalar lowercases identically); a non-ASCII difference needs real lowercasing,
    /// signalled by nil. Everything before the deciding byte is a run of whole, equal-folding
    /// scalars, so the answer agrees with `fullOrder`.
    private static func foldedOrder(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = Swift.min(a.count, b.count)
        var tieBreak = 0
        var i = 0
        while i < n {
            let x = a[i]
            let y = b[i]
            if x != y {
                if x >= 0x80 || y >= 0x80 { return nil }
                let fx = fold(x)
                let fy = fold(y)
                if fx != fy { return fx < fy ? -1 : 1 }
                if tieBreak == 0 { tieBreak = x < y ? -1 : 1 }
            }
            i += 1
        }
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        return tieBreak
    }

    private static func fullOrder(_ a: String, _ b: String) -> Int {
        let folded = byteOrder(a.lowercased(), b.lowercased())
        return folded != 0 ? folded : byteOrder(a, b)
    }

    private static func byteOrder(_ a: String, _ b: String) -> Int {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            }
        }
    }
}
