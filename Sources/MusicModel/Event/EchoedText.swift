/// Input text quoted back in a rejection detail, which ends up in a log line: control characters,
/// DEL, C1 controls and the Unicode line separators are written as `\n` / `\u001b` escapes, so a
/// record cannot end the log line and forge one of its own; long text is cut to `limit` scalars.
enum EchoedText {
    static func render(_ bytes: some Collection<UInt8>, limit: Int = 64) -> String {
        var out = ""
        var count = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            count += 1
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
