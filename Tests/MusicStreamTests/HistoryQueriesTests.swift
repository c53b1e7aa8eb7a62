import EventHTTP
import Foundation
import History
import MusicModel
import Synchronization
import Testing
@testable import MusicStream

/// The query pool's promises to the loop: answers come back on the loop thread, a query past
/// its time limit is answered 503 by the loop itself (never a hung request), its late answer is
/// dropped, and a store that cannot be opened is a 503 too.
@Suite struct HistoryQueriesTests {
    /// A store whose reader answers `listens` only once `gate` opens; `opens` says whether
    /// opening a reader works at all.
    final class GatedStore: HistoryStore {
        let gate = DispatchSemaphore(value: 0)
        let opens: Bool
        init(opens: Bool = true) { self.opens = opens }
        var description: String { "gated" }
        func openWriter() throws(HistoryError) -> any HistoryWriter { throw HistoryError("read-only") }
        func openReader() throws(HistoryError) -> any HistoryReader {
            guard opens else { throw HistoryError("store down", isUnavailable: true) }
            return Reader(gate: gate)
        }

        final class Reader: HistoryReader {
            let gate: DispatchSemaphore
            init(gate: DispatchSemaphore) { self.gate = gate }
            func listens(matching filter: EventFilter, order: HistoryOrder, after cursor: HistoryCursor?, limit: Int,
                         scanLimit: Int) throws(HistoryError) -> HistoryPage {
                gate.wait()
                return HistoryPage(listens: [], next: nil)
            }
            func userSummary(userID: String, since: Int64?, until: Int64?, top: Int) throws(HistoryError) -> UserSummary? { nil }
            func extent() throws(HistoryError) -> HistoryExtent { HistoryExtent(listens: 0, oldest: nil, newest: nil) }
            func listens(of log: String, in ranges: [Int32: ClosedRange<Int64>], limit: Int) throws(HistoryError) -> [HistoryRecord]? { nil }
        }
    }

    /// Runs `body` on a loop and the loop until `done` is called (or 10 s pass).
    func onLoop(_ body: (EventLoop, _ done: @escaping () -> Void) -> Void) throws {
        let loop = try EventLoop()
        let deadline = loop.after(seconds: 10) { loop.stop() }
        body(loop) { loop.stop() }
        loop.run()
        deadline.cancel()
    }

    @Test func aQueryPastItsTimeLimitIsAnswered503AndItsLateAnswerDropped() throws {
        let store = GatedStore()
        var answers: [HistoryQueries.Answer] = []
        var queries: HistoryQueries?
        try onLoop { loop, done in
            let pool = HistoryQueries(store: store, loop: loop, workers: 1, logger: .init(label: "test"))
            queries = pool
            pool.submit(timeLimit: 0.2, { reader throws(ProblemDetails) in
                do throws(HistoryError) {
                    _ = try reader.listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 1, scanLimit: 1)
                } catch {
                    throw .history(error)
                }
                return .json(Array("late".utf8))
            }, completion: { answer in
                answers.append(answer)
                done()
            })
        }
        #expect(answers.count == 1)
        guard case .problem(let problem) = answers.first else {
            Issue.record("expected a problem, got \(String(describing: answers.first))")
            return
        }
        #expect(problem.status == 503)
        #expect(queries?.waitingCount == 0)
        // The job finishes later; its answer finds nobody waiting.
        store.gate.signal()
        queries?.stop()
        #expect(answers.count == 1)
    }

    @Test func aStoreThatCannotBeOpenedIs503() throws {
        let store = GatedStore(opens: false)
        var answer: HistoryQueries.Answer?
        try onLoop { loop, done in
            let pool = HistoryQueries(store: store, loop: loop, workers: 1, logger: .init(label: "test"))
            pool.submit({ _ throws(ProblemDetails) in .json([]) }, completion: { result in
                answer = result
                done()
                pool.stop()
            })
        }
        guard case .problem(let problem) = answer else {
            Issue.record("expected a problem")
            return
        }
        #expect(problem.status == 503)
        #expect(problem.detail?.contains("store down") == true)
    }

    @Test func answersComeBackOnTheLoopThread() throws {
        let store = GatedStore()
        var seen: [String] = []
        var loopThread: Thread?
        var onLoopThread = true
        try onLoop { loop, done in
            loopThread = Thread.current
            let pool = HistoryQueries(store: store, loop: loop, workers: 2, logger: .init(label: "test"))
            for name in ["a", "b"] {
                pool.submit({ _ throws(ProblemDetails) in .json(Array(name.utf8)) }, completion: { answer in
                    onLoopThread = onLoopThread && Thread.current == loopThread
                    if case .json(let body) = answer { seen.append(String(decoding: body, as: UTF8.self)) }
                    if seen.count == 2 {
                        done()
                        pool.stop()
                    }
                })
            }
        }
        #expect(seen.sorted() == ["a", "b"])
        #expect(onLoopThread)
    }
}
