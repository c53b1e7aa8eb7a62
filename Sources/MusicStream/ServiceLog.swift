import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Operational log lines on standard error, one line each, with a UTC timestamp. Thread-safe:
/// each line is a single write(2).
public enum ServiceLog {
    public static func info(_ message: String) { emit("info", message) }
    public static func warning(_ message: String) { emit("warn", message) }
    public static func error(_ message: String) { emit("error", message) }

    private static func emit(_ level: String, _ message: String) {
        var line = "\(timestamp()) \(level) \(message)\n"
        line.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }

    private static func timestamp() -> String {
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
