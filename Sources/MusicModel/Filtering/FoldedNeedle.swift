/// A filter value lowercased once, so matching an event needs no allocation on the ASCII path;
/// anything non-ASCII falls back to Unicode-aware `lowercased()`.
struct FoldedNeedle: Sendable, Equatable {
    let lowered: String
    let bytes: [UInt8]
    let isASCII: Bool

    init(_ value: String) {
        lowered = value.lowercased()
        bytes = Array(lowered.utf8)
        isASCII = bytes.allSatisfy { $0 < 0x80 }
    }

    @inline(__always)
    private static func fold(_ b: UInt8) -> UInt8 {
        b >= 0x41 && b <= 0x5A ? b | 0x20 : b
    }

    /// Case-insensitive substring test.
    func isContained(in haystack: String) -> Bool {
        if bytes.isEmpty { return true }
        if isASCII {
            let fast: Bool?? = haystack.utf8.withContiguousStorageIfAvailable { h -> Bool? in
                for b in h where b >= 0x80 { return nil }
                let n = h.count
                let m = bytes.count
                guard m <= n else { return false }
                return bytes.withUnsafeBufferPointer { p -> Bool in
                    let first = p[0]
                    var i = 0
                    while i <= n - m {
                        if Self.fold(h[i]) == first {
                            var j = 1
                            while j < m && Self.fold(h[i + j]) == p[j] { j += 1 }
                            if j == m { return true }
                        }
                        i += 1
                    }
                    return false
                }
            }
            if let answer = fast ?? nil { return answer }
        }
        return haystack.lowercased().contains(lowered)
    }

    /// Case-insensitive equality.
    func isEqual(to value: String) -> Bool {
        if bytes.isEmpty { return true }
        if isASCII {
            let fast: Bool?? = value.utf8.withContiguousStorageIfAvailable { h -> Bool? in
                if h.count != bytes.count {
                    // Only conclusive when the value is ASCII too.
                    for b in h where b >= 0x80 { return nil }
                    return false
                }
                for i in 0..<h.count {
                    let b = h[i]
                    if b >= 0x80 { return nil }
                    if Self.fold(b) != bytes[i] { return false }
                }
                return true
            }
            if let answer = fast ?? nil { return answer }
        }
        return value.lowercased() == lowered
    }
}
