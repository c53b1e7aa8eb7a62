import History
import MusicAPI
import MusicModel

/// One chunk of an export, oldest first, in the export's format: what GET /api/export and
/// `musicstream export` both write, so a file and a download of the same filter are the same bytes.
struct ExportChunk: Sendable {
    var bytes: [UInt8]
    /// Where the next chunk starts; nil after the last.
    var next: HistoryCursor?
    var listens: Int

    /// Up to `HistoryEndpoints.exportChunk` listens matching `filter` after `cursor`.
    static func read(_ reader: any HistoryReader, filter: EventFilter, format: ExportRequest.Format,
                     after cursor: HistoryCursor?) throws(HistoryError) -> ExportChunk {
        let page = try reader.listens(matching: filter, order: .oldestFirst, after: cursor,
                                      limit: HistoryEndpoints.exportChunk, scanLimit: HistoryEndpoints.scanLimit)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(page.listens.count * 520)
        for event in page.listens {
            switch format {
            case .csv: ListenCSV.append(event, to: &bytes)
            case .ndjson:
                bytes.append(contentsOf: event.canonicalJSON())
                bytes.append(0x0A)
            }
        }
        return ExportChunk(bytes: bytes, next: page.next, listens: page.listens.count)
    }
}
