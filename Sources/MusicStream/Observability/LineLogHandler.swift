import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The default log output: one line per entry on standard error, `<UTC time> <level> <message>`,
/// then any metadata as `key=value`. Each line is a single write(2), so lines from different
/// threads never interleave. The level names are the ones the log has always used ("warn").
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let write: @Sendable (String) -> Void

    /// Writes to standard error; `write` replaces that (tests).
    public init(level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = LineLogHandler.standardError) {
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "\(Self.timestamp()) \(Self.name(event.level)) \(event.message)"
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        write(line + "\n")
    }

    /// "warn" rather than "warning", as every line before swift-log said.
    static func name(_ level: Logger.Level) -> String {
        level == .warning ? "warn" : level.rawValue
    }

    @Sendable public static func standardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = Glibc.write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    /// 2026-12-04T15:22:51.123Z
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
