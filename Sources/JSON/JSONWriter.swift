/// Appends JSON to one growing byte buffer; handles commas and string escaping.
/// Responses are built in a single buffer so an event list costs one allocation, not one per event.
/// `<`, `>`, `&`, U+2028 and U+2029 are escaped so the output is safe inside HTML and JavaScript.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]
    /// Whether the next value or key in the current container needs a leading comma.
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(max(0, capacity))
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"name":`; the value call that follows adds no comma.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    public mutating func int(_ value: Int) {
        int64(Int64(value))
    }

    public mutating func int64(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            bytes.append(0x30 + UInt8(magnitude))
            return
        }
        // Up to 20 digits, written backwards into a fixed-size scratch.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            while magnitude > 0 {
                raw[23 - count] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }

    /// Finite values only; NaN and infinities have no JSON form and become null.
    public mutating func double(_ value: Double) {
        guard value.isFinite else {
            null()
            return
        }
        // Whole values print without ".0" (no libm: a round trip through Int64 decides).
        if value.magnitude < 1e15, value == Double(Int64(value)) {
            int64(Int64(value))
            return
        }
        separate()
        bytes.append(contentsOf: value.description.utf8)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    /// An already-serialised JSON value (e.g. an encoded event), copied verbatim.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    /// An already-serialised JSON value in borrowed memory, copied verbatim.
    public mutating func raw(_ json: UnsafeBufferPointer<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
    }

    // MARK: Escaping

    /// Escapes into temporary memory, then appends once (the rules live in `JSONRawWriter`).
    private mutating func appendQuoted(_ value: String) {
        var copy = value
        copy.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: utf8.count * 6 + 2) { buffer in
                guard let base = buffer.baseAddress else { return }
                var p = base
                p.pointee = UInt8(ascii: "\"")
                p += 1
                JSONRawWriter.escape(&p, utf8)
                p.pointee = UInt8(ascii: "\"")
                p += 1
                bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: p - base))
            }
        }
    }
}
