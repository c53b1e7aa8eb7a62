import Testing
@testable import History
import HistoryTesting
import MusicModel

/// PostgreSQL's roll-ups answer range-only aggregates exactly as the window's code over the
/// listens, however they got there: batches with duplicates (read again, or twice in one
/// batch), retention dropping days and deleting part of one, and a store that had listens
/// before the roll-ups existed.
@Suite struct PostgresRollupTests {
    /// Listens over three days at times that fall inside minutes and hours, not on their edges.
    static func events(_ count: Int, seed: UInt64) -> [HistoryRecord] {
        var dice = Dice(seed: seed)
        var records = Fixtures.records(count: count, days: 3, seed: seed)
        for i in records.indices {
            records[i].event.timestamp += Int64(dice.below(1_700_000))
        }
        var events = records.map(\.event)
        AggregateOracle.sprinkleVariants(&events, dice: &dice)
        for i in records.indices { records[i].event = events[i] }
        return records
    }

    static func check(_ reader: any HistoryReader, _ events: [ListenEvent], rounds: Int, seed: UInt64) throws {
        #expect(try AggregateOracle.rangeMismatches(reader, events, rounds: rounds, seed: seed) == [])
    }

    static func emptyRows(_ url: String) throws -> Int {
        try Fixtures.sql(url, "SELECT (SELECT count(*) FROM rollup_listens WHERE listens <= 0) + "
            + "(SELECT count(*) FROM rollup_facets WHERE listens <= 0)").int(0, 0) ?? -1
    }

    @Test func batchesWithDuplicatesRollUpEachListenOnce() throws {
        let (url, store) = try Fixtures.freshStore()
        let records = Self.events(1_500, seed: 61)
        let writer = try store.openWriter()
        let preparer = try #require(writer.makePreparer())
        // Overlapping batches, and one listen twice within a batch; half prepared, half plain.
        var start = 0
        var index = 0
        while start < records.count {
            let end = min(start + 200, records.count)
            var batch = Array(records[max(0, start - 30)..<end])
            batch.append(batch[batch.count / 2])
            if index % 2 == 0 {
                _ = try writer.write(preparer.prepare(batch), topic: Fixtures.topic, nextOffsets: [:])
            } else {
                _ = try writer.write(batch, topic: Fixtures.topic, nextOffsets: [:])
            }
            start = end
            index += 1
        }
        #expect(try Fixtures.count(url) == records.count)
        try Self.check(try store.openReader(), records.map(\.event), rounds: 40, seed: 1)
        #expect(try Self.emptyRows(url) == 0)
    }

    @Test func retentionTakesItsListensOutOfTheRollups() throws {
        let (url, store) = try Fixtures.freshStore()
        let records = Self.events(1_200, seed: 62)
        let writer = try store.openWriter()
        _ = try writer.write(records, topic: Fixtures.topic, nextOffsets: [:])
        // Drops the first day whole, then deletes the second day's older rows in small steps.
        let cutoff = Fixtures.firstDay + Fixtures.day + 10 * Rollup.hour + 12_345
        while try writer.deleteListens(before: cutoff, limit: 97) > 0 {}
        let kept = records.map(\.event).filter { $0.timestamp >= cutoff }
        #expect(try Fixtures.count(url) == kept.count)
        try Self.check(try store.openReader(), kept, rounds: 40, seed: 2)
        #expect(try Self.emptyRows(url) == 0)
    }

    @Test func aStoreWithListensBeforeTheRollupsGetsThemFilled() throws {
        let (url, store) = try Fixtures.freshStore()
        let records = Self.events(900, seed: 63)
        _ = try store.openWriter().write(records, topic: Fixtures.topic, nextOffsets: [:])
        try Fixtures.sql(url, "DROP TABLE rollup_listens")
        try Fixtures.sql(url, "DROP TABLE rollup_facets")
        // Opening the store again (any connection) makes and fills them.
        let again = try PostgresHistoryStore(url: url)
        try Self.check(try again.openReader(), records.map(\.event), rounds: 30, seed: 3)
        let more = Self.events(300, seed: 64).map { record in
            var record = record
            record.event.eventID = "more-" + record.event.eventID
            return record
        }
        _ = try again.openWriter().write(more, topic: Fixtures.topic, nextOffsets: [:])
        try Self.check(try again.openReader(), (records + more).map(\.event), rounds: 30, seed: 4)
    }
}
