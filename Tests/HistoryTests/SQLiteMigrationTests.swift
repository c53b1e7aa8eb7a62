import MusicModel
import Testing
@testable import History

/// Schema 1 files (written before `ascii_mask`) open and are brought to schema 2 in place.
@Suite struct SQLiteMigrationTests {
    /// A schema 1 file holding `events`, written as the version 1 writer wrote it.
    private func writeVersion1(_ store: SQLiteHistoryStore, _ events: [ListenEvent]) throws {
        let connection = try rawConnection(store)
        try connection.exec(SQLiteSchema.version1, doing: "creating schema 1")
        try connection.exec("PRAGMA user_version = 1", doing: "marking schema 1")
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
    }

    @Test func aVersion1FileIsMigratedAndAnswersExactly() throws {
        try withStore { store in
            try writeVersion1(store, SQLiteAggregateTests.events)
            // A reader first: it finds schema 1, has a writer migrate, then reads.
            let reader = try store.openReader()
            let connection = try rawConnection(store, readOnly: true)
            #expect(try SQLiteSchema.storedVersion(connection) == SQLiteSchema.version)
            let rows = try connection.prepare("SELECT event_id, ascii_mask FROM listens", doing: "reading masks")
            var masks: [String: Int64] = [:]
            while try rows.step() { masks[rows.text(at: 0)] = rows.int64(at: 1) }
            rows.reset()
            #expect(masks.count == SQLiteAggregateTests.events.count)
            for event in SQLiteAggregateTests.events {
                #expect(masks[event.eventID] == SQLiteTextMask.of(event))
            }
            try SQLiteAggregateTests.check(reader, rounds: 40, seed: 5)
            // The roll-ups were built from the rows.
            try SQLiteRollupTests.check(reader, SQLiteAggregateTests.events, rounds: 20, seed: 6)
            // And the writer goes on writing schema 2 rows.
            let more = listens(10, seed: 77)
            #expect(try store.openWriter().write(records(more, firstOffset: 10_000), topic: "t", nextOffsets: [:]) == 10)
        }
    }

    @Test func anEmptyVersion1FileIsMigratedToo() throws {
        try withStore { store in
            try writeVersion1(store, [])
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
