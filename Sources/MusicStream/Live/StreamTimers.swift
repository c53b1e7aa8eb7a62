import EventHTTP

/// The stream's clock: a ping to idle subscribers every `pingInterval`, and once a second the
/// `event: stats` frames for those that asked. Loop thread only; `cancel` before the loop ends.
final class StreamTimers {
    private var timers: [LoopTimer] = []

    init(loop: EventLoop, live: LiveWindow, stats: IngestStats, pingInterval: Double) {
        let hub = live.hub
        var rateMeter = RateMeter()
        timers.append(loop.repeatingTimer(every: pingInterval) { hub.ping(at: live.knownPosition) })
        timers.append(loop.repeatingTimer(every: 1) {
            let consumed = stats.consumed
            hub.sendStats(
                consumed: consumed, eventsPerSecond: rateMeter.update(total: consumed), at: live.knownPosition
            ) { filter in
                live.window.count(matching: filter)
            }
        })
    }

    func cancel() {
        for timer in timers { timer.cancel() }
        timers.removeAll()
    }
}
