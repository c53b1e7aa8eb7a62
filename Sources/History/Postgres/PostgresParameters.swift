/// Text parameters for one statement ($1, $2, ...), kept in one byte buffer of NUL-terminated
/// values: an INSERT of 10,000 new `listen_values` carries 20,000 of them, and one allocation
/// beats 20,000 C strings.
struct PostgresParameters {
    private var bytes: [UInt8] = []
    /// Where each value starts in `bytes`; -1 for SQL NULL.
    private var starts: [Int] = []

    init(capacity: Int = 0, bytesPerValue: Int = 16) {
        starts.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * bytesPerValue)
    }

    var count: Int { starts.count }

    /// PostgreSQL text cannot hold U+0000 (and a C string would end there), so a NUL is stored
    /// as U+FFFD, visibly replaced, rather than cutting the value short or refusing the row.
    mutating func append(_ text: String) {
        starts.append(bytes.count)
        // Fast path: native strings hand over their UTF-8 in one piece.
        let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(0) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(0)
            return
        }
        for byte in text.utf8 {
            if byte == 0 {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
            } else {
                bytes.append(byte)
            }
        }
        bytes.append(0)
    }

    mutating func append(_ number: Int64) {
        starts.append(bytes.count)
        if number == 0 {
            bytes.append(UInt8(ascii: "0"))
        } else {
            if number < 0 { bytes.append(UInt8(ascii: "-")) }
            let first = bytes.count
            var rest = number.magnitude
            while rest > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            }
            bytes[first...].reverse()
        }
        bytes.append(0)
    }

    mutating func append(_ number: Int) { append(Int64(number)) }

    mutating func append(_ number: Int32) { append(Int64(number)) }

    mutating func append(_ flag: Bool) {
        append(flag ? "t" : "f")
    }

    mutating func appendNull() {
        starts.append(-1)
    }

    /// The values as libpq's array of C strings, valid only inside `body`.
    func withCStrings<R, E: Error>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws(E) -> R
    ) throws(E) -> R {
        let result: Result<R, E> = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                var pointers: [UnsafePointer<CChar>?] = []
                pointers.reserveCapacity(starts.count)
                for start in starts {
                    pointers.append(start < 0 ? nil : UnsafePointer(chars.baseAddress! + start))
                }
                return pointers.withUnsafeBufferPointer { array in
                    do throws(E) {
                        return .success(try body(array.baseAddress))
                    } catch {
                        return .failure(error)
                    }
                }
            }
        }
        return try result.get()
    }
}
