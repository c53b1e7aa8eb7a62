/// Writes JSON tokens straight into raw memory the caller has sized (each string byte escapes to
/// at most 6 bytes). The event encoder uses it for its hot path and `JSONWriter` for every string,
/// so the whole service escapes one way: `"` `\\` control bytes, `<` `>` `&`, U+2028 and U+2029,
/// which keeps the output safe inside HTML and JavaScript too.
package enum JSONRawWriter {
    @inline(__always)
    package static func put(_ p: inout UnsafeMutablePointer<UInt8>, _ s: StaticString) {
        let n = s.utf8CodeUnitCount
        p.update(from: s.utf8Start, count: n)
        p += n
    }

    package static func integer(_ p: inout UnsafeMutablePointer<UInt8>, _ value: Int64) {
        if value < 0 {
            p.pointee = UInt8(ascii: "-")
            p += 1
        }
        var m = value.magnitude
        var digits = 1
        var probe = m
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var q = p + digits
        p = q
        repeat {
            q -= 1
            q.pointee = 0x30 + UInt8(truncatingIfNeeded: m % 10)
            m /= 10
        } while m > 0
    }

    package static func string(_ p: inout UnsafeMutablePointer<UInt8>, _ s: String) {
        p.pointee = UInt8(ascii: "\"")
        p += 1
        var copy = s
        copy.withUTF8 { escape(&p, $0) }
        p.pointee = UInt8(ascii: "\"")
        p += 1
    }

    /// Copies `s` escaped: `"` `\` control bytes, `<` `>` `&`, U+2028 and U+2029.
    package static func escape(_ p: inout UnsafeMutablePointer<UInt8>, _ s: UnsafeBufferPointer<UInt8>) {
        guard let src = s.baseAddress else { return }
        let n = s.count
        var i = 0
        var runStart = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        while i < n {
            // Skip eight bytes at a time while none can need escaping.
            while n - i >= 8 {
                let x = UInt64(littleEndian: UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self))
                let q = x ^ (ones &* 0x22), bs = x ^ (ones &* 0x5C), lt = x ^ (ones &* 0x3C)
                let gt = x ^ (ones &* 0x3E), amp = x ^ (ones &* 0x26), e2 = x ^ (ones &* 0xE2)
                var hits = (x &- ones &* 0x20) & ~x
                hits |= ((q &- ones) & ~q) | ((bs &- ones) & ~bs) | ((lt &- ones) & ~lt)
                hits |= ((gt &- ones) & ~gt) | ((amp &- ones) & ~amp) | ((e2 &- ones) & ~e2)
                hits &= ones &* 0x80
                if hits != 0 {
                    i += hits.trailingZeroBitCount >> 3
                    break
                }
                i += 8
            }
            if i >= n { break }
            let b = src[i]
            var replacement: UInt16 = 0  // 0: none; < 0x80: short escape letter; else \u form
            switch b {
            case 0x22: replacement = 0x22
            case 0x5C: replacement = 0x5C
            case 0x0A: replacement = UInt16(UInt8(ascii: "n"))
            case 0x0D: replacement = UInt16(UInt8(ascii: "r"))
            case 0x09: replacement = UInt16(UInt8(ascii: "t"))
            case 0x08: replacement = UInt16(UInt8(ascii: "b"))
            case 0x0C: replacement = UInt16(UInt8(ascii: "f"))
            case 0x00..<0x20, 0x3C, 0x3E, 0x26: replacement = 0x100 | UInt16(b)
            case 0xE2 where i + 2 < n && src[i + 1] == 0x80 && (src[i + 2] == 0xA8 || src[i + 2] == 0xA9):
                replacement = src[i + 2] == 0xA8 ? 0x2028 : 0x2029
            default: break
            }
            if replacement == 0 {
                i += 1
                continue
            }
            if runStart < i {
                p.update(from: src + runStart, count: i - runStart)
                p += i - runStart
            }
            p.pointee = UInt8(ascii: "\\")
            if replacement < 0x80 {
                p[1] = UInt8(replacement)
                p += 2
                i += 1
            } else {
                let unit = replacement & 0x100 != 0 && replacement < 0x200 ? replacement & 0xFF : replacement
                let hex: StaticString = "0123456789abcdef"
                let h = hex.utf8Start
                p[1] = UInt8(ascii: "u")
                p[2] = h[Int(unit >> 12 & 0xF)]
                p[3] = h[Int(unit >> 8 & 0xF)]
                p[4] = h[Int(unit >> 4 & 0xF)]
                p[5] = h[Int(unit & 0xF)]
                p += 6
                i += unit >= 0x2028 ? 3 : 1
            }
            runStart = i
        }
        if runStart < n {
            p.update(from: src + runStart, count: n - runStart)
            p += n - runStart
        }
    }
}
