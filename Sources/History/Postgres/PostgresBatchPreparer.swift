/// The PostgreSQL writer's per-listen work, done on the sink's reading thread
/// (`HistoryWriter.makePreparer`) while the writer's connection waits on the server for the
/// batch before: the rows in COPY form, the days they fall on, the batch's distinct values of
/// the filterable columns and its roll-up changes. The writer is left to send them. Needs
/// nothing from the writer.
final class PostgresBatchPreparer: HistoryBatchPreparer {
    struct Work: Sendable {
        /// The COPY data, or why a record cannot be stored (the batch is refused as a whole).
        var copy: Result<[UInt8], PostgresError>
        var days: Set<DayPartition>
        /// Distinct, in the order the writer adds new ones (`ListenValue.inTableOrder`).
        var values: [ListenValue]
        /// The roll-ups' changes if every record is stored; the writer takes back the skipped.
        var delta: Rollup.Delta

        init(_ records: [HistoryRecord]) {
            var buffer = PostgresCopyBuffer(capacity: records.count * 300)
            do throws(PostgresError) {
                for record in records { try ListenRow.append(record, to: &buffer) }
                buffer.finish()
                copy = .success(buffer.bytes)
            } catch {
                copy = .failure(error)
            }
            days = DayPartition.days(of: records)
            values = ListenValue.distinct(in: records)
            var delta = Rollup.Delta()
            for record in records { delta.add(record.event) }
            self.delta = delta
        }
    }

    func prepare(_ records: [HistoryRecord]) -> PreparedHistoryBatch {
        PreparedHistoryBatch(records: records, work: Work(records))
    }
}
