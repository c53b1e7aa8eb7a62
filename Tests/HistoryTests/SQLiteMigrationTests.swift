import MusicModel
import Testing
@testable import History

/// Files of schema 1 (text columns) and 2 (text columns, `ascii_mask`, roll-ups) open and are
/// brought to schema 3 (texts by id) in place, answering exactly as a new file would.
@Suite struct SQLiteMigrationTests {
    /// A schema 1 or 2 file holding `events`, written as those versions' writers wrote it.
    private func writeOld(_ version: Int, _ store: SQLiteHistoryStore, _ events: [ListenEvent]) throws {
        let connection = try rawConnection(store)
        try connection.exec(SQLiteSchema.version1, doing: "creating schema 1")
        let insert = try connection.prepare(
            """
            INSERT INTO listens (\(SQLiteListenRow.eventColumns), completed, kafka_partition, kafka_offset)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
            """, doing: "inserting a schema 1 row")
        try connection.transaction(immediate: true, doing: "filling schema 1") { () throws(HistoryError) in
            for (i, e) in events.enumerated() {
                defer { insert.reset() }
                let texts = [e.eventID, e.userID, e.username, e.email, e.trackID, e.title, e.artist, e.genre, e.platform,
                             e.mood, e.city, e.country]
                for (j, text) in texts.enumerated() { try insert.bind(text, at: Int32(j + 1)) }
                try insert.bind(e.duration, at: 13)
                try insert.bind(e.listenPosition, at: 14)
                try insert.bind(e.rating, at: 15)
                try insert.bind(e.timestamp, at: 16)
                try insert.bind(e.completed ? 1 : 0, at: 17)
                try insert.bind(0, at: 18)
                try insert.bind(i, at: 19)
                try insert.run()
            }
        }
        if version == 2 {
            // Schema 2's additions; its writer kept ascii_mask and the roll-ups up to date.
            try connection.exec(
                "ALTER TABLE listens ADD COLUMN ascii_mask INTEGER NOT NULL DEFAULT 0", doing: "adding schema 2's column")
            try connection.exec(SQLiteRollup.schema, doing: "creating schema 2's roll-ups")
            try SQLiteRollup.fill(connection)
        }
        try connection.exec("PRAGMA user_version = \(version)", doing: "marking the version")
    }

    @Test(arguments: [1, 2]) func anOlderFileIsMigratedAndAnswersExactly(version: Int) throws {
        try withStore { store in
            try writeOld(version, store, SQLiteAggregateTests.events)
            // A reader first: it finds the old schema, has a writer migrate, then reads.
            let reader = try store.openReader()
            let connection = try rawConnection(store, readOnly: true)
            #expect(try SQLiteSchema.storedVersion(connection) == SQLiteSchema.version)
            // Each column's distinct values, once each.
            let texts = try connection.prepare("SELECT kind, COUNT(*) FROM texts GROUP BY kind", doing: "counting texts")
            var kinds: [Int64: Int] = [:]
            while try texts.step() { kinds[texts.int64(at: 0)] = texts.int(at: 1) }
            texts.reset()
            for column in ListenTextColumn.allCases {
                // Distinct as bytes: SQLite keeps "Café" and "Cafe\u{301}" apart, as Swift's Set would not.
                #expect(kinds[column.rawValue] == Set(SQLiteAggregateTests.events.map { Array(column.value(in: $0).utf8) }).count)
            }
            // Every listen reads back as it was written, in the store's order.
            let all = try walk(reader, .oldestFirst, limit: 500)
            #expect(all.listens == sorted(SQLiteAggregateTests.events, .oldestFirst))
            try SQLiteAggregateTests.check(reader, rounds: 40, seed: 5)
            try SQLiteRollupTests.check(reader, SQLiteAggregateTests.events, rounds: 20, seed: 6)
            // The writer goes on writing, and a listen read again is still stored once.
            let writer = try store.openWriter()
            let more = listens(10, seed: 77)
            #expect(try writer.write(records(more, firstOffset: 10_000), topic: "t", nextOffsets: [:]) == 10)
            #expect(try writer.write(records(Array(SQLiteAggregateTests.events.prefix(5))), topic: "t", nextOffsets: [:]) == 0)
        }
    }

    @Test func anEmptyVersion1FileIsMigratedToo() throws {
        try withStore { store in
            try writeOld(1, store, [])
            _ = try store.openWriter()
            #expect(try SQLiteSchema.storedVersion(try rawConnection(store)) == SQLiteSchema.version)
        }
    }

    @Test func aNewerFileIsRefusedWithAReason() throws {
        try withStore { store in
            _ = try store.openWriter()
            try rawConnection(store).exec("PRAGMA user_version = 99", doing: "pretending to be newer")
            #expect {
                _ = try store.openWriter()
            } throws: { error in
                (error as? HistoryError)?.message.contains("newer than this build's") == true
            }
        }
    }
}
