import Testing
@testable import History

/// The calendar arithmetic behind partition names: retention reads a day back from its name, so
/// a name must map to exactly one day and back.
@Suite struct DayPartitionTests {
    @Test func namesAndBoundsOfKnownDays() {
        let first = DayPartition(containing: 1_795_996_800_000)  // 2026-11-30T00:00:00Z
        #expect(first.name == "listens_20261130")
        #expect(first.lowerBound == 1_795_996_800_000 && first.upperBound == 1_795_996_800_000 + 86_400_000)
        #expect(DayPartition(containing: 1_795_996_799_999).name == "listens_20261129")
        #expect(DayPartition(containing: 0).name == "listens_19700101")
        #expect(DayPartition(containing: -1).name == "listens_19691231")
        #expect(DayPartition(containing: 951_782_400_000).name == "listens_20000229")  // leap: divisible by 400
        // 2100 is not leap: the day after February 28 is March 1.
        #expect(DayPartition(containing: 4_107_456_000_000).name == "listens_21000228")
        #expect(DayPartition(containing: 4_107_542_400_000).name == "listens_21000301")
    }

    @Test func everyDayOfFiveCenturiesRoundTrips() {
        // 1900-01-01 to 2400-01-01, leap rules of all kinds included.
        for day in Int64(-25_567)...Int64(157_054) {
            let partition = DayPartition(day: day)
            #expect(DayPartition(name: partition.name) == partition)
            if DayPartition(name: partition.name) != partition { return }
        }
    }

    @Test func otherNamesAreNotDays() {
        for name in ["listens_20260231", "listens_20261301", "listens_2026113", "listens_202611300", "listens_2026113x",
                     "listens", "other_20261130", "listens_00000000"] {
            #expect(DayPartition(name: name) == nil, "\(name)")
        }
    }
}
