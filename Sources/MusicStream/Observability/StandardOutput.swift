#if canImport(Glibc)
import Glibc
#endif

/// Lines for people and scripts reading the process's output (start-up addresses, printed events),
/// written unbuffered so a pipe sees each line as it happens.
public enum StandardOutput {
    public static func line(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { bytes in _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
    }
}
