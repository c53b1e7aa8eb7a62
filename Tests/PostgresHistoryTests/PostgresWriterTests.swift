import Foundation
import Synchronization
import Testing
@testable import History
import MusicModel

/// The sink's side against a real PostgreSQL 15: schema, batches with offsets in one
/// transaction, duplicates, failures midway, retention by day partitions.
@Suite struct PostgresWriterTests {
    @Test func descriptionNeverShowsThePassword() throws {
        let url = try PostgresHistoryStore(url: "postgres://musicstream:s3cret@db.internal:5433/history?sslmode=prefer")
        #expect(url.description == "postgres://musicstream@db.internal:5433/history")
        let keywords = try PostgresHistoryStore(url: "host=127.0.0.1 port=5432 user=sink password=s3cret dbname=history")
        #expect(keywords.description == "postgres://sink@127.0.0.1:5432/history")
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!"\(url) \(keywords) \(String(reflecting: url)) \(dumped)".contains("s3cret"))
        #expect(throws: HistoryError.self) { try PostgresHistoryStore(url: "postgres://u:p@host:notaport:/x?what") }
        do {
            _ = try PostgresHistoryStore(url: "postgresql://u:s3cret@host/db?nonsense=1")
            Issue.record("an unknown URL option should be refused")
        } catch {
            #expect(!error.message.contains("s3cret"))
        }
    }

    @Test func schemaIsCreatedOnceAndOpeningAgainChangesNothing() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        _ = try store.openReader()
        #expect(try writer.write(Fixtures.records(count: 10, days: 2, seed: 1), topic: Fixtures.topic, nextOffsets: [0: 4]) == 10)
        // Every opener looks; none re-creates or trips over what exists.
        for _ in 0..<3 {
            _ = try store.openWriter()
            _ = try PostgresHistoryStore(url: url).openReader()
        }
        let connection = try PostgresConnection(conninfo: url, label: "test", connectTimeoutSeconds: 5)
        try connection.run("ensure") { () throws(PostgresError) in try PostgresSchema.ensure(on: connection) }
        #expect(try Fixtures.count(url) == 10)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 4])
        // Declaratively partitioned by range on the timestamp, one partition per day written.
        #expect(try Fixtures.sql(url, "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'listens'::regclass").string(0, 0) == "r")
        #expect(try Fixtures.partitionNames(url) == ["listens_20261130", "listens_20261201"])
        // The store names its connections; a setting in the URL wins over the store's default.
        let named = try PostgresHistoryStore(url: url + "?application_name=replica-7").openReader()
        let names = try Fixtures.sql(url, "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() ORDER BY 1")
        #expect((0..<names.rowCount).map { names.string($0, 0) } == ["musicstream", "replica-7"])
        withExtendedLifetime(named) {}
        let indexes = try Fixtures.sql(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'listens' ORDER BY 1")
        #expect((0..<indexes.rowCount).map { indexes.string($0, 0) }
            == ["listens_by_position", "listens_by_track", "listens_by_user", "listens_event_once"])
        #expect(try Fixtures.sql(url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'listens_event_once'")
            .string(0, 0) == #"UNIQUE ("timestamp", event_id)"#)
    }

    /// A store made before the unique constraint put time first (event_id first, plus a separate
    /// time index) is brought to the new layout on open, its rows intact and still guarded.
    @Test func anOlderStoresUniqueConstraintIsReordered() throws {
        let (url, store) = try Fixtures.freshStore()
        let records = Fixtures.records(count: 30, days: 2, seed: 4)
        _ = try store.openWriter().write(records, topic: Fixtures.topic, nextOffsets: [:])
        // Back to the old layout, as an earlier build created it.
        try Fixtures.sql(url, "ALTER TABLE listens DROP CONSTRAINT listens_event_once")
        try Fixtures.sql(url, #"ALTER TABLE listens ADD CONSTRAINT listens_event_once UNIQUE (event_id, "timestamp")"#)
        try Fixtures.sql(url, #"CREATE INDEX listens_by_time ON listens ("timestamp", event_id)"#)

        let writer = try PostgresHistoryStore(url: url).openWriter()
        #expect(try Fixtures.sql(url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'listens_event_once'")
            .string(0, 0) == #"UNIQUE ("timestamp", event_id)"#)
        #expect(try Fixtures.sql(url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'listens_by_time'").string(0, 0) == "0")
        #expect(try Fixtures.count(url) == 30)
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [:]) == 0)
        #expect(try Fixtures.count(url) == 30)
    }

    @Test func writeStoresEveryFieldAndTheOffsets() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [:])
        let records = Fixtures.records(count: 1_234, days: 3, seed: 2)
        let offsets: [Int32: Int64] = [0: 412, 1: 412, 2: 411]
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: offsets) == 1_234)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == offsets)
        #expect(try writer.nextOffsets(topic: "other-topic") == [:])
        // Offsets move (and may move back: they are what the sink says they are).
        #expect(try writer.write([], topic: Fixtures.topic, nextOffsets: [1: 500, 7: 3]) == 0)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 412, 1: 500, 2: 411, 7: 3])

        let reader = try store.openReader()
        let stored = try Fixtures.walk(reader, order: .oldestFirst, limit: 5_000).listens
        #expect(stored == Fixtures.oldestFirst(records.map(\.event)))
        // completed is the model's rule; the Kafka position is where the record was read.
        let row = try Fixtures.sql(url, "SELECT completed, kafka_partition, kafka_offset FROM listens WHERE event_id = '\(records[700].event.eventID)'")
        #expect(row.bool(0, 0) == records[700].event.completed)
        #expect(row.int(0, 1) == Int(records[700].partition) && row.int64(0, 2) == records[700].offset)
        let completed = try Fixtures.sql(url, "SELECT count(*) FROM listens WHERE completed").int(0, 0)
        #expect(completed == records.filter(\.event.completed).count)
    }

    @Test func theSameBatchTwiceAddsNothingTheSecondTime() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        let records = Fixtures.records(count: 1_100, days: 2, seed: 3)
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [0: 367]) == 1_100)
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [0: 367]) == 0)
        // Half old, half new, and a duplicate inside the batch itself.
        let more = Fixtures.records(count: 200, days: 2, seed: 4)
        let mixed = Array(records[0..<100]) + more + [more[0]]
        #expect(try writer.write(mixed, topic: Fixtures.topic, nextOffsets: [0: 434]) == 200)
        #expect(try Fixtures.count(url) == 1_300)
        // Another writer (another replica) sees the same rows as stored.
        #expect(try store.openWriter().write(more, topic: Fixtures.topic, nextOffsets: [:]) == 0)
    }

    /// PostgreSQL text cannot hold U+0000: it is stored visibly replaced rather than cutting the
    /// value short at the NUL or refusing the batch (which would stall the sink for good).
    @Test func aNULInTextIsStoredAsAReplacementCharacter() throws {
        let (_, store) = try Fixtures.freshStore()
        var record = Fixtures.records(count: 1, days: 1, seed: 11)[0]
        record.event.title = "before\u{0}after"
        record.event.city = "Zürich \u{1F3B5}"
        #expect(try store.openWriter().write([record], topic: Fixtures.topic, nextOffsets: [:]) == 1)
        let stored = try store.openReader().listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 1, scanLimit: 1)
        var expected = record.event
        expected.title = "before\u{FFFD}after"
        #expect(stored.listens == [expected])
    }

    /// Listens go to the server by binary COPY: text a listener typed comes back byte for byte,
    /// whatever it holds (text COPY would have to escape tab, newline, carriage return and
    /// backslash, and reads `\N` as NULL and `\.` as the end), and a batch holding listens
    /// already stored adds only the new ones, its count saying so.
    @Test func copiedTextComesBackByteForByteAndStoredListensAreSkipped() throws {
        let (url, store) = try Fixtures.freshStore()
        let controls = String(String.UnicodeScalarView((1...31).compactMap(Unicode.Scalar.init(_:))))
            + "\u{7F}\u{80}\u{85}\u{9F}\u{200B}\u{2028}\u{FEFF}"
        let hostile = [
            "tab\there", "new\nline\n", "carriage\rreturn\r\n", "back\\slash\\", "\\N", "\\.", "\\.\n", "a\\tb\\nc",
            "'single' \"double\" `back`", "Zürich ünïcödé 日本語 مرحبا 🎵🇫🇷", "Cafe\u{301} Café", controls, "", " ",
            "\t\n\r\\\u{1}\u{1F}",
        ]
        var records = Fixtures.records(count: hostile.count * 2, days: 1, seed: 12)
        for index in records.indices {
            let text = { (shift: Int) in hostile[(index + shift) % hostile.count] }
            records[index].event.eventID = "\(index)\t" + text(0)
            records[index].event.userID = text(1)
            records[index].event.username = text(2)
            records[index].event.email = text(3)
            records[index].event.trackID = text(4)
            records[index].event.title = text(5)
            records[index].event.artist = text(6)
            records[index].event.genre = text(7)
            records[index].event.platform = text(8)
            records[index].event.mood = text(9)
            records[index].event.city = text(10)
            records[index].event.country = text(11)
        }
        // Long text in unindexed columns (an index entry holds at most about 2,700 bytes).
        records[4].event.title = String(repeating: "x\t\\\n", count: 30_000)
        records[4].event.email = String(repeating: "é\r", count: 5_000)
        records[0].event.duration = Int(Int64.max)
        records[1].event.listenPosition = Int(Int64.min)
        records[2].event.timestamp = Fixtures.firstDay
        let writer = try store.openWriter()
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [0: 11]) == records.count)

        // Compared by their bytes: String's == would let canonically equivalent text pass.
        func bytes(_ event: ListenEvent) -> [[UInt8]] {
            [event.eventID, event.userID, event.username, event.email, event.trackID, event.title, event.artist,
             event.genre, event.platform, event.mood, event.city, event.country].map { Array($0.utf8) }
                + [[UInt8](String(event.duration).utf8), [UInt8](String(event.listenPosition).utf8),
                   [UInt8](String(event.rating).utf8), [UInt8](String(event.timestamp).utf8)]
        }
        let stored = try Fixtures.walk(store.openReader(), order: .oldestFirst, limit: 7).listens
        let expected = Fixtures.oldestFirst(records.map(\.event))
        #expect(stored.count == expected.count)
        for (got, sent) in zip(stored, expected) where bytes(got) != bytes(sent) {
            Issue.record("listen \(sent.eventID.debugDescription) came back changed")
        }
        // The server's view too: lengths in bytes, and the Kafka positions and completed flag as sent.
        let title = records[5].event.title
        let row = try Fixtures.sql(url, """
            SELECT octet_length(title), kafka_partition, kafka_offset, completed FROM listens
            WHERE event_id = '\(records[5].event.eventID.replacingOccurrences(of: "'", with: "''"))'
            """)
        #expect(row.rowCount == 1 && row.int(0, 0) == title.utf8.count)
        #expect(row.int(0, 1) == Int(records[5].partition) && row.int64(0, 2) == records[5].offset)
        #expect(row.bool(0, 3) == records[5].event.completed)

        // Stored ones again, with new ones and a duplicate inside the batch: only the new are added.
        let more = Fixtures.records(count: 5, days: 1, seed: 13)
        let mixed = [records[3], records[0]] + more + [more[1], records[7]]
        #expect(try writer.write(mixed, topic: Fixtures.topic, nextOffsets: [0: 20]) == more.count)
        #expect(try Fixtures.count(url) == records.count + more.count)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 20])
        // Another session (another replica) copies into its own staging table, and skips them too.
        #expect(try store.openWriter().write(mixed, topic: Fixtures.topic, nextOffsets: [:]) == 0)
        #expect(try Fixtures.count(url) == records.count + more.count)
    }

    /// A writer's first batch refused: its staging table went with the rollback, so the next
    /// batch on the same session makes it again. A rating beyond integer's range is refused, as
    /// the server refused it before, never stored cut short.
    @Test func aRefusedFirstBatchLeavesTheWriterAbleToWrite() throws {
        let (url, store) = try Fixtures.freshStore()
        let records = Fixtures.records(count: 40, days: 1, seed: 14)
        _ = try store.openWriter().write(Array(records[0..<10]), topic: Fixtures.topic, nextOffsets: [:])
        try Fixtures.sql(url, "ALTER TABLE listens ADD CONSTRAINT refuse_one CHECK (kafka_offset <> \(records[20].offset))")
        let writer = try store.openWriter()
        #expect(throws: HistoryError.self) { try writer.write(records, topic: Fixtures.topic, nextOffsets: [1: 5]) }
        try Fixtures.sql(url, "ALTER TABLE listens DROP CONSTRAINT refuse_one")
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [1: 5]) == 30)

        var tooHigh = Fixtures.records(count: 3, days: 1, seed: 15)
        tooHigh[1].event.rating = Int(Int32.max) + 1
        do {
            _ = try writer.write(tooHigh, topic: Fixtures.topic, nextOffsets: [1: 9])
            Issue.record("the write should fail")
        } catch {
            #expect(!error.isUnavailable)
            #expect(error.message.contains("out of range"))
        }
        #expect(try Fixtures.count(url) == 40)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [1: 5])
    }

    /// The session's staging table dropped under the writer, as a pooler's DISCARD ALL would:
    /// the writer makes it again and the batch goes in once.
    @Test func aStagingTableDiscardedUnderTheWriterIsMadeAgain() throws {
        let (url, _) = try Fixtures.freshStore()
        let connection = try PostgresConnection(conninfo: url, label: "test", connectTimeoutSeconds: 5)
        try PostgresSchema.ensure(on: connection)
        let writer = PostgresHistoryWriter(connection: connection)
        let records = Fixtures.records(count: 60, days: 2, seed: 16)
        #expect(try writer.write(Array(records[0..<30]), topic: Fixtures.topic, nextOffsets: [0: 10]) == 30)
        try connection.execute("DISCARD TEMP")
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [0: 20]) == 30)
        #expect(try Fixtures.count(url) == 60)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 20])
    }

    /// Replicas opening the store and writing the same new days at the same moment: schema and
    /// partitions are created once, under an advisory lock, and nobody trips over the others.
    @Test func replicasCreatingTheSameDaysAtOnceAllSucceed() throws {
        let (url, store) = try Fixtures.freshStore()
        let outcomes = Mutex<[String]>([])
        let opened = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for replica in 0..<4 {
            opened.enter()
            done.enter()
            Thread {
                defer { done.leave() }
                let records = Fixtures.records(count: 300, days: 3, seed: 100 + UInt64(replica), startDay: 5)
                // All open at once (the schema), then all write at once (the partitions).
                var writer: (any HistoryWriter)?
                do {
                    writer = try store.openWriter()
                } catch {
                    outcomes.withLock { $0.append("\(error)") }
                }
                opened.leave()
                go.wait()
                guard let writer else { return }
                do {
                    let added = try writer.write(records, topic: Fixtures.topic, nextOffsets: [Int32(replica): 100])
                    outcomes.withLock { $0.append("added \(added)") }
                } catch {
                    outcomes.withLock { $0.append("\(error)") }
                }
            }.start()
        }
        opened.wait()
        for _ in 0..<4 { go.signal() }
        done.wait()
        #expect(outcomes.withLock { $0 } == Array(repeating: "added 300", count: 4))
        #expect(try Fixtures.count(url) == 1_200)
        #expect(try Fixtures.partitionNames(url) == ["listens_20261205", "listens_20261206", "listens_20261207"])
        #expect(try store.openWriter().nextOffsets(topic: Fixtures.topic) == [0: 100, 1: 100, 2: 100, 3: 100])
    }

    /// A row the database refuses late in a batch: the rows before it and the offsets go back
    /// with it, and the error is the statement's, not an outage.
    @Test func aRefusedRowMidwayLeavesNeitherRowsNorOffsets() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        #expect(try writer.write(Fixtures.records(count: 50, days: 1, seed: 5), topic: Fixtures.topic, nextOffsets: [0: 17]) == 50)
        // The test's own constraint, standing for anything the server may refuse.
        try Fixtures.sql(url, "ALTER TABLE listens ADD CONSTRAINT refuse_one CHECK (kafka_offset <> 424242)")
        var batch = Fixtures.records(count: 900, days: 3, seed: 6, startDay: 1)
        batch[850].offset = 424_242
        do {
            _ = try writer.write(batch, topic: Fixtures.topic, nextOffsets: [0: 999, 1: 999])
            Issue.record("the write should fail")
        } catch {
            #expect(!error.isUnavailable)
            #expect(error.message.contains("refuse_one"))
        }
        #expect(try Fixtures.count(url) == 50)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 17])
        try Fixtures.sql(url, "ALTER TABLE listens DROP CONSTRAINT refuse_one")
        #expect(try writer.write(batch, topic: Fixtures.topic, nextOffsets: [0: 999, 1: 999]) == 900)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 999, 1: 999])
    }

    /// The connection dies inside the transaction, after the listens went in and while the
    /// offsets wait for a lock: the server rolls everything back, the writer reports the store
    /// unavailable, and the same writer reconnects for the next batch.
    @Test func aConnectionKilledMidwayLeavesNeitherRowsNorOffsets() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        #expect(try writer.write(Fixtures.records(count: 30, days: 1, seed: 7), topic: Fixtures.topic, nextOffsets: [2: 10]) == 30)

        // Another session holds sink_offsets, so the write stops at its offsets; once the writer's
        // server process waits there, that session ends it.
        let locked = DispatchSemaphore(value: 0)
        let killed = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            do {
                let holder = try PostgresConnection(conninfo: url, label: "lock holder", connectTimeoutSeconds: 5)
                try holder.execute("BEGIN")
                try holder.execute("LOCK TABLE sink_offsets IN ACCESS EXCLUSIVE MODE")
                locked.signal()
                for _ in 0..<200 {
                    let waiting = try holder.execute("""
                        SELECT pid FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                        """)
                    if waiting.rowCount == 1 {
                        let pid = waiting.string(0, 0)
                        try holder.execute("SELECT pg_terminate_backend(\(pid))")
                        killed.withLock { $0 = pid }
                        break
                    }
                    usleep(50_000)
                }
                try holder.execute("ROLLBACK")
            } catch {
                locked.signal()
            }
        }.start()
        locked.wait()
        let batch = Fixtures.records(count: 700, days: 2, seed: 8, startDay: 2)
        do {
            _ = try writer.write(batch, topic: Fixtures.topic, nextOffsets: [2: 900])
            Issue.record("the write should fail")
        } catch {
            #expect(error.isUnavailable)
        }
        done.wait()
        #expect(killed.withLock { $0 } != nil)
        #expect(try Fixtures.count(url) == 30)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [2: 10])
        #expect(try writer.write(batch, topic: Fixtures.topic, nextOffsets: [2: 900]) == 700)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [2: 900])
    }

    /// Whole days before the cutoff go as partitions; the day holding the cutoff loses its older
    /// rows `limit` at a time; nothing at or after the cutoff is touched.
    @Test func retentionDropsOldDaysAndDeletesExactlyTheOlderRows() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        let records = Fixtures.records(count: 1_600, days: 4, seed: 9)
        let other = try store.openWriter()
        #expect(try writer.write(records, topic: Fixtures.topic, nextOffsets: [0: 534]) == 1_600)
        #expect(try other.write(Array(records.suffix(10)), topic: Fixtures.topic, nextOffsets: [:]) == 0)
        #expect(try Fixtures.partitionNames(url) == ["listens_20261130", "listens_20261201", "listens_20261202", "listens_20261203"])

        let cutoff = Fixtures.firstDay + 2 * Fixtures.day + 6 * 3_600_000 + 1
        let older = records.filter { $0.event.timestamp < cutoff }
        let inDroppedDays = records.filter { $0.event.timestamp < Fixtures.firstDay + 2 * Fixtures.day }.count
        let straddling = older.count - inDroppedDays
        #expect(inDroppedDays == 800 && straddling > 40)

        let first = try writer.deleteListens(before: cutoff, limit: 10)
        #expect(first == inDroppedDays + 10)
        #expect(try Fixtures.partitionNames(url) == ["listens_20261202", "listens_20261203"])
        var removed = first
        while true {
            let step = try writer.deleteListens(before: cutoff, limit: 10)
            #expect(step <= 10)
            if step == 0 { break }
            removed += step
        }
        #expect(removed == older.count)
        let remaining = try Fixtures.walk(store.openReader(), order: .oldestFirst, limit: 2_000).listens
        #expect(remaining == Fixtures.oldestFirst(records.filter { $0.event.timestamp >= cutoff }.map(\.event)))
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 534])

        // A late listen for a dropped day: its partition comes back.
        #expect(try writer.write([records[0]], topic: Fixtures.topic, nextOffsets: [:]) == 1)
        #expect(try Fixtures.partitionNames(url).first == "listens_20261130")
        // `other` still believes in the last day's partition: retention elsewhere drops it, and
        // its next write there re-creates it instead of failing.
        #expect(try writer.deleteListens(before: Fixtures.firstDay + 4 * Fixtures.day, limit: 1_000) > 0)
        #expect(try Fixtures.partitionNames(url) == [])
        #expect(try other.write([records[3]], topic: Fixtures.topic, nextOffsets: [:]) == 1)
        #expect(try Fixtures.partitionNames(url) == ["listens_20261203"])
    }

    /// A batch of 1,000 goes in one COPY and one INSERT, in one transaction; thirty in a row all
    /// land. How fast is the benchmark's business (`bench/run --only history` prints the sink's
    /// rate); a timed bar here failed whenever other builds shared the two cores.
    @Test func thirtyBatchesOfAThousandAllLand() throws {
        let (url, store) = try Fixtures.freshStore()
        let writer = try store.openWriter()
        let records = Fixtures.records(count: 30_000, days: 2, seed: 10)
        let clock = ContinuousClock()
        let began = clock.now
        for start in stride(from: 0, to: records.count, by: 1_000) {
            let batch = Array(records[start..<start + 1_000])
            #expect(try writer.write(batch, topic: Fixtures.topic, nextOffsets: [0: Int64(start + 1_000)]) == 1_000)
        }
        let elapsed = clock.now - began
        print("PostgreSQL history: \(records.count) listens in \(elapsed)")
        #expect(try Fixtures.count(url) == records.count)
        #expect(try writer.nextOffsets(topic: Fixtures.topic)[0] == Int64(records.count))
    }
}
