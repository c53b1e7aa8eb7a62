import Testing
@testable import MusicStream

@Suite struct MemoryReleaseScheduleTests {
    let start = ContinuousClock.now
    let limit = 4096

    /// One poll of `count` records, `milliseconds` after the start: did it call for a release?
    func poll(_ schedule: inout MemoryReleaseSchedule, _ count: Int, at milliseconds: Int) -> Bool {
        schedule.shouldRelease(polled: count, limit: limit, now: start + .milliseconds(milliseconds))
    }

    @Test func releasesOnceABurstHasSettled() {
        var schedule = MemoryReleaseSchedule(recordsBetweenReleases: 10_000, settle: .seconds(1))
        var released: [Bool] = []
        for step in 0..<5 { released.append(poll(&schedule, limit, at: 10 * step)) }   // a refill
        released.append(poll(&schedule, 3, at: 100))
        released.append(poll(&schedule, 0, at: 900))
        #expect(released.allSatisfy { !$0 }, "released during the burst or before it settled")
        #expect(poll(&schedule, 2, at: 1_100))
        #expect(!poll(&schedule, 0, at: 1_200), "released twice for one burst")
    }

    @Test func aNewBurstRestartsTheSettlingTime() {
        var schedule = MemoryReleaseSchedule(recordsBetweenReleases: 10_000, settle: .seconds(1))
        var released = [poll(&schedule, limit * 3, at: 0), poll(&schedule, 1, at: 100)]
        released.append(poll(&schedule, 4000, at: 1_000))   // another burst
        released.append(poll(&schedule, 1, at: 1_050))
        #expect(released.allSatisfy { !$0 })
        #expect(poll(&schedule, 1, at: 2_100))
    }

    @Test func aSteadyTrickleReleasesEverySoManyRecords() {
        var schedule = MemoryReleaseSchedule(recordsBetweenReleases: 1_000, settle: .seconds(1))
        var releases = 0
        for step in 1...501 where poll(&schedule, 10, at: 10 * step) {   // 10 records every 10 ms
            releases += 1
        }
        #expect(releases == 5)
    }

    @Test func anIdleConsumerNeverReleases() {
        var schedule = MemoryReleaseSchedule(recordsBetweenReleases: 1_000, settle: .seconds(1))
        var releases = 0
        for step in 0..<100 where poll(&schedule, 0, at: 1_000 * step) { releases += 1 }
        #expect(releases == 0)
    }
}
