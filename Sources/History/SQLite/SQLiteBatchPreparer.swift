import Synchronization

/// The SQLite writer's per-listen work that needs no connection, done on the sink's reading
/// thread (`HistoryWriter.makePreparer`): each text's id where the writer has committed it
/// before, and the roll-ups' changes. Looking up eleven texts a listen was a quarter of the
/// writing thread's time (a profile of 1M listens stored); that thread now asks its own
/// dictionary only for texts new to this side.
final class SQLiteBatchPreparer: HistoryBatchPreparer {
    /// What the writer reads back from a prepared batch.
    struct Work: Sendable {
        /// `ListenTextColumn.allCases.count` ids per record, in that order; 0 where not known
        /// here (ids start at 1), which the writer then looks up.
        var ids: [Int64]
        /// The roll-ups' changes if every record is stored; the writer takes back the skipped.
        var delta: SQLiteRollup.Delta
    }

    private static let columns = ListenTextColumn.allCases

    /// Per column, the ids known (by exact bytes). Locked only by the preparing thread.
    private let known = Mutex<[[ExactText: Int64]]>(Array(repeating: [:], count: ListenTextColumn.allCases.count))
    /// Ids the writer committed since the last batch was prepared.
    private let learned = Mutex<[(column: Int, value: ExactText, id: Int64)]>([])

    func prepare(_ records: [HistoryRecord]) -> PreparedHistoryBatch {
        let news = learned.withLock { list in
            defer { list.removeAll() }
            return list
        }
        let work = known.withLock { known -> Work in
            for (column, value, id) in news {
                if known[column].count >= SQLiteTextDictionary.capacity { known[column].removeAll(keepingCapacity: true) }
                known[column][value] = id
            }
            var ids = [Int64](repeating: 0, count: records.count * Self.columns.count)
            var delta = SQLiteRollup.Delta()
            var slot = 0
            for record in records {
                for (column, text) in Self.columns.enumerated() {
                    ids[slot] = known[column][ExactText(text.value(in: record.event))] ?? 0
                    slot += 1
                }
                delta.add(record.event)
            }
            return Work(ids: ids, delta: delta)
        }
        return PreparedHistoryBatch(records: records, work: work)
    }

    /// Ids the writer has just committed: known from the next batch prepared.
    func learn(_ committed: [(column: Int, value: ExactText, id: Int64)]) {
        guard !committed.isEmpty else { return }
        learned.withLock { $0 += committed }
    }
}
