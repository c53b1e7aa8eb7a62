import EventHTTP
import Foundation
import History
import Logging
import Synchronization

/// The small pool that answers history queries: a few threads, each with its own read
/// connection, take jobs from one queue; answers go back to the loop thread through a
/// `LoopWaker`. The loop never waits on the store: a request is answered when its job is done
/// or, past its time limit, with a 503 (the job's late answer is then dropped).
final class HistoryQueries {
    /// What a job hands back to the loop.
    enum Answer: Sendable {
        case json([UInt8])
        case problem(ProblemDetails)
        /// Anything else a job computes (an export's next chunk).
        case value(any Sendable)
    }

    typealias Job = @Sendable (any HistoryReader) throws(ProblemDetails) -> Answer

    private struct Queued: Sendable {
        var ticket: UInt64
        var job: Job
        /// When the loop answers 503 for it: the worker's reader abandons the query then.
        var deadline: ContinuousClock.Instant
    }

    /// Shared with the workers: the jobs waiting and whether to stop.
    private final class Work: Sendable {
        let queue = Mutex<(jobs: [Queued], stopping: Bool)>(([], false))
        let ready = DispatchSemaphore(value: 0)
        let done = HandOffQueue<(ticket: UInt64, answer: Answer)>()
    }

    private struct Waiting {
        var completion: (Answer) -> Void
        var timer: LoopTimer?
    }

    static let defaultTimeLimit = 10.0

    private let loop: EventLoop
    private let work = Work()
    private let workerCount: Int
    private let exited = DispatchSemaphore(value: 0)
    private var waker: LoopWaker?
    private var waiting: [UInt64: Waiting] = [:]
    private var nextTicket: UInt64 = 1
    private let logger: Logger

    init(store: any HistoryStore, loop: EventLoop, workers: Int = 2, logger: Logger) {
        self.loop = loop
        self.logger = logger
        workerCount = workers
        let waker = loop.makeWaker { [weak self] in self?.deliver() }
        self.waker = waker
        for index in 0..<workers {
            let thread = Thread { [work, exited, logger] in
                Self.serve(work: work, store: store, wake: { waker.wake() }, logger: logger)
                exited.signal()
            }
            thread.name = "history-query-\(index)"
            thread.start()
        }
    }

    /// Queues `job`; `completion` runs on the loop thread with its answer, or with a 503
    /// problem once `timeLimit` seconds pass first. Loop thread only.
    func submit(timeLimit: Double = HistoryQueries.defaultTimeLimit, _ job: @escaping Job,
                completion: @escaping (Answer) -> Void) {
        let ticket = nextTicket
        nextTicket += 1
        let timer = loop.after(seconds: timeLimit) { [weak self] in
            guard let self, let entry = self.waiting.removeValue(forKey: ticket) else { return }
            entry.completion(.problem(ProblemDetails(
                status: 503, title: "History query timed out",
                detail: "the history store did not answer within \(Int(timeLimit)) s; narrow the range or filters, or retry")))
        }
        waiting[ticket] = Waiting(completion: completion, timer: timer)
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeLimit * 1_000))
        work.queue.withLock { $0.jobs.append(Queued(ticket: ticket, job: job, deadline: deadline)) }
        work.ready.signal()
    }

    /// Answers a deferred request with a job's answer (JSON or a problem).
    func respond(_ pending: PendingResponse, timeLimit: Double = HistoryQueries.defaultTimeLimit, _ job: @escaping Job) {
        submit(timeLimit: timeLimit, job) { answer in
            guard pending.isConnected else { return }
            pending.respond(Self.response(for: answer))
        }
    }

    /// The HTTP answer of a job's JSON or problem.
    static func response(for answer: Answer) -> HTTPResponse {
        switch answer {
        case .json(let body): .json(body)
        case .problem(let problem): problem.response
        case .value: ProblemDetails(status: 500, title: "Internal error").response
        }
    }

    var waitingCount: Int { waiting.count }

    /// Stops the workers once the jobs queued are done; waits for them.
    func stop() {
        work.queue.withLock { $0.stopping = true }
        for _ in 0..<workerCount { work.ready.signal() }
        for _ in 0..<workerCount { exited.wait() }
        for (_, entry) in waiting { entry.timer?.cancel() }
        waiting.removeAll()
    }

    private func deliver() {
        for (ticket, answer) in work.done.takeAll() {
            guard let entry = waiting.removeValue(forKey: ticket) else { continue }   // timed out already
            entry.timer?.cancel()
            entry.completion(answer)
        }
    }

    /// A worker: opens its own reader (again after a failure), runs jobs until told to stop.
    private static func serve(work: Work, store: any HistoryStore, wake: @Sendable () -> Void, logger: Logger) {
        var reader: (any HistoryReader)?
        while true {
            work.ready.wait()
            let next: Queued? = work.queue.withLock { state in
                state.jobs.isEmpty ? nil : state.jobs.removeFirst()
            }
            guard let next else {
                if work.queue.withLock({ $0.stopping }) { return }
                continue
            }
            let answer: Answer
            do throws(ProblemDetails) {
                if reader == nil {
                    do {
                        reader = try store.openReader()
                    } catch {
                        throw ProblemDetails.historyUnavailable(error)
                    }
                }
                // Already answered 503 while it waited: not worth starting.
                guard ContinuousClock.now < next.deadline else { continue }
                reader!.limitQueries(until: next.deadline)
                answer = try next.job(reader!)
            } catch {
                // A store that went away is reopened for the next job.
                if error.status == 503 { reader = nil }
                answer = .problem(error)
            }
            if work.done.push((next.ticket, answer)) { wake() }
        }
    }
}

extension ProblemDetails {
    /// The store cannot answer now (down, unreachable): 503, and the client may retry.
    static func historyUnavailable(_ error: HistoryError) -> ProblemDetails {
        ProblemDetails(status: 503, title: "History unavailable", detail: "the history store cannot answer: \(error.message)")
    }

    /// A store error while answering: 503 when the store is unreachable, 500 otherwise.
    static func history(_ error: HistoryError) -> ProblemDetails {
        error.isUnavailable ? historyUnavailable(error)
            : ProblemDetails(status: 500, title: "History query failed", detail: error.message)
    }
}

