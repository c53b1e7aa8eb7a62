import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C / SIGTERM for the command-line tools, which have no event loop: the handler only sets
/// a flag that their loops check.
enum StopSignal {
    private static let requested = Atomic<Bool>(false)

    static func install() {
        signal(SIGINT) { _ in StopSignal.requested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in StopSignal.requested.store(true, ordering: .relaxed) }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }
}
