extension String {
    /// Without the leading and trailing characters `isPadding` accepts (by default any Unicode
    /// whitespace). Text with no padding at either edge, the common case, is returned as it is,
    /// without a copy. Filter values, sort names, POSTed text and query options all trim here.
    public func trimmed(where isPadding: (Character) -> Bool = \.isWhitespace) -> String {
        guard let first, let last, isPadding(first) || isPadding(last) else { return self }
        var view = Substring(self)
        while let head = view.first, isPadding(head) { view.removeFirst() }
        while let tail = view.last, isPadding(tail) { view.removeLast() }
        return String(view)
    }
}

extension Character {
    /// An ASCII space or tab: the padding a query option may carry (other control characters in
    /// an option are errors, not padding).
    public var isSpaceOrTab: Bool { self == " " || self == "\t" }
}
