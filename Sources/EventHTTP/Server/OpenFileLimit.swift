#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit, which bounds how many connections can be held: every
/// connection is a descriptor, and accept() failing with EMFILE would leave the listener
/// spinning on a connection it cannot take.
public enum OpenFileLimit {
    /// Descriptors kept for everything but client connections (Kafka sockets, files, the
    /// loop's own) and for refused connections that are still closing.
    public static let reserve = 256 + HTTPServer.maxLingering

    /// Raises the soft limit to the hard limit (allowed without privileges) and returns the
    /// soft limit in force afterwards.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)   // RLIM_INFINITY is the largest value: clamps to Int.max
    }

    /// The most connections that fit under a soft limit of `limit` descriptors.
    public static func connectionCeiling(limit: Int) -> Int {
        max(1, limit - reserve)
    }

    #if canImport(Glibc)
    private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif
}
