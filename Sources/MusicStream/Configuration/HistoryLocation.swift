/// Where the history store lives (`--history`): off, the embedded SQLite file in the data
/// directory (the default), or a shared PostgreSQL server.
public enum HistoryLocation: Sendable, Comparable, LosslessStringConvertible {
    case none
    case sqlite
    /// A libpq connection URL, `postgres://user[:password]@host[:port]/database[?options]`.
    case postgres(String)

    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace
        switch trimmed.lowercased() {
        case "none", "off": self = .none
        case "sqlite": self = .sqlite
        default:
            let lowered = trimmed.lowercased()
            guard lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://"),
                  trimmed.count > "postgres://".count else { return nil }
            self = .postgres(trimmed)
        }
    }

    /// As given, but never with a password: this is what logs and --help show.
    public var description: String {
        switch self {
        case .none: "none"
        case .sqlite: "sqlite"
        case .postgres(let url): Self.withoutPassword(url)
        }
    }

    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
    static func withoutPassword(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}

private extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
