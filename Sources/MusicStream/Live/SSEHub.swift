import JSON
import EventHTTP
import Logging
import MusicAPI
import MusicModel

/// Fans events out to `/stream` subscribers. Each event is framed once and the same bytes are
/// written to every subscriber whose filter matches. A subscriber that stops reading is cut off
/// once its unsent output stays over `maxPendingBytes` (see `dropLaggards`): its connection is
/// dropped with the backlog, so it cannot make the server hold memory or a descriptor for it.
/// Lives on the HTTP loop thread.
final class SSEHub {
    private final class Subscriber {
        let stream: ResponseStream
        let filter: EventFilter
        let wantsStats: Bool
        /// When its unsent output first went over the bound, if it still is.
        var overBoundSince: ContinuousClock.Instant?
        /// Written to since the last ping round: such a stream needs no keep-alive comment.
        var wroteSincePing = false
        init(stream: ResponseStream, filter: EventFilter, wantsStats: Bool) {
            self.stream = stream
            self.filter = filter
            self.wantsStats = wantsStats
        }
    }

    private var subscribers: [ObjectIdentifier: Subscriber] = [:]
    private let maxPendingBytes: Int
    private(set) var messagesSent = 0
    private(set) var slowClientsDropped = 0
    /// How long a subscriber may stay over the bound while it drains a burst.
    static let lagGrace = Duration.seconds(2)
    /// Over this many times the bound a subscriber is cut off at once.
    static let hardLimitFactor = 2

    static let pingFrame = Array(": ping\n\n".utf8)
    /// Sent first on every stream: the browser's reconnect delay, and a comment that flushes headers.
    static let greeting = Array("retry: 2000\n: connected\n\n".utf8)
    /// Tells a resuming client that its last id is gone from the window: reload, then follow live.
    static let resetFrame = Array("event: reset\ndata: {}\n\n".utf8)

    private let logger: Logger

    init(maxPendingBytes: Int, logger: Logger = Logger(label: "musicstream.sse")) {
        self.maxPendingBytes = maxPendingBytes
        self.logger = logger
    }

    var count: Int { subscribers.count }

    /// Starts a subscriber's stream: the greeting, then the matching events after the id it
    /// resumes from (or `event: reset` when that id has left `window`), then live events. All
    /// on the loop thread, so no event can slip in between the replay and the subscription.
    func open(_ stream: ResponseStream, for request: StreamRequest, window: EventWindow) {
        stream.write(Self.greeting)
        if let resumeAfter = request.resumeAfter { replay(after: resumeAfter, filter: request.filter, from: window, to: stream) }
        subscribe(stream, filter: request.filter, wantsStats: request.wantsStats)
    }

    /// Writes the matching events after `sequence` to `stream`, oldest first, or `event: reset`
    /// when that sequence is no longer (or never was) in the window.
    func replay(after sequence: UInt64, filter: EventFilter, from window: EventWindow, to stream: ResponseStream) {
        let stillHeld = sequence <= window.lastSequence && (window.count == 0 || sequence + 1 >= window.oldestSequence)
        guard stillHeld else {
            stream.write(Self.resetFrame)
            return
        }
        for stored in window.events(after: sequence) where filter.matches(stored.event) {
            stream.write(Self.frame(for: stored))
        }
    }

    /// Registers an open stream; it leaves the hub when the client goes away.
    func subscribe(_ stream: ResponseStream, filter: EventFilter, wantsStats: Bool = false) {
        guard stream.isOpen else { return }
        let key = ObjectIdentifier(stream)
        subscribers[key] = Subscriber(stream: stream, filter: filter, wantsStats: wantsStats)
        stream.onClose = { [weak self] in self?.subscribers[key] = nil }
    }

    /// Sends each subscriber the events it matches, in order, as one write: a socket write costs
    /// the same for one frame or ten, and when the loop falls behind, batches grow and the number
    /// of writes does not (so it catches up). Each event is framed once, only if anyone wants it.
    func publish(_ events: [StoredEvent]) {
        guard !subscribers.isEmpty, !events.isEmpty else { return }
        dropLaggards()
        var frames = [[UInt8]?](repeating: nil, count: events.count)
        var everything: [UInt8]?   // all frames in a row, for subscribers that match every event
        var matching: [Int] = []
        var selection: [UInt8] = []
        for subscriber in subscribers.values {
            matching.removeAll(keepingCapacity: true)
            for index in events.indices where subscriber.filter.matches(events[index].event) { matching.append(index) }
            guard !matching.isEmpty else { continue }
            for index in matching where frames[index] == nil { frames[index] = Self.frame(for: events[index]) }
            if matching.count == events.count {
                if everything == nil { everything = frames.reduce(into: []) { $0.append(contentsOf: $1!) } }
                deliver(everything!, to: subscriber, messages: matching.count)
            } else {
                selection.removeAll(keepingCapacity: true)
                for index in matching { selection.append(contentsOf: frames[index]!) }
                deliver(selection, to: subscriber, messages: matching.count)
            }
        }
    }

    /// A comment line to every subscriber that got nothing since the last round: keeps idle
    /// connections open through proxies. Busy streams are skipped; at thousands of subscribers a
    /// ping to each is a burst of writes that would delay the next events.
    func ping() {
        dropLaggards()
        for subscriber in subscribers.values {
            if !subscriber.wroteSincePing { deliver(Self.pingFrame, to: subscriber) }
            subscriber.wroteSincePing = false
        }
    }

    /// `event: stats` to the subscribers that asked for it: totals, rate, and how many events in
    /// the window match their filter (computed once per distinct filter).
    func sendStats(consumed: Int, eventsPerSecond: Double, matching: (EventFilter) -> Int) {
        dropLaggards()
        var counted: [(filter: EventFilter, matching: Int)] = []
        for subscriber in subscribers.values where subscriber.wantsStats {
            let count: Int
            if let known = counted.first(where: { $0.filter == subscriber.filter }) {
                count = known.matching
            } else {
                count = matching(subscriber.filter)
                counted.append((subscriber.filter, count))
            }
            var writer = JSONWriter(capacity: 96)
            writer.beginObject()
            writer.key("consumed"); writer.int(consumed)
            writer.key("events_per_second"); writer.double((eventsPerSecond * 10).rounded() / 10)
            writer.key("matching"); writer.int(count)
            writer.endObject()
            var frame = Array("event: stats\ndata: ".utf8)
            frame.append(contentsOf: writer.bytes)
            frame.append(contentsOf: "\n\n".utf8)
            deliver(frame, to: subscriber)
        }
    }

    func closeAll() {
        for subscriber in Array(subscribers.values) { subscriber.stream.close() }
        subscribers.removeAll()
    }

    /// Cuts off the subscribers that are not draining: more than `maxPendingBytes` unsent for
    /// longer than `lagGrace`, or more than `hardLimitFactor` times that at any moment (memory
    /// stays bounded even for a client that stalls during a flood). Checked before each round
    /// of writes, not per frame. Why the grace: the loop queues a whole batch before any of it
    /// can reach the socket, and libevent then writes a connection's backlog 16 KiB per pass, so
    /// a burst (the consumer catching up after a start or an outage) leaves clients that read
    /// perfectly well over the bound for a few passes; cutting them there would drop every
    /// dashboard at once.
    private func dropLaggards() {
        let now = ContinuousClock.now
        for (key, subscriber) in subscribers {
            let pending = subscriber.stream.pendingBytes
            guard pending > maxPendingBytes else {
                subscriber.overBoundSince = nil
                continue
            }
            let since = subscriber.overBoundSince ?? now
            subscriber.overBoundSince = since
            guard pending > maxPendingBytes * Self.hardLimitFactor || now - since >= Self.lagGrace else { continue }
            slowClientsDropped += 1
            logger.warning("dropping a /stream client that stopped reading (\(pending) bytes pending)")
            subscriber.stream.abort()   // not close(): that would wait behind the backlog it won't read
            subscribers[key] = nil      // abort's onClose does this too; no dangling entry either way
        }
    }

    private func deliver(_ frames: [UInt8], to subscriber: Subscriber, messages: Int = 0) {
        if subscriber.stream.write(frames) { messagesSent += messages }
        subscriber.wroteSincePing = true
    }

    /// `id: <sequence>`, `event: listen`, `data: <canonical JSON>`, blank line.
    static func frame(for stored: StoredEvent) -> [UInt8] {
        var frame = JSONWriter(capacity: 640)
        frame.bytes.append(contentsOf: "id: \(stored.sequence)\nevent: listen\ndata: ".utf8)
        stored.event.write(to: &frame)
        frame.bytes.append(contentsOf: "\n\n".utf8)
        return frame.bytes
    }
}

extension SSEHub: MetricsSource {
    func writeMetrics(to output: inout PrometheusText) {
        output.family("musicstream_sse_clients", "gauge", "Open /stream connections.")
        output.sample("musicstream_sse_clients", count)
        output.family("musicstream_sse_messages_sent_total", "counter", "Events written to /stream subscribers.")
        output.sample("musicstream_sse_messages_sent_total", messagesSent)
        output.family("musicstream_sse_clients_dropped_total", "counter", "Subscribers cut off for not reading.")
        output.sample("musicstream_sse_clients_dropped_total", slowClientsDropped)
    }
}
