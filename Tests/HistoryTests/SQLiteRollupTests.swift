import MusicModel
import Testing
@testable import History
import HistoryTesting

/// Range-only aggregates come from the roll-ups plus the partial minutes at the ends: they must
/// equal the window's code over the same listens at any boundaries, after duplicates, and after
/// retention took the oldest listens away.
@Suite struct SQLiteRollupTests {
    /// 2,000 listens over about nine days, several per minute and some per millisecond.
    static let events: [ListenEvent] = {
        var events = listens(2_000, seed: 11, perTimestamp: 1)
        var dice = Dice(seed: 5)
        for i in events.indices {
            events[i].timestamp = baseTime + Int64(i) * 397_013 + Int64(dice.below(3)) * 59_999
        }
        return events
    }()

    static func check(_ reader: any HistoryReader, _ events: [ListenEvent], rounds: Int, seed: UInt64) throws {
        #expect(try AggregateOracle.rangeMismatches(reader, events, rounds: rounds, seed: seed) == [])
    }

    @Test func rangesAnsweredFromTheRollupsEqualTheWindowsCode() throws {
        try withStore { store in
            let writer = try store.openWriter()
            let all = records(Self.events)
            // In batches, and with every tenth listen sent twice: duplicates must not count.
            for start in stride(from: 0, to: all.count, by: 300) {
                let batch = Array(all[start..<min(all.count, start + 300)])
                _ = try writer.write(batch + batch.enumerated().filter { $0.offset % 10 == 0 }.map(\.element),
                                     topic: "t", nextOffsets: [:])
            }
            try Self.check(try store.openReader(), Self.events, rounds: 80, seed: 3)
        }
    }

    @Test func retentionTakesItsListensOutOfTheRollups() throws {
        try withStore { store in
            let writer = try store.openWriter()
            _ = try writer.write(records(Self.events), topic: "t", nextOffsets: [:])
            let cut = Self.events[Self.events.count / 3].timestamp + 12_345
            while try writer.deleteListens(before: cut, limit: 97) > 0 {}
            let kept = Self.events.filter { $0.timestamp >= cut }
            try Self.check(try store.openReader(), kept, rounds: 60, seed: 4)
            let empty = try rawConnection(store).prepare(
                "SELECT (SELECT COUNT(*) FROM rollup_listens WHERE listens <= 0) + "
                    + "(SELECT COUNT(*) FROM rollup_facets WHERE listens <= 0)", doing: "counting empty roll-ups")
            #expect(try empty.step() && empty.int(at: 0) == 0)
            empty.reset()
        }
    }

    @Test func aRangeSplitsIntoRowsMinutesAndHours() {
        let hour = SQLiteRollup.hour, minute = SQLiteRollup.minute
        let plan = SQLiteRollup.Plan((10 * hour - minute - 5)..<(13 * hour + 2 * minute + 7), useHours: true)
        #expect(plan.rows == [(10 * hour - minute - 5)..<(10 * hour - minute), (13 * hour + 2 * minute)..<(13 * hour + 2 * minute + 7)])
        #expect(plan.minutes == [(10 * hour - minute)..<(10 * hour), (13 * hour)..<(13 * hour + 2 * minute)])
        #expect(plan.hours == [(10 * hour)..<(13 * hour)])
        let noHours = SQLiteRollup.Plan((10 * hour - minute)..<(13 * hour), useHours: false)
        #expect(noHours.rows.isEmpty && noHours.hours.isEmpty && noHours.minutes == [(10 * hour - minute)..<(13 * hour)])
        #expect(SQLiteRollup.Plan(5..<70, useHours: true).rows == [5..<70])
    }
}
