/// HTTP header names compare without regard to ASCII case. Comparing in place, rather than
/// lowercasing both sides, keeps header lookups free of allocations on every request.
enum HeaderName {
    static func equal(_ a: String, _ b: String) -> Bool {
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil):
                return true
            case let (x?, y?):
                if x != y && lower(x) != lower(y) { return false }
            default:
                return false
            }
        }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (65...90).contains(byte) ? byte | 0x20 : byte
    }
}
