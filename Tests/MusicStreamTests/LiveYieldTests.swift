import Testing
@testable import MusicStream

/// The history sink gives way to the window's consumer while it catches up, for a bounded time.
@Suite struct LiveYieldTests {
    private func check(_ yield: inout LiveYield, _ lag: Int64, _ now: ContinuousClock.Instant, _ waits: Bool,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let answer = yield.shouldWait(lag: lag, now: now)
        #expect(answer == waits, sourceLocation: sourceLocation)
    }

    @Test func waitsOnlyWhileTheWindowIsFarBehind() {
        var yield = LiveYield(threshold: 100, longest: .seconds(30))
        let start = ContinuousClock.now
        check(&yield, 0, start, false)
        check(&yield, 100, start, false)
        check(&yield, 101, start, true)
        check(&yield, 5_000, start + .seconds(10), true)
        // Caught up: reads again at once, and a new wait starts its own clock.
        check(&yield, 3, start + .seconds(11), false)
        #expect(yield.since == nil)
        check(&yield, 500, start + .seconds(12), true)
        check(&yield, 500, start + .seconds(41), true)
    }

    @Test func aWindowThatNeverCatchesUpLetsABatchThroughEveryLongestWait() {
        var yield = LiveYield(threshold: 100, longest: .seconds(30))
        let start = ContinuousClock.now
        check(&yield, 1_000, start, true)
        check(&yield, 1_000, start + .seconds(29), true)
        check(&yield, 1_000, start + .seconds(30), false)   // one batch read
        check(&yield, 1_000, start + .seconds(31), true)    // then waits again
        check(&yield, 1_000, start + .seconds(61), false)
    }
}
