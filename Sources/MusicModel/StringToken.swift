/// Where a scanned string's content is: a raw slice of the input when it had no escapes
/// (the common case, zero copies), otherwise the scanner's scratch buffer.
struct StringToken {
    var start: Int
    var end: Int
    var escaped: Bool
}
