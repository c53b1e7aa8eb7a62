import EventHTTP
import History
import MusicAPI
import MusicModel

/// `musicstream export`: the same rows and formats as GET /api/export, read straight from the
/// store (no server needed: a data directory, or a PostgreSQL URL), written chunk by chunk.
public enum HistoryFileExport {
    /// Why an export could not run: a bad filter or format, or the store.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes every listen of `location`'s store matching `query` (the API's filter parameters
    /// as a query string, e.g. `genre=Pop&since=1764800000000`) in `format`; returns how many.
    /// `write` returns false to stop (its output closed).
    public static func run(location: HistoryLocation, dataDirectory: String, query: String, format: String,
                           write: ([UInt8]) -> Bool) throws(Failure) -> Int {
        let filter: EventFilter
        do {
            filter = try EventFilter.parse(HTTPRequest.parseQuery(query))
        } catch let error as QueryStringError {
            throw Failure(description: "--filter: \(error.detail)")
        } catch let error as QueryError {
            throw Failure(description: "--filter: \(error.detail)")
        } catch {
            throw Failure(description: "--filter: \(error)")
        }
        guard let format = ExportRequest.Format(rawValue: format.lowercased()) else {
            throw Failure(description: "--format must be csv or ndjson, got '\(format)'")
        }
        let opened: (any HistoryStore)?
        do {
            opened = try HistorySide.openStore(location, dataDirectory: dataDirectory)
        } catch {
            throw Failure(description: "cannot open the history: \(error.message)")
        }
        guard let store = opened else { throw Failure(description: "--history none: there is no history to export") }
        do throws(HistoryError) {
            let reader = try store.openReader()
            if format == .csv, !write(Array(ListenCSV.header.utf8)) { return 0 }
            var cursor: HistoryCursor?
            var written = 0
            repeat {
                let chunk = try ExportChunk.read(reader, filter: filter, format: format, after: cursor)
                if !chunk.bytes.isEmpty, !write(chunk.bytes) { return written }
                written += chunk.listens
                cursor = chunk.next
            } while cursor != nil
            return written
        } catch {
            throw Failure(description: "reading the history: \(error.message)")
        }
    }
}
