/// The sink's connection. Its statements are prepared once and reused for every batch:
/// compiling the insert costs more than running it for a row.
final class SQLiteHistoryWriter: HistoryWriter {
    private let connection: SQLiteConnection
    private let insertListen: SQLiteStatement
    private let upsertOffset: SQLiteStatement
    private let selectOffsets: SQLiteStatement
    private let selectOlder: SQLiteStatement
    private let deleteRow: SQLiteStatement
    private let rollup: SQLiteRollup.Statements
    private let blocks: SQLiteFacetBlocks
    private let dictionary: SQLiteTextDictionary
    /// Texts of the rows retention reads (their roll-ups are subtracted by value).
    private let lookup: SQLiteTextLookup
    /// The preparer made for the sink, told of the ids each commit adds.
    private var preparer: SQLiteBatchPreparer?

    init(connection: SQLiteConnection) throws(HistoryError) {
        self.connection = connection
        insertListen = try connection.prepare(SQLiteListenRow.insert, doing: "inserting a listen", persistent: true)
        upsertOffset = try connection.prepare(
            """
            INSERT INTO sink_offsets (topic, kafka_partition, next_offset) VALUES (?1, ?2, ?3)
            ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = excluded.next_offset
            """, doing: "storing a partition's next offset", persistent: true)
        selectOffsets = try connection.prepare(
            "SELECT kafka_partition, next_offset FROM sink_offsets WHERE topic = ?1",
            doing: "reading the next offsets", persistent: true)
        // Oldest first through the time index; each row read (the roll-ups must lose exactly
        // what goes) and then deleted by rowid, at most `limit` of them.
        selectOlder = try connection.prepare(
            """
            SELECT rowid, \(SQLiteListenRow.eventColumns) FROM listens WHERE timestamp < ?1
            ORDER BY timestamp LIMIT ?2
            """, doing: "reading old listens", persistent: true)
        deleteRow = try connection.prepare(
            "DELETE FROM listens WHERE rowid = ?1", doing: "deleting an old listen", persistent: true)
        rollup = try SQLiteRollup.Statements(connection)
        blocks = try SQLiteFacetBlocks(connection)
        dictionary = try SQLiteTextDictionary(connection)
        lookup = try SQLiteTextLookup(connection)
    }

    func nextOffsets(topic: String) throws(HistoryError) -> [Int32: Int64] {
        defer { selectOffsets.reset() }
        try selectOffsets.bind(topic, at: 1)
        var offsets: [Int32: Int64] = [:]
        while try selectOffsets.step() {
            let partition = selectOffsets.int64(at: 0)
            guard let partition = Int32(exactly: partition) else {
                throw HistoryError("sqlite \(connection.path): sink_offsets holds partition \(partition) of \(topic), not a Kafka partition")
            }
            offsets[partition] = selectOffsets.int64(at: 1)
        }
        return offsets
    }

    func write(_ records: [HistoryRecord], topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int {
        try write(records, prepared: nil, topic: topic, nextOffsets: nextOffsets)
    }

    func makePreparer() -> (any HistoryBatchPreparer)? {
        let preparer = SQLiteBatchPreparer()
        self.preparer = preparer
        return preparer
    }

    func write(_ batch: PreparedHistoryBatch, topic: String, nextOffsets: [Int32: Int64]) throws(HistoryError) -> Int {
        try write(batch.records, prepared: batch.work as? SQLiteBatchPreparer.Work, topic: topic, nextOffsets: nextOffsets)
    }

    private func write(
        _ records: [HistoryRecord], prepared: SQLiteBatchPreparer.Work?, topic: String, nextOffsets: [Int32: Int64]
    ) throws(HistoryError) -> Int {
        if records.isEmpty && nextOffsets.isEmpty { return 0 }
        do throws(HistoryError) {
            let added = try insert(records, prepared: prepared, topic: topic, nextOffsets: nextOffsets)
            let learned = dictionary.committed()
            preparer?.learn(learned)
            return added
        } catch {
            dictionary.forgetUncommitted()
            throw error
        }
    }

    private func insert(
        _ records: [HistoryRecord], prepared: SQLiteBatchPreparer.Work?, topic: String, nextOffsets: [Int32: Int64]
    ) throws(HistoryError) -> Int {
        try connection.transaction(immediate: true, doing: "writing \(records.count) listens of \(topic)") {
            () throws(HistoryError) -> Int in
            var added = 0
            // Prepared: every record's changes, the skipped ones taken back below.
            var delta = prepared?.delta ?? SQLiteRollup.Delta()
            let perRecord = ListenTextColumn.allCases.count
            var stored: [SQLiteFacetRow] = []
            stored.reserveCapacity(records.count)
            for (index, record) in records.enumerated() {
                defer { insertListen.reset() }
                let row: SQLiteFacetRow
                do throws(HistoryError) {
                    let known = prepared.map { $0.ids[(index * perRecord)..<((index + 1) * perRecord)] }
                    row = try SQLiteListenRow.bind(record, known: known, to: insertListen, dictionary: dictionary)
                    try insertListen.run()
                    // After the insert, whose CHECKs name a bad rating first.
                    guard row.isPackable else {
                        throw HistoryError("a text id or rating outside the facet blocks' range")
                    }
                } catch {
                    // Which record, so a refused one can be found in Kafka.
                    throw HistoryError(
                        "\(error.message) [event_id \(record.event.eventID) at \(topic)/\(record.partition)@\(record.offset)]",
                        isUnavailable: error.isUnavailable)
                }
                // 0 when the listen was already stored: the conflict clause skipped it.
                if connection.changes > 0 {
                    added += 1
                    if prepared == nil { delta.add(record.event) }
                    stored.append(row)
                } else if prepared != nil {
                    delta.add(record.event, sign: -1)
                }
            }
            try rollup.apply(delta)
            try blocks.append(stored)
            for (partition, offset) in nextOffsets {
                defer { upsertOffset.reset() }
                try upsertOffset.bind(topic, at: 1)
                try upsertOffset.bind(Int64(partition), at: 2)
                try upsertOffset.bind(offset, at: 3)
                try upsertOffset.run()
            }
            return added
        }
    }

    func deleteListens(before timestamp: Int64, limit: Int) throws(HistoryError) -> Int {
        guard limit > 0 else { return 0 }
        return try connection.transaction(immediate: true, doing: "deleting listens before \(timestamp)") {
            () throws(HistoryError) -> Int in
            var rows: [Int64] = []
            var gone: [SQLiteFacetRow] = []
            var delta = SQLiteRollup.Delta()
            try selectOlder.bind(timestamp, at: 1)
            try selectOlder.bind(limit, at: 2)
            do throws(HistoryError) {
                while try selectOlder.step() {
                    rows.append(selectOlder.int64(at: 0))
                    let event = try SQLiteListenRow.event(from: selectOlder, firstColumn: 1, lookup: lookup)
                    delta.add(event, sign: -1)
                    gone.append(SQLiteListenRow.facetRow(from: selectOlder, firstColumn: 1, event: event))
                }
            } catch {
                selectOlder.reset()
                throw error
            }
            selectOlder.reset()
            for row in rows {
                defer { deleteRow.reset() }
                try deleteRow.bind(row, at: 1)
                try deleteRow.run()
            }
            try rollup.apply(delta)
            try blocks.remove(gone)
            return rows.count
        }
    }
}
