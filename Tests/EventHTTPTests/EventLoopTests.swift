import EventHTTP
import Foundation
import Testing

private struct LoopLog: Sendable {
    var repeating = 0
    var oneShot = 0
    var cancelled = 0
    var wakes = 0
    var offLoopThread = 0
    var loopThread: UInt = 0
    var signals = 0
}

private func currentThreadID() -> UInt {
    #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
    #else
    UInt(pthread_self())
    #endif
}

@Suite struct EventLoopTests {
    @Test func timersFireAndCancelledTimersDoNot() throws {
        let log = Shared(LoopLog())
        let server = try TestServer { context in
            let loop = context.loop
            let repeating = loop.repeatingTimer(every: 0.01) { log.update { $0.repeating += 1 } }
            let once = loop.after(seconds: 0.03) { log.update { $0.oneShot += 1 } }
            let cancelled = loop.after(seconds: 0.02) { log.update { $0.cancelled += 1 } }
            cancelled.cancel()
            cancelled.cancel()
            context.keep(repeating)
            context.keep(once)
        }
        defer { #expect(server.stop()) }
        #expect(eventually { log.value.repeating >= 5 && log.value.oneShot == 1 })
        usleep(100_000)
        #expect(log.value.oneShot == 1)
        #expect(log.value.cancelled == 0)
    }

    @Test func timerCanCancelItselfInsideItsCallback() throws {
        let log = Shared(LoopLog())
        let server = try TestServer { context in
            final class Slot { var timer: LoopTimer? }
            let slot = Slot()
            slot.timer = context.loop.repeatingTimer(every: 0.01) {
                log.update { $0.repeating += 1 }
                slot.timer?.cancel()
                slot.timer = nil
            }
        }
        defer { #expect(server.stop()) }
        #expect(eventually { log.value.repeating == 1 })
        usleep(60_000)
        #expect(log.value.repeating == 1)
    }

    @Test func wakerFromOtherThreadsRunsOnLoopThread() throws {
        let log = Shared(LoopLog())
        let wakerSlot = Shared<LoopWaker?>(nil)
        let server = try TestServer { context in
            let loopThread = currentThreadID()
            log.update { $0.loopThread = loopThread }
            let waker = context.loop.makeWaker {
                let onLoop = currentThreadID() == loopThread
                log.update {
                    $0.wakes += 1
                    if !onLoop { $0.offLoopThread += 1 }
                }
            }
            wakerSlot.update { $0 = waker }
        }
        defer { #expect(server.stop()) }
        let waker = try #require(wakerSlot.value)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<200 { waker.wake() }
        }
        #expect(eventually { log.value.wakes >= 1 })
        usleep(50_000)
        let settled = log.value.wakes
        #expect(settled <= 800)   // coalescing may merge wakes, never invent them
        waker.wake()
        #expect(eventually { log.value.wakes == settled + 1 })
        #expect(log.value.offLoopThread == 0)
        #expect(log.value.loopThread != currentThreadID())
    }

    @Test func wakerOutlivingItsLoopIsHarmless() throws {
        var waker: LoopWaker?
        do {
            let loop = try EventLoop()
            waker = loop.makeWaker {}
        }
        waker?.wake()
        waker = nil
    }

    @Test func stopMakesRunReturn() throws {
        let finished = DispatchSemaphore(value: 0)
        let log = Shared(LoopLog())
        let thread = Thread {
            guard let loop = try? EventLoop() else { return }
            let ticking = loop.repeatingTimer(every: 0.01) { log.update { $0.repeating += 1 } }
            let stopper = loop.after(seconds: 0.1) { loop.stop() }
            loop.run()
            withExtendedLifetime((ticking, stopper)) {}
            finished.signal()
        }
        thread.start()
        #expect(finished.wait(timeout: .now() + 5) == .success)
        #expect(log.value.repeating >= 3)
    }

    @Test func signalRunsCallbackOnLoop() throws {
        let log = Shared(LoopLog())
        let server = try TestServer { context in
            context.keep(context.loop.onSignal(SIGUSR2) { log.update { $0.signals += 1 } })
        }
        defer { #expect(server.stop()) }
        kill(getpid(), SIGUSR2)
        #expect(eventually { log.value.signals == 1 })
    }
}
