internal import CPostgres

/// A successful statement's result, read in place: values are copied out of libpq's buffer one
/// field at a time, and the buffer is freed with the object.
final class PostgresResult {
    private let handle: OpaquePointer

    /// Takes ownership of `handle` (PQclear on deinit).
    init(owning handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    var rowCount: Int { Int(PQntuples(handle)) }

    /// Rows an INSERT, UPDATE or DELETE touched (PQcmdTuples; 0 when the command says none).
    var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(handle, Int32(row), Int32(column)) != 0
    }

    /// The field as text; "" for NULL (check `isNull` where NULL means something).
    func string(_ row: Int, _ column: Int) -> String {
        guard let value = PQgetvalue(handle, Int32(row), Int32(column)) else { return "" }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
        }
    }

    /// An integer field, parsed straight from the text without a String in between; nil for
    /// NULL or for text that is not a decimal integer.
    func int64(_ row: Int, _ column: Int) -> Int64? {
        if isNull(row, column) { return nil }
        guard let value = PQgetvalue(handle, Int32(row), Int32(column)) else { return nil }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            Self.parseInteger(UnsafeBufferPointer(start: bytes, count: length))
        }
    }

    func int(_ row: Int, _ column: Int) -> Int? {
        int64(row, column).map { Int($0) }
    }

    func bool(_ row: Int, _ column: Int) -> Bool? {
        if isNull(row, column) { return nil }
        return string(row, column) == "t"
    }

    private static func parseInteger(_ digits: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        let negative = digits.first == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < digits.count else { return nil }
        var value: Int64 = 0
        while index < digits.count {
            let digit = digits[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative
                ? times10.subtractingReportingOverflow(Int64(digit)) : times10.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { return nil }
            value = next
            index += 1
        }
        return value
    }
}
