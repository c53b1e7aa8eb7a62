import Foundation
import MusicModel
import Testing
@testable import History

@Suite struct SQLiteWriterTests {
    @Test func createsTheDirectoryAndNamesTheFile() throws {
        try withTemporaryDirectory { path in
            let store = try SQLiteHistoryStore(directory: path + "/a/b/../c")
            #expect(store.path == path + "/a/c/history.sqlite3")
            #expect(store.description == "sqlite:" + store.path)
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: path + "/a/c", isDirectory: &isDirectory) && isDirectory.boolValue)
            let mode = try FileManager.default.attributesOfItem(atPath: path + "/a/c")[.posixPermissions] as? Int
            #expect(mode == 0o700)
        }
    }

    @Test func refusesAFileAsDirectory() throws {
        try withTemporaryDirectory { path in
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: path + "/file", contents: Data()))
            #expect(throws: HistoryError.self) { try SQLiteHistoryStore(directory: path + "/file") }
        }
    }

    @Test func schemaCreationIsIdempotent() throws {
        try withTemporaryDirectory { path in
            let events = listens(30)
            do {
                let writer = try SQLiteHistoryStore(directory: path).openWriter()
                #expect(try writer.write(records(events), topic: "t", nextOffsets: [0: 10]) == 30)
            }
            // A second store value on the same directory, a second writer, then two at once.
            let store = try SQLiteHistoryStore(directory: path)
            let again = try store.openWriter()
            let third = try store.openWriter()
            #expect(try again.nextOffsets(topic: "t") == [0: 10])
            #expect(try third.write(records(listens(5, seed: 99)), topic: "t", nextOffsets: [:]) == 5)
            #expect(try store.openReader().extent().listens == 35)
            let connection = try rawConnection(store, readOnly: true)
            #expect(try SQLiteSchema.storedVersion(connection) == SQLiteSchema.version)
        }
    }

    @Test func aReaderFirstCreatesTheSchema() throws {
        try withStore { store in
            let reader = try store.openReader()
            #expect(try reader.extent() == HistoryExtent(listens: 0, oldest: nil, newest: nil))
            let page = try reader.listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 5, scanLimit: 5)
            #expect(page == HistoryPage(listens: [], next: nil))
        }
    }

    @Test func refusesANewerSchema() throws {
        try withStore { store in
            _ = try store.openWriter()
            try rawConnection(store).exec("PRAGMA user_version = 99", doing: "pretending to be newer")
            #expect(throws: HistoryError.self) { try store.openWriter() }
            #expect(throws: HistoryError.self) { try store.openReader() }
        }
    }

    @Test func aFileThatIsNotADatabaseMakesTheStoreUnavailable() throws {
        try withStore { store in
            let garbage = Data(repeating: 0x5A, count: 8_192)
            #expect(FileManager.default.createFile(atPath: store.path, contents: garbage))
            for open in [{ _ = try store.openWriter() }, { _ = try store.openReader() }] {
                let error = #expect(throws: HistoryError.self) { try open() }
                #expect(error?.isUnavailable == true)
                #expect(error?.message.contains("not a database") == true, "\(String(describing: error))")
                #expect(error?.message.contains(store.path) == true, "\(String(describing: error))")
            }
        }
    }

    @Test func writesInWALMode() throws {
        try withStore { store in
            _ = try store.openWriter()
            let statement = try rawConnection(store, readOnly: true).prepare("PRAGMA journal_mode", doing: "test")
            #expect(try statement.step())
            #expect(statement.text(at: 0) == "wal")
        }
    }

    @Test func recordsAndOffsetsRoundTrip() throws {
        try withStore { store in
            var events = listens(200)
            // Text the binding must keep whole: a NUL, non-ASCII, and empty values.
            events[3].title = "nul\u{0}inside"
            events[4].artist = "Beyoncé 🎤 Ñandú"
            events[5].city = ""
            let writer = try store.openWriter()
            #expect(try writer.nextOffsets(topic: "listens") == [:])
            #expect(try writer.write(records(events), topic: "listens", nextOffsets: [0: 67, 1: 67, 2: 66]) == 200)
            #expect(try writer.nextOffsets(topic: "listens") == [0: 67, 1: 67, 2: 66])
            #expect(try writer.nextOffsets(topic: "other") == [:])
            // Offsets alone (an empty poll) move too; partitions not named keep theirs.
            #expect(try writer.write([], topic: "listens", nextOffsets: [1: 90, 5: 1]) == 0)
            #expect(try writer.nextOffsets(topic: "listens") == [0: 67, 1: 90, 2: 66, 5: 1])

            let stored = try walk(store.openReader(), .oldestFirst, limit: 1_000).listens
            #expect(stored == sorted(events, .oldestFirst))
            let row = try rawConnection(store, readOnly: true).prepare(
                "SELECT completed, kafka_partition, kafka_offset FROM listens WHERE event_id = ?1", doing: "test")
            for (i, event) in events.enumerated() where i < 20 {
                try row.bind(event.eventID, at: 1)
                #expect(try row.step())
                #expect(row.int(at: 0) == (event.completed ? 1 : 0))
                #expect(row.int(at: 1) == i % 3 && row.int(at: 2) == i / 3)
                row.reset()
            }
        }
    }

    @Test func aBatchWrittenTwiceAddsNothingTheSecondTime() throws {
        try withStore { store in
            let events = listens(100)
            let writer = try store.openWriter()
            #expect(try writer.write(records(events), topic: "t", nextOffsets: [0: 34]) == 100)
            #expect(try writer.write(records(events), topic: "t", nextOffsets: [0: 40]) == 0)
            #expect(try writer.nextOffsets(topic: "t") == [0: 40])
            // Half old, half new, and a repeat inside the batch itself.
            let more = listens(50, seed: 8)
            let mixed = Array(events.prefix(50)) + more + [more[0]]
            #expect(try writer.write(records(mixed), topic: "t", nextOffsets: [0: 60]) == 50)
            #expect(try store.openReader().extent().listens == 150)
        }
    }

    @Test func aFailedWriteLeavesNothing() throws {
        try withStore { store in
            let writer = try store.openWriter()
            let first = listens(40)
            #expect(try writer.write(records(first), topic: "t", nextOffsets: [0: 14, 1: 14, 2: 13]) == 40)
            let before = try store.openReader().extent()

            // The 51st record breaks a CHECK (rating 0...5) after 50 good inserts.
            var batch = listens(100, seed: 9)
            batch[50].rating = 9
            let error = #expect(throws: HistoryError.self) {
                try writer.write(records(batch), topic: "t", nextOffsets: [0: 50, 1: 50, 2: 50, 3: 1])
            }
            #expect(error?.message.contains(batch[50].eventID) == true)
            #expect(error?.message.contains("CHECK") == true)
            #expect(error?.isUnavailable == false)
            #expect(try store.openReader().extent() == before)
            #expect(try writer.nextOffsets(topic: "t") == [0: 14, 1: 14, 2: 13])

            // The connection is usable afterwards and the batch goes in once fixed.
            batch[50].rating = 5
            #expect(try writer.write(records(batch), topic: "t", nextOffsets: [0: 50]) == 100)
            #expect(try store.openReader().extent().listens == 140)
        }
    }

    @Test func aLockedDatabaseFailsTheWholeWrite() throws {
        try withTemporaryDirectory { path in
            let store = try SQLiteHistoryStore(directory: path, busyTimeoutMilliseconds: 50)
            let writer = try store.openWriter()
            #expect(try writer.write(records(listens(10)), topic: "t", nextOffsets: [0: 4]) == 10)
            // Another connection holds the write lock for longer than the busy timeout.
            let other = try rawConnection(store)
            try other.exec("BEGIN IMMEDIATE", doing: "locking")
            let error = #expect(throws: HistoryError.self) {
                try writer.write(records(listens(10, seed: 3)), topic: "t", nextOffsets: [0: 8])
            }
            #expect(error?.isUnavailable == true)
            try other.exec("ROLLBACK", doing: "unlocking")
            #expect(try writer.nextOffsets(topic: "t") == [0: 4])
            #expect(try store.openReader().extent().listens == 10)
        }
    }

    @Test func deleteListensRemovesOnlyOlderRowsInBatches() throws {
        try withStore { store in
            var events = listens(100)
            for i in events.indices { events[i].timestamp = baseTime + Int64(i) }
            let writer = try store.openWriter()
            _ = try writer.write(records(events), topic: "t", nextOffsets: [:])
            var removed: [Int] = []
            while true {
                let count = try writer.deleteListens(before: baseTime + 60, limit: 25)
                removed.append(count)
                if count == 0 { break }
            }
            #expect(removed == [25, 25, 10, 0])
            #expect(try writer.deleteListens(before: baseTime + 99, limit: 0) == 0)
            let reader = try store.openReader()
            #expect(try reader.extent() == HistoryExtent(listens: 40, oldest: baseTime + 60, newest: baseTime + 99))
            #expect(try walk(reader, .oldestFirst, limit: 100).listens == Array(events[60...]))
        }
    }
}
