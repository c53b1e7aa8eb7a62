import Testing
@testable import MusicModel

@Suite struct TimelineTests {
    func event(at t: Int64, skipped: Bool = false, genre: String = "Indie") -> ListenEvent {
        var e = sampleEvent()
        e.timestamp = t
        e.listenPosition = skipped ? 1 : e.duration
        e.genre = genre
        return e
    }

    func stored(_ events: [ListenEvent]) -> [StoredEvent] {
        Array(window(events).events(after: 0))
    }

    @Test func bucketWidths() {
        #expect(TimelineBucket.allCases.map(\.rawValue) == ["1s", "10s", "1m", "1h", "1d"])
        #expect(TimelineBucket.allCases.map(\.milliseconds) == [1_000, 10_000, 60_000, 3_600_000, 86_400_000])
        #expect(TimelineBucket(rawValue: "10s") == .tenSeconds)
        #expect(Timeline.bucketStart(1_700_000_012_345, 10_000) == 1_700_000_010_000)
        #expect(Timeline.bucketStart(60_000, 60_000) == 60_000)
        #expect(Timeline.bucketStart(59_999, 60_000) == 0)
        #expect(Timeline.bucketStart(-1, 1_000) == -1_000)
        #expect(Timeline.bucketStart(-1_000, 1_000) == -1_000)
        #expect(Timeline.bucketStart(.min, 60_000) == nil)
        #expect(Timeline.bucketStart(.max, 60_000) == Int64.max / 60_000 * 60_000)
    }

    @Test func continuousAndZeroFilled() {
        let base: Int64 = 1_700_000_000_000
        let events = [
            event(at: base + 5_500), event(at: base + 100, skipped: true), event(at: base + 999),
            event(at: base + 1_000), event(at: base + 5_000, skipped: true),
        ]
        let points = Timeline.points(stored(events), filter: EventFilter(), bucket: .oneSecond)
        #expect(points == [
            TimelinePoint(t: base, count: 2, skipped: 1),
            TimelinePoint(t: base + 1_000, count: 1, skipped: 0),
            TimelinePoint(t: base + 2_000, count: 0, skipped: 0),
            TimelinePoint(t: base + 3_000, count: 0, skipped: 0),
            TimelinePoint(t: base + 4_000, count: 0, skipped: 0),
            TimelinePoint(t: base + 5_000, count: 2, skipped: 1),
        ])
        let minute = Timeline.points(stored(events), filter: EventFilter(), bucket: .oneMinute)
        #expect(minute == [TimelinePoint(t: base / 60_000 * 60_000, count: 5, skipped: 2)])
    }

    @Test func emptyWhenNothingMatches() {
        #expect(Timeline.points([StoredEvent](), filter: EventFilter(), bucket: .oneSecond).isEmpty)
        let events = stored([event(at: 1_700_000_000_000)])
        #expect(Timeline.points(events, filter: EventFilter(genres: ["Pop"]), bucket: .tenSeconds).isEmpty)
    }

    @Test func filterApplied() {
        let base: Int64 = 1_700_000_000_000
        let events = stored([
            event(at: base, genre: "Pop"), event(at: base + 10_000), event(at: base + 20_000, genre: "Pop"),
            event(at: base + 40_000, skipped: true),
        ])
        let indie = Timeline.points(events, filter: EventFilter(genres: ["indie"]), bucket: .tenSeconds)
        #expect(indie.map(\.t) == [base + 10_000, base + 20_000, base + 30_000, base + 40_000])
        #expect(indie.map(\.count) == [1, 0, 0, 1] && indie.map(\.skipped) == [0, 0, 0, 1])
        let skips = Timeline.points(events, filter: EventFilter(skipped: true), bucket: .tenSeconds)
        #expect(skips == [TimelinePoint(t: base + 40_000, count: 1, skipped: 1)])
    }

    @Test func maxPointsKeepsTheNewest() {
        let base: Int64 = 1_700_000_000_000
        let events = stored((0..<100).map { event(at: base + Int64($0) * 1_000) } + [event(at: base + 99_500)])
        let capped = Timeline.points(events, filter: EventFilter(), bucket: .oneSecond, maxPoints: 10)
        #expect(capped.count == 10)
        #expect(capped.first?.t == base + 90_000 && capped.last?.t == base + 99_000)
        #expect(capped.last?.count == 2 && capped.dropLast().allSatisfy { $0.count == 1 })
        #expect(Timeline.points(events, filter: EventFilter(), bucket: .oneSecond, maxPoints: 100).count == 100)
        #expect(Timeline.points(events, filter: EventFilter(), bucket: .oneSecond, maxPoints: 1000).count == 100)
        // Nonsense limits are clamped rather than trusted.
        #expect(Timeline.points(events, filter: EventFilter(), bucket: .oneSecond, maxPoints: 0).count == 1)
        #expect(Timeline.points(events, filter: EventFilter(), bucket: .oneSecond, maxPoints: -5).count == 1)
        // A huge span with a huge limit stays bounded.
        let far = stored([event(at: 1_000), event(at: 4_000_000_000_000)])
        let bounded = Timeline.points(far, filter: EventFilter(), bucket: .oneSecond, maxPoints: .max)
        #expect(bounded.count == Timeline.maxPointsLimit && bounded.last?.count == 1)
        #expect(bounded.dropLast().allSatisfy { $0.count == 0 })
        // Absurd timestamps never trap.
        let extreme = stored([event(at: .min), event(at: .max), event(at: 0)])
        #expect(Timeline.points(extreme, filter: EventFilter(), bucket: .oneMinute).count == 3_600)
    }

    @Test func agreesWithBruteForceOnSimulatedData() {
        let events = simulatedEvents(3_000, seed: 8)
        let all = stored(events)
        var rng = SplitMix64(seed: 4)
        for i in 0..<20 {
            let filter = i == 0 ? EventFilter() : randomFilter(&rng, events)
            for bucket in TimelineBucket.allCases {
                let maxPoints = [3600, 7, 50][i % 3]
                let points = Timeline.points(all, filter: filter, bucket: bucket, maxPoints: maxPoints)
                #expect(Timeline.points(window(events), filter: filter, bucket: bucket, maxPoints: maxPoints) == points)
                let size = bucket.milliseconds
                let matching = events.filter { referenceMatches(filter, $0) }
                guard let newest = matching.map({ $0.timestamp / size * size }).max(),
                      let oldest = matching.map({ $0.timestamp / size * size }).min()
                else {
                    #expect(points.isEmpty)
                    continue
                }
                let first = max(oldest, newest - Int64(maxPoints - 1) * size)
                var expected: [TimelinePoint] = []
                var t = first
                while t <= newest {
                    let inBucket = matching.filter { $0.timestamp >= t && $0.timestamp < t + size }
                    expected.append(TimelinePoint(t: t, count: inBucket.count, skipped: inBucket.filter(\.skipped).count))
                    t += size
                }
                #expect(points == expected, "\(bucket) \(filter)")
            }
        }
    }
}

@Suite struct TimelineContinuousTests {
    @Test func sparseCountsBecomeAContinuousSeriesOrNilPastTheCap() {
        let points = Timeline.continuous([120_000: (3, 1), 0: (1, 0)], bucketMilliseconds: 60_000, maxPoints: 3)
        #expect(points == [TimelinePoint(t: 0, count: 1, skipped: 0), TimelinePoint(t: 60_000, count: 0, skipped: 0),
                           TimelinePoint(t: 120_000, count: 3, skipped: 1)])
        #expect(Timeline.continuous([120_000: (3, 1), 0: (1, 0)], bucketMilliseconds: 60_000, maxPoints: 2) == nil)
        #expect(Timeline.continuous([:], bucketMilliseconds: 60_000, maxPoints: 2) == [])
    }
}
