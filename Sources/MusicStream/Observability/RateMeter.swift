/// Events per second from a growing total, smoothed over the last few seconds.
struct RateMeter {
    private var samples: [(time: ContinuousClock.Instant, total: Int)] = []
    private let span: Duration

    init(span: Duration = .seconds(5)) { self.span = span }

    mutating func update(total: Int, now: ContinuousClock.Instant = .now) -> Double {
        samples.append((now, total))
        while let first = samples.first, now - first.time > span, samples.count > 2 { samples.removeFirst() }
        guard let first = samples.first, samples.count > 1 else { return 0 }
        let seconds = (now - first.time).inSeconds
        return seconds > 0 ? Double(total - first.total) / seconds : 0
    }
}
