/// Where a scanned string's content is: a raw slice of the input when it had no escapes
/// (the common case, zero copies), otherwise the scanner's scratch buffer.
package struct StringToken {
    package var start: Int
    package var end: Int
    package var escaped: Bool
}
