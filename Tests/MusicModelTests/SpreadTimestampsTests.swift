import Testing
@testable import MusicModel

/// `produce --spread`: listens stamped evenly over a span that ends at the given time.
@Suite struct SpreadTimestampsTests {
    @Test func aDayOfListensEndsAtTheEndAndStartsOneStepIn() {
        let day: Int64 = 86_400_000
        let end: Int64 = 1_764_800_000_000
        let clock = SpreadTimestamps(count: 1_000, span: day, end: end)
        #expect(clock.timestamp(at: 0) == end - day + 86_400)
        #expect(clock.timestamp(at: 999) == end)
        #expect(clock.timestamp(at: 499) == end - day / 2)
    }

    @Test func stepsNeverGoBackAndDifferByAtMostOneMillisecond() {
        // 7 listens over 100 ms: steps of 14 or 15 ms, never decreasing.
        let clock = SpreadTimestamps(count: 7, span: 100, end: 1_000)
        let stamps = (0..<7).map { clock.timestamp(at: $0) }
        #expect(stamps.last == 1_000)
        #expect(stamps.allSatisfy { $0 > 900 && $0 <= 1_000 })
        let steps = zip(stamps.dropFirst(), stamps).map { $0 - $1 }
        #expect(steps.allSatisfy { $0 == 14 || $0 == 15 }, "\(steps)")
        // More listens than milliseconds: several share a millisecond, still in order.
        let dense = SpreadTimestamps(count: 1_000, span: 10, end: 50)
        let denseStamps = (0..<1_000).map { dense.timestamp(at: $0) }
        #expect(denseStamps == denseStamps.sorted())
        #expect(denseStamps.first == 40 && denseStamps.last == 50)
    }

    @Test func aCenturyTimesABillionListensDoesNotOverflow() {
        let century: Int64 = 36_500 * 86_400_000
        let clock = SpreadTimestamps(count: 1_000_000_000, span: century, end: century)
        #expect(clock.timestamp(at: 999_999_999) == century)
        #expect(clock.timestamp(at: 499_999_999) == century / 2)
        #expect(clock.timestamp(at: 0) == century / 1_000_000_000)
    }

    @Test func aZeroSpanStampsEveryListenAtTheEnd() {
        let clock = SpreadTimestamps(count: 3, span: 0, end: 42)
        #expect((0..<3).map { clock.timestamp(at: $0) } == [42, 42, 42])
    }
}
