import EventHTTP
import History
import MusicAPI
import MusicModel

/// One download of `GET /api/export`: reads the history a chunk at a time on the query pool,
/// oldest first, and writes each chunk to the client's chunked response on the loop thread.
/// The next chunk is read only once the client has taken most of the last (its unsent bytes
/// under `HistoryEndpoints.exportBacklog`), so the server holds about one chunk per download
/// however many listens it sends: constant memory, whatever the range.
final class HistoryExport {
    private let queries: HistoryQueries
    private let loop: EventLoop
    private let filter: EventFilter
    private let format: ExportRequest.Format
    private let stream: ResponseStream
    private var cursor: HistoryCursor?
    private var waitTimer: LoopTimer?
    /// The download keeps itself alive until it ends (the loop holds nothing else of it).
    private var keepAlive: HistoryExport?

    init(queries: HistoryQueries, loop: EventLoop, filter: EventFilter, format: ExportRequest.Format,
         stream: ResponseStream) {
        self.queries = queries
        self.loop = loop
        self.filter = filter
        self.format = format
        self.stream = stream
    }

    func start() {
        keepAlive = self
        stream.onClose = { [weak self] in self?.finish() }
        if format == .csv { stream.write(Array(ListenCSV.header.utf8)) }
        readNext()
    }

    private func readNext() {
        guard stream.isOpen else { return finish() }
        let filter = self.filter
        let format = self.format
        let after = cursor
        queries.submit({ reader throws(ProblemDetails) in
            do throws(HistoryError) {
                return .value(try ExportChunk.read(reader, filter: filter, format: format, after: after))
            } catch {
                throw .history(error)
            }
        }, completion: { [weak self] answer in self?.received(answer) })
    }

    private func received(_ answer: HistoryQueries.Answer) {
        guard stream.isOpen else { return finish() }
        guard case .value(let value) = answer, let chunk = value as? ExportChunk else {
            // The head is sent: a failure can only cut the body short, which the client sees as
            // a chunked body without its end (never as a complete file).
            stream.abort()
            return finish()
        }
        stream.write(chunk.bytes)
        guard let next = chunk.next else {
            stream.close()
            return finish()
        }
        cursor = next
        continueWhenDrained()
    }

    /// Reads on at once if the client keeps up, else looks again shortly.
    private func continueWhenDrained() {
        guard stream.isOpen else { return finish() }
        if stream.pendingBytes < HistoryEndpoints.exportBacklog {
            readNext()
        } else {
            waitTimer = loop.after(seconds: 0.02) { [weak self] in
                self?.waitTimer = nil
                self?.continueWhenDrained()
            }
        }
    }

    private func finish() {
        waitTimer?.cancel()
        waitTimer = nil
        stream.onClose = nil
        keepAlive = nil
    }
}
