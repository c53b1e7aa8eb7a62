/// When the history sink, running in the background, waits for the window's consumer: while
/// that one is more than `threshold` records behind (catching up after a start from the
/// beginning or an outage), so the window and the stream get the cores first; but never more
/// than `longest` at a stretch, so a window that never catches up does not stop the history.
struct LiveYield {
    let threshold: Int64
    let longest: Duration
    /// When the current wait began; nil while not waiting.
    private(set) var since: ContinuousClock.Instant?

    init(threshold: Int64, longest: Duration) {
        self.threshold = threshold
        self.longest = longest
    }

    /// Whether to wait now, with the window `lag` records behind. After a wait of `longest` it
    /// says no once (one batch is read), then waits again if the window is still behind.
    mutating func shouldWait(lag: Int64, now: ContinuousClock.Instant) -> Bool {
        guard lag > threshold else {
            since = nil
            return false
        }
        guard let since else {
            self.since = now
            return true
        }
        if now - since < longest { return true }
        self.since = nil
        return false
    }
}
