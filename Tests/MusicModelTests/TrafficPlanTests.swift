import Testing
@testable import MusicModel

/// The simulator's pace over time: what is due by a moment is the integral of the pace.
@Suite struct TrafficPlanTests {
    /// The integral of `rate(at:)` by the midpoint rule, to check `expectedEvents` against.
    private func integrated(_ plan: TrafficPlan, to end: Double, step: Double = 0.05) -> Double {
        var total = 0.0
        var t = 0.0
        while t < end {
            let width = min(step, end - t)
            total += plan.rate(at: t + width / 2) * width
            t += width
        }
        return total
    }

    @Test func steadyIsTheRate() {
        let plan = TrafficPlan(shape: .steady, rate: 20, seed: 1)
        #expect(plan.rate(at: 123) == 20)
        #expect(plan.expectedEvents(by: 10) == 200)
    }

    @Test func spikesAreTenfoldBurstsOfThirtySecondsAtRandomGaps() throws {
        let plan = TrafficPlan(shape: .spikes, rate: 100, seed: 42)
        let bursts = plan.bursts(until: 3_600)
        // An hour holds between 3,600 / (240 + 30) and 3,600 / (60 + 30) bursts.
        #expect((13...40).contains(bursts.count), "\(bursts.count) bursts")
        var quietSince = 0.0
        for burst in bursts {
            let gap = burst.lowerBound - quietSince
            #expect((60.0...240.0).contains(gap), "gap of \(gap) s")
            #expect(burst.upperBound - burst.lowerBound == TrafficPlan.burstSeconds)
            #expect(plan.rate(at: burst.lowerBound + 1) == 1_000)
            #expect(plan.rate(at: burst.lowerBound - 1) == 100)
            quietSince = burst.upperBound
        }
        let first = try #require(bursts.first)
        // Exact at the edges of a burst, and against a numeric integral in between.
        #expect(plan.expectedEvents(by: first.lowerBound) == 100 * first.lowerBound)
        #expect(abs(plan.expectedEvents(by: first.upperBound) - 100 * (first.upperBound + 9 * 30)) < 1e-6)
        #expect(abs(plan.expectedEvents(by: 1_000) - integrated(plan, to: 1_000)) < 60)
        // The same seed gives the same bursts; another seed other ones.
        #expect(TrafficPlan(shape: .spikes, rate: 1, seed: 42).bursts(until: 3_600) == bursts)
        #expect(TrafficPlan(shape: .spikes, rate: 1, seed: 43).bursts(until: 3_600) != bursts)
    }

    @Test func theGapBetweenBurstsCanBeShortened() {
        let plan = TrafficPlan(shape: .spikes, rate: 100, seed: 42, burstGap: 10)
        var quietSince = 0.0
        let bursts = plan.bursts(until: 600)
        #expect(bursts.count >= 600 / (16 + 30))
        for burst in bursts {
            #expect((4.0...16.0).contains(burst.lowerBound - quietSince), "gap of \(burst.lowerBound - quietSince) s")
            quietSince = burst.upperBound
        }
    }

    @Test func diurnalSwingsFromNightToPeakAndAveragesTheRate() {
        let plan = TrafficPlan(shape: .diurnal, rate: 50, seed: 7)
        let day = TrafficPlan.dayLength
        #expect(abs(plan.rate(at: 0) - 10) < 1e-9)              // night: 0.2x
        #expect(abs(plan.rate(at: day / 2) - 90) < 1e-9)        // afternoon: 1.8x
        #expect(abs(plan.expectedEvents(by: day) - 50 * day) < 1e-6)
        #expect(abs(plan.expectedEvents(by: 211) - integrated(plan, to: 211)) < 0.01)
        var previous = 0.0
        for second in stride(from: 1.0, through: day, by: 1) {
            let due = plan.expectedEvents(by: second)
            #expect(due > previous)
            previous = due
        }
    }
}
