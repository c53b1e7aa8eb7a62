#if os(Linux)
internal import CMalloc
#endif

/// Gives memory that bursts left free back to the operating system. After a catch-up (the
/// window refilled on start, a backlog after an outage) glibc keeps the freed blocks of every
/// thread's arena mapped for reuse: with a 100,000-event window refilled from Kafka that was
/// 120 MB of RSS nobody used. `malloc_trim` walks the arenas and releases whole free pages.
enum FreedMemory {
    /// Costs a walk over every arena (milliseconds with a large heap): call it from a thread
    /// nobody is waiting on, such as the ingest thread (see MemoryReleaseSchedule).
    static func release() {
        #if os(Linux)
        _ = malloc_trim(0)
        #endif
    }
}
