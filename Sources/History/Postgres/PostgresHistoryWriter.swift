import MusicModel

/// The sink's PostgreSQL connection: batches of listens with their partitions' next offsets in
/// one transaction, the day partitions they need, and retention.
final class PostgresHistoryWriter: HistoryWriter {
    private let connection: PostgresConnection
    /// The connection session that has the staging table (`ListenRow.staging`); 0 for none yet.
    private var stagingSession = 0
    /// Days whose partition this writer has created or seen: a day is created once per writer,
    /// not once per batch. Forgotten when a row finds no partition (dropped by another replica).
    private var knownDays: Set<DayPartition> = []
    /// Values of the filterable columns this writer has stored in `listen_values` (committed):
    /// each is sent once, not with every batch. Emptied when it grows past `knownValuesLimit`.
    private var knownValues: Set<ListenValue> = []
    private static let knownValuesLimit = 500_000
    /// Pairs per INSERT into `listen_values` (two parameters each, under libpq's 65,535).
    private static let valuesPerStatement = 10_000

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Per partition, the next offset the sink reads in `log` (what the store holds up to),
    /// as the sink writes it with its rows. The readers' replay checks the same figures.
    static func storedOffsets(of log: String, on connection: PostgresConnection) throws(PostgresError) -> [Int32: Int64] {
        let result = try connection.execute(
            "SELECT kafka_partition, next_offset FROM sink_offsets WHERE topic = $1") { $0.append(log) }
        var offsets: [Int32: Int64] = [:]
        for row in 0..<result.rowCount {
            if let partition = result.int64(row, 0), let offset = result.int64(row, 1) {
                offsets[Int32(truncatingIfNeeded: partition)] = offset
            }
        }
        return offsets
    }

    func nextOffsets(topic: String) throws(HistoryError) -> [Int32: Int64] {
        do {
            return try connection.run("reading the sink's offsets") { () throws(PostgresError) in
                try Self.storedOffsets(of: topic, on: connection)
            }
        } catch {
            throw error.historyError
        }
    }

    func write(_ records: [HistoryRecord], topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int {
        try write(PostgresBatchPreparer().prepare(records), topic: topic, nextOffsets: nextOffsets)
    }

    func makePreparer() -> (any HistoryBatchPreparer)? { PostgresBatchPreparer() }

    func write(_ batch: PreparedHistoryBatch, topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int {
        let records = batch.records
        if records.isEmpty && nextOffsets.isEmpty { return 0 }
        let work = batch.work as? PostgresBatchPreparer.Work ?? PostgresBatchPreparer.Work(batch.records)
        do {
            return try connection.run("storing \(records.count) listens") { () throws(PostgresError) in
                do throws(PostgresError) {
                    return try writeOnce(records, work, topic: topic, nextOffsets: nextOffsets)
                } catch let error where error.isMissingPartition {
                    // Retention on another replica dropped a day this writer thought it had.
                    knownDays.removeAll()
                    return try writeOnce(records, work, topic: topic, nextOffsets: nextOffsets)
                } catch let error where error.sqlState == "42P01" && error.message.contains(ListenRow.staging) {
                    // The session lost its staging table without a reconnect (DISCARD TEMP or
                    // DISCARD ALL, as a connection pooler's reset runs): made again, once.
                    stagingSession = 0
                    return try writeOnce(records, work, topic: topic, nextOffsets: nextOffsets)
                }
            }
        } catch {
            throw error.historyError
        }
    }

    /// The listens go in by COPY into the session's staging table, then one INSERT ... SELECT
    /// moves them into `listens`, skipping those already stored: a whole batch in two statements.
    /// 500-row INSERTs of 9,500 parameters each had the server spend about 40 % of its time
    /// parsing and planning them. The COPY data, days and values come from the preparer.
    private func writeOnce(
        _ records: [HistoryRecord], _ work: PostgresBatchPreparer.Work, topic: String, nextOffsets: [Int32: Int64]
    ) throws(PostgresError) -> Int {
        let copy = try work.copy.get()
        try createPartitions(for: work.days)
        // The batch's values this writer has not stored yet, still in the table's order.
        let newValues = work.values.filter { !knownValues.contains($0) }
        let session = connection.sessions
        let added = try connection.transaction { () throws(PostgresError) in
            var added = 0
            if !records.isEmpty {
                // In the transaction: if it rolls back, so does the table, and the next batch makes it again.
                if stagingSession != session { try connection.execute(ListenRow.createStaging) }
                try connection.copy(ListenRow.copyStatement, data: copy)
                added = try connection.execute(ListenRow.insertFromStaging).affectedRows
                var delta = work.delta
                if added < records.count { try takeBackSkipped(records, from: &delta) }
                try PostgresRollup.apply(delta, on: connection)
            }
            try storeValues(newValues)
            if !nextOffsets.isEmpty {
                try storeOffsets(nextOffsets, topic: topic)
            }
            return added
        }
        if !records.isEmpty { stagingSession = session }
        if knownValues.count + newValues.count > Self.knownValuesLimit { knownValues.removeAll(keepingCapacity: true) }
        knownValues.formUnion(newValues)
        return added
    }

    /// Some records were stored already (a batch read again after a crash, another replica's
    /// copy, or a listen twice in one batch): their roll-up changes are taken back. The rows this
    /// transaction inserted carry its id (xmin); a record counts once per inserted row.
    private func takeBackSkipped(_ records: [HistoryRecord], from delta: inout Rollup.Delta) throws(PostgresError) {
        let inserted = try connection.execute(
            """
            SELECT l."timestamp", l.event_id FROM listens l
            WHERE l.xmin = pg_current_xact_id()::xid
            AND (l."timestamp", l.event_id) IN (SELECT "timestamp", event_id FROM \(ListenRow.staging))
            """)
        var fresh: [InsertedKey: Int] = [:]
        for row in 0..<inserted.rowCount {
            guard let timestamp = inserted.int64(row, 0) else { continue }
            fresh[InsertedKey(timestamp: timestamp, eventID: ExactText(inserted.string(row, 1))), default: 0] += 1
        }
        for record in records {
            // As stored: a NUL in an event id went in as U+FFFD.
            let id = record.event.eventID.contains("\u{0}")
                ? String(record.event.eventID.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }) : record.event.eventID
            let key = InsertedKey(timestamp: record.event.timestamp, eventID: ExactText(id))
            if let left = fresh[key], left > 0 {
                fresh[key] = left - 1
            } else {
                delta.add(record.event, sign: -1)
            }
        }
    }

    private struct InsertedKey: Hashable {
        var timestamp: Int64
        var eventID: ExactText
    }

    /// Adds values to `listen_values` in the batch's transaction (one already there is skipped).
    private func storeValues(_ values: [ListenValue]) throws(PostgresError) {
        var start = 0
        while start < values.count {
            let end = min(start + Self.valuesPerStatement, values.count)
            var sql = "INSERT INTO listen_values (kind, value) VALUES "
            var parameters = PostgresParameters(capacity: (end - start) * 2)
            for index in start..<end {
                if index > start { sql += ", " }
                let n = (index - start) * 2
                sql += "($\(n + 1)::smallint, $\(n + 2))"
                parameters.append(values[index].kind)
                parameters.append(values[index].value.text)
            }
            try connection.execute(sql + " ON CONFLICT DO NOTHING", parameters)
            start = end
        }
    }

    /// One upsert for every partition's offset.
    private func storeOffsets(_ offsets: [Int32: Int64], topic: String) throws(PostgresError) {
        var sql = "INSERT INTO sink_offsets (topic, kafka_partition, next_offset) VALUES "
        var parameters = PostgresParameters(capacity: offsets.count * 3)
        for (index, (partition, offset)) in offsets.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { sql += ", " }
            sql += "($\(index * 3 + 1), $\(index * 3 + 2), $\(index * 3 + 3))"
            parameters.append(topic)
            parameters.append(partition)
            parameters.append(offset)
        }
        // Only forward: replicas handing a partition over may both write its offset for a moment.
        sql += " ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = GREATEST(sink_offsets.next_offset, EXCLUDED.next_offset)"
        try connection.execute(sql, parameters)
    }

    /// Creates the partitions of the batch's days this writer has not made sure of yet, before
    /// the write's transaction (see `PostgresSchema.create`). A write that then fails leaves at
    /// most an empty day partition behind, which is harmless.
    private func createPartitions(for days: Set<DayPartition>) throws(PostgresError) {
        let missing = days.subtracting(knownDays)
        guard !missing.isEmpty else { return }
        let sorted = missing.sorted()
        try PostgresSchema.create(sorted, on: connection)
        knownDays.formUnion(sorted)
    }

    /// Retention by partitions first: every day partition lying wholly before `timestamp` is
    /// dropped (its rows counted just before, in the same transaction), which frees the space at
    /// once and costs no row-by-row deletes. Then up to `limit` older rows of the day that
    /// straddles the cutoff are deleted, oldest first. Returns both kinds together, so a dropped
    /// day may make the count exceed `limit`. A late listen written to a dropped day between the
    /// count and the drop goes with the day, uncounted.
    func deleteListens(before timestamp: Int64, limit: Int) throws(HistoryError) -> Int {
        do {
            return try connection.run("deleting listens before \(timestamp)") { () throws(PostgresError) in
                var removed = 0
                var straddling: [DayPartition] = []
                for partition in try PostgresSchema.partitions(on: connection) where partition.lowerBound < timestamp {
                    if partition.upperBound <= timestamp {
                        removed += try drop(partition)
                    } else {
                        straddling.append(partition)
                    }
                }
                var deleted = 0
                for partition in straddling where deleted < limit {
                    deleted += try deleteRows(from: partition, before: timestamp, limit: limit - deleted)
                }
                return removed + deleted
            }
        } catch {
            throw error.historyError
        }
    }

    /// Deletes up to `limit` rows of one partition older than `timestamp`, oldest first. Aimed at
    /// the partition itself, by row address: on the parent table PostgreSQL would plan a join that
    /// reads the whole day to delete a few rows.
    private func deleteRows(from partition: DayPartition, before timestamp: Int64, limit: Int) throws(PostgresError) -> Int {
        guard limit > 0 else { return 0 }
        let name = PostgresSchema.quoted(partition.name)
        // The deleted rows come back so their roll-ups go with them, in the same transaction.
        let statement = """
            DELETE FROM \(name) WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM \(name) WHERE "timestamp" < $1 ORDER BY "timestamp" LIMIT $2))
            RETURNING "timestamp", genre, platform, mood, country, artist, rating, completed
            """
        do {
            return try connection.transaction { () throws(PostgresError) -> Int in
                let deleted = try connection.execute(statement) {
                    $0.append(timestamp)
                    $0.append(limit)
                }
                var delta = Rollup.Delta()
                for row in 0..<deleted.rowCount {
                    guard let timestamp = deleted.int64(row, 0) else { continue }
                    delta.add(
                        timestamp: timestamp, genre: deleted.string(row, 1), platform: deleted.string(row, 2),
                        mood: deleted.string(row, 3), country: deleted.string(row, 4), artist: deleted.string(row, 5),
                        rating: deleted.int(row, 6) ?? 0, completed: deleted.bool(row, 7) ?? false, sign: -1)
                }
                try PostgresRollup.apply(delta, on: connection)
                return deleted.rowCount
            }
        } catch let error where error.sqlState == "42P01" {
            // Dropped meanwhile by another replica's retention: nothing left to delete here.
            return 0
        }
    }

    /// Drops one day partition, returning how many rows it held. Another replica may have
    /// dropped it already: then it counts nothing.
    private func drop(_ partition: DayPartition) throws(PostgresError) -> Int {
        let name = PostgresSchema.quoted(partition.name)
        let rows = try connection.transaction { () throws(PostgresError) -> Int in
            try PostgresSchema.lockDDL(on: connection)
            let exists = try connection.execute("SELECT to_regclass($1) IS NOT NULL") { $0.append(name) }
            guard exists.bool(0, 0) == true else { return 0 }
            let count = try connection.execute("SELECT count(*) FROM \(name)").int(0, 0) ?? 0
            try connection.execute("DROP TABLE \(name)")
            try PostgresRollup.removeDay(partition, on: connection)
            return count
        }
        knownDays.remove(partition)
        return rows
    }
}
