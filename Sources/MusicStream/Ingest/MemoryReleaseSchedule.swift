/// Decides when the ingest thread hands freed memory back (`FreedMemory.release`): once a
/// burst is over and has settled, and otherwise every so many records. A burst is a run of
/// full polls (the window refilling on start, a backlog after an outage); when the polls turn
/// small, the loop thread is still filing the burst's last batches, so the release waits a
/// moment for their buffers to be freed too.
struct MemoryReleaseSchedule {
    /// Records consumed between two releases.
    let recordsBetweenReleases: Int
    /// How long polls must stay small after a burst before releasing.
    let settle: Duration
    private var consumedSinceRelease = 0
    private var quietSince: ContinuousClock.Instant?

    init(recordsBetweenReleases: Int = 50_000, settle: Duration = .seconds(1)) {
        self.recordsBetweenReleases = recordsBetweenReleases
        self.settle = settle
    }

    /// Call after every poll with how many records it returned out of `limit`.
    mutating func shouldRelease(polled: Int, limit: Int, now: ContinuousClock.Instant) -> Bool {
        consumedSinceRelease += polled
        if polled * 2 >= limit {   // a burst is on: its buffers are still in use
            quietSince = nil
            return false
        }
        let quietStart = quietSince ?? now
        quietSince = quietStart
        guard consumedSinceRelease >= recordsBetweenReleases, now - quietStart >= settle else { return false }
        consumedSinceRelease = 0
        return true
    }
}
