internal import CMalloc

/// Background work (the history sink) yields the CPU to the live path: on a busy machine the
/// loop thread, which serves the page and the stream, runs first, and the sink catches up in
/// the time left over. Linux keeps a nice value per thread, so only the calling thread is
/// lowered.
enum BackgroundPriority {
    /// The nice value of background threads: well below normal work, above idle-only.
    static let nice: Int32 = 10

    /// Lowers the calling thread; false where the system refuses (it then runs at normal priority).
    @discardableResult
    static func lowerCurrentThread() -> Bool {
        #if os(Linux)
        return musicstream_set_thread_nice(nice) == 0
        #else
        return false
        #endif
    }
}
