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
    /// Large blocks (512 KiB and up: a sink batch, its prepared ids, a COPY buffer) get their
    /// own mappings, given back when freed. glibc otherwise raises that threshold each time
    /// such a block is freed, after which they come from the thread arenas and fragment them:
    /// the history sink's threads grew RSS by 10-20 MB a burst of 100,000 records that way
    /// (`test_hostile_kafka.py`'s two bursts; ~6 MB with the threshold fixed, as without a
    /// history). Call once, before the threads start.
    static func fixLargeBlockThreshold() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 512 * 1024)
        #endif
    }

    static func release() {
        #if os(Linux)
        _ = malloc_trim(0)
        #endif
    }
}
