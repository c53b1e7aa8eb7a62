import Foundation
import MusicModel
import Synchronization
import Testing
@testable import History

@Suite struct SQLiteConcurrencyTests {
    @Test func aReaderSeesTheLastCommitWhileAWriteIsOpen() throws {
        try withStore { store in
            let events = listens(20)
            let writer = try store.openWriter()
            _ = try writer.write(records(Array(events.prefix(10))), topic: "t", nextOffsets: [0: 4])
            let reader = try store.openReader()

            // Another connection holds a write transaction with a row not yet committed.
            let other = try rawConnection(store)
            let insert = try other.prepare(SQLiteListenRow.insert, doing: "test insert")
            try other.exec("BEGIN IMMEDIATE", doing: "test")
            _ = try SQLiteListenRow.bind(
                HistoryRecord(event: events[10], partition: 0, offset: 99), to: insert, dictionary: try SQLiteTextDictionary(other))
            try insert.run()
            insert.reset()

            // WAL: the reader neither waits nor fails, and sees only what was committed.
            let started = ContinuousClock.now
            #expect(try reader.extent().listens == 10)
            let page = try reader.listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 50, scanLimit: 50)
            #expect(page.listens.count == 10)
            #expect(ContinuousClock.now - started < .seconds(1))

            try other.exec("COMMIT", doing: "test")
            #expect(try reader.extent().listens == 11)
        }
    }

    /// Shared between the test's threads.
    private final class Outcome: Sendable {
        let errors = Mutex<[String]>([])
        let writing = Atomic<Bool>(true)
        let reads = Atomic<Int>(0)

        func record(_ error: any Error) {
            errors.withLock { $0.append("\(error)") }
        }
    }

    @Test func readersWorkWhileAnotherThreadWrites() throws {
        try withStore { store in
            let events = listens(2_000, seed: 21)
            let user = events[0].userID
            let outcome = Outcome()
            let group = DispatchGroup()

            group.enter()
            Thread.detachNewThread {
                defer {
                    outcome.writing.store(false, ordering: .releasing)
                    group.leave()
                }
                do {
                    let writer = try store.openWriter()
                    for batch in 0..<40 {
                        let slice = Array(events[(batch * 50)..<(batch * 50 + 50)])
                        let added = try writer.write(
                            records(slice, firstOffset: Int64(batch * 17)), topic: "t", nextOffsets: [0: Int64(batch + 1)])
                        if added != 50 { outcome.record(HistoryError("batch \(batch) added \(added)")) }
                    }
                } catch {
                    outcome.record(error)
                }
            }
            for _ in 0..<2 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    do {
                        let reader = try store.openReader()
                        var seen = 0
                        repeat {
                            let count = try reader.extent().listens
                            if count < seen || count % 50 != 0 {
                                outcome.record(HistoryError("saw \(count) listens after \(seen)"))
                            }
                            seen = count
                            let page = try reader.listens(
                                matching: EventFilter(genres: ["pop"]), order: .newestFirst, after: nil, limit: 20,
                                scanLimit: 500)
                            if page.listens.count > 20 { outcome.record(HistoryError("page of \(page.listens.count)")) }
                            _ = try reader.userSummary(userID: user, since: nil, until: nil, top: 3)
                            outcome.reads.add(1, ordering: .relaxed)
                        } while outcome.writing.load(ordering: .acquiring)
                    } catch {
                        outcome.record(error)
                    }
                }
            }
            group.wait()

            #expect(outcome.errors.withLock { $0 } == [])
            #expect(outcome.reads.load(ordering: .relaxed) >= 2)
            let reader = try store.openReader()
            #expect(try reader.extent().listens == 2_000)
            #expect(try store.openWriter().nextOffsets(topic: "t") == [0: 40])
        }
    }
}
