/// A JSON number kept as an exact decimal (mantissa × 10^exponent) so integer checks,
/// half-up rounding and seconds→milliseconds conversion never go through binary floating point.
package struct JSONNumber: Sendable {
    package var negative = false
    /// Up to 19 significant digits.
    package var mantissa: UInt64 = 0
    package var exponent = 0
    /// A non-zero digit after the decimal point was dropped for lack of precision.
    package var droppedFraction = false
    /// Byte range of the lexeme in the input, for messages.
    package var start = 0
    package var end = 0

    package var isZero: Bool { mantissa == 0 && !droppedFraction }

    /// True when the value is below zero (negative zero is not).
    package var isNegative: Bool { negative && !isZero }

    package enum IntegerResult {
        case value(Int64)
        case notWhole
        case tooLarge
    }

    /// The value as an exact Int64, if it is a whole number that fits.
    package func exactInteger() -> IntegerResult {
        if droppedFraction { return .notWhole }
        var m = mantissa
        var e = exponent
        if m == 0 { return .value(0) }
        while e < 0 && m % 10 == 0 {
            m /= 10
            e += 1
        }
        if e < 0 { return .notWhole }
        while e > 0 {
            let (r, o) = m.multipliedReportingOverflow(by: 10)
            if o { return .tooLarge }
            m = r
            e -= 1
        }
        if negative {
            if m > UInt64(Int64.max) + 1 { return .tooLarge }
            return .value(m == UInt64(Int64.max) + 1 ? Int64.min : -Int64(m))
        }
        if m > UInt64(Int64.max) { return .tooLarge }
        return .value(Int64(m))
    }

    /// |value| × 10^scale truncated toward zero, and whether anything was cut off.
    /// nil when the result does not fit in Int64.
    package func truncatedMagnitude(scale: Int) -> (value: Int64, remainder: Bool)? {
        if mantissa == 0 { return (0, droppedFraction) }
        var m = mantissa
        let e = exponent + scale
        if e >= 0 {
            if e > 19 { return nil }
            for _ in 0..<e {
                let (r, o) = m.multipliedReportingOverflow(by: 10)
                if o { return nil }
                m = r
            }
            if m > UInt64(Int64.max) { return nil }
            return (Int64(m), droppedFraction)
        }
        if -e > 19 { return (0, true) }
        var p: UInt64 = 1
        for _ in 0 ..< -e { p *= 10 }
        let q = m / p
        let rem = m % p != 0 || droppedFraction
        if q > UInt64(Int64.max) { return nil }
        return (Int64(q), rem)
    }
}
