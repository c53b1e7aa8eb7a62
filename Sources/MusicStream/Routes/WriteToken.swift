/// The shared secret that guards publishing. Compared in constant time so response timing says
/// nothing about how much of a guess was right.
struct WriteToken {
    private let secret: [UInt8]

    init(_ secret: String) { self.secret = Array(secret.utf8) }

    /// True when `authorization` is `Bearer <secret>`.
    func admits(authorization: String?) -> Bool {
        guard let authorization else { return false }
        let bytes = Array(authorization.utf8)
        let prefix = Array("Bearer ".utf8)
        guard bytes.count >= prefix.count,
              bytes[..<prefix.count].map({ $0 | 0x20 }) == prefix.map({ $0 | 0x20 }) else { return false }
        return Self.constantTimeEquals(Array(bytes[prefix.count...]), secret)
    }

    /// Compares every byte of the longer input whatever the contents, so time depends on length only.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
