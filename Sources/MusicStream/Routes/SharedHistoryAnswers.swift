import EventHTTP

/// History answers of the read endpoints shared between identical requests asked while one is
/// being computed: dashboards poll the same query (the timeline every second, with `since`
/// rounded to its bucket), and without sharing each poll would be one more store query queued
/// behind the others. The first request of a key runs the job; later ones of the same key wait
/// for its answer. Keyed by path and raw query, like the response cache. Loop thread only.
final class SharedHistoryAnswers {
    private var waiting: [String: [PendingResponse]] = [:]

    /// Answers `pending` with `job`'s answer, running the job only if no identical request is
    /// already waiting for one.
    func respond(_ pending: PendingResponse, key: String, queries: HistoryQueries, _ job: @escaping HistoryQueries.Job) {
        if waiting[key] != nil {
            waiting[key]?.append(pending)
            return
        }
        waiting[key] = [pending]
        queries.submit(job) { [weak self] answer in
            let response = HistoryQueries.response(for: answer)
            for pending in self?.waiting.removeValue(forKey: key) ?? [] where pending.isConnected {
                pending.respond(response)
            }
        }
    }

    var count: Int { waiting.count }
}
