import Testing
@testable import KafkaClient

/// The window's refill reads the topic's newest records shared between its partitions.
@Suite struct NewestRecordsTests {
    @Test func evenPartitionsShareTheTotal() {
        let starts = NewestRecords.starts(low: [0, 0, 0], high: [30_000, 30_000, 30_000], total: 10_000)
        let taken = zip([30_000, 30_000, 30_000] as [Int64], starts).map { $0 - $1 }
        #expect(taken.reduce(0, +) == 10_000)
        #expect(taken.max()! - taken.min()! <= 1)
    }

    @Test func aShortPartitionGivesAllItHasAndTheOthersTheRest() {
        #expect(NewestRecords.starts(low: [0, 0, 0], high: [100, 50_000, 50_000], total: 10_000) == [0, 45_050, 45_050])
        // Kept records start later than 0 (the broker dropped older ones).
        #expect(NewestRecords.starts(low: [900, 10, 0], high: [1_000, 5_010, 0], total: 3_000) == [900, 2_110, 0])
    }

    @Test func moreThanTheTopicHoldsReadsEverythingFromTheOldest() {
        #expect(NewestRecords.starts(low: [5, 0], high: [10, 20], total: 1_000) == [5, 0])
        #expect(NewestRecords.starts(low: [5, 0, 7], high: [10, 20, 7], total: .max) == [5, 0, 7])
        #expect(NewestRecords.starts(low: [], high: [], total: 10) == [])
        #expect(NewestRecords.starts(low: [0, 0], high: [10, 10], total: 0) == [10, 10])
    }
}
