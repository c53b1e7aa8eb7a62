import JSON
import EventHTTP
import History
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
        /// A resumed subscriber's position while it is ahead of this window in some partition
        /// (it comes from a replica that had read further): events at or before it were sent
        /// already and are skipped, until the window has read past it.
        var floor: StreamPosition?
        /// The id last written to it; pings bring it up to date when events passed it by.
        var sentPosition: StreamPosition?
        /// Set while what it missed is read from the history: live events wait (the replay
        /// that follows sends them from the window, in order).
        var waitingForHistory = false
        /// When its unsent output first went over the bound, if it still is.
        var overBoundSince: ContinuousClock.Instant?
        /// Written to since the last ping round: such a stream needs no keep-alive comment.
        var wroteSincePing = false
        init(stream: ResponseStream, filter: EventFilter, wantsStats: Bool, floor: StreamPosition?, sentPosition: StreamPosition?) {
            self.stream = stream
            self.filter = filter
            self.wantsStats = wantsStats
            self.floor = floor
            self.sentPosition = sentPosition
        }

        /// The id it gets at `position`: the later of the window's position and its own.
        func id(at position: StreamPosition) -> StreamPosition {
            floor.map { position.merged(with: $0) } ?? position
        }

        /// Called after each round: once the window has read past its floor, it has none.
        func passed(_ position: StreamPosition) {
            if let floor, position.covers(floor) { self.floor = nil }
        }
    }

    private var subscribers: [ObjectIdentifier: Subscriber] = [:]
    private let maxPendingBytes: Int
    private(set) var messagesSent = 0
    private(set) var slowClientsDropped = 0
    private(set) var resumes = 0
    private(set) var resets = 0
    /// How long a subscriber may stay over the bound while it drains a burst.
    static let lagGrace = Duration.seconds(2)
    /// Over this many times the bound a subscriber is cut off at once.
    static let hardLimitFactor = 2

    static let pingFrame = Array(": ping\n\n".utf8)
    /// Tells a resuming client that its last id is gone from the window: reload, then follow live.
    static let resetFrame = Array("event: reset\ndata: {}\n\n".utf8)

    private(set) var historyReplays = 0

    private let logger: Logger

    /// Reads the listens of `ranges` (offsets by partition) from the history store, then calls
    /// `done` on the loop thread with them (nil: the store cannot give them all) and the
    /// window and its position as they are then.
    typealias HistoryReplay = (_ ranges: [Int32: ClosedRange<Int64>], _ done: @escaping HistoryReplayDone) -> Void
    typealias HistoryReplayDone = (_ records: [HistoryRecord]?, _ window: EventWindow, _ position: StreamPosition?) -> Void

    /// Set when the server keeps a history: how a resume the window cannot serve is served.
    var replayFromHistory: HistoryReplay?
    /// The most events a resume replays from the history; past it the client gets a reset.
    let maxReplay: Int

    /// Events held for the next round of writes and the position they end at (see `publish`).
    private var held: [StoredEvent] = []
    private var heldPosition: StreamPosition?
    private var roundTimer: LoopTimer?
    private var roundArmed = false
    /// When the last round of event writes ended.
    private var lastRound: ContinuousClock.Instant?
    /// Arms a one-shot timer on the loop thread (set by the server); without it every batch is
    /// written at once.
    var scheduleRound: ((_ seconds: Double, _ round: @escaping () -> Void) -> LoopTimer)?
    /// The least time between rounds, reached at `fullDelaySubscribers`: the longest an event
    /// can be held.
    let maxRoundDelay: Double
    /// Below this many subscribers every batch is written at once.
    static let holdingFrom = 500
    static let fullDelaySubscribers = 10_000

    init(maxPendingBytes: Int, maxReplay: Int = 10_000, maxRoundDelay: Double = 0,
         logger: Logger = Logger(label: "musicstream.sse")) {
        self.maxPendingBytes = maxPendingBytes
        self.maxReplay = maxReplay
        self.maxRoundDelay = maxRoundDelay
        self.logger = logger
    }

    /// The least time between two rounds of writes now: none for a few hundred subscribers (a
    /// POST shows on the stream at once), growing with their number to `maxRoundDelay` at 10,000.
    var roundGap: Double {
        guard maxRoundDelay > 0, subscribers.count >= Self.holdingFrom else { return 0 }
        return maxRoundDelay * min(1, Double(subscribers.count) / Double(Self.fullDelaySubscribers))
    }

    var count: Int { subscribers.count }

    /// Sent first on every stream: the browser's reconnect delay, a comment that flushes the
    /// headers, and (once the log is known) the window's position as the stream's id, so a
    /// client that loses the connection before any event still resumes where it was.
    static func greeting(at position: StreamPosition?) -> [UInt8] {
        var frame = "retry: 2000\n"
        if let position { frame += "id: \(position.id)\n" }
        return Array((frame + ": connected\n\n").utf8)
    }

    /// Starts a subscriber's stream: the greeting, then the matching events read after the
    /// position it resumes from (or `event: reset` when this window cannot say what came after
    /// it), then live events. All on the loop thread, so no event can slip in between the
    /// replay and the subscription. `position` is the window's (nil before the log is known).
    func open(_ stream: ResponseStream, for request: StreamRequest, window: EventWindow, at position: StreamPosition?) {
        // The newcomer starts at the window's position, past the held events: the others get
        // them first.
        writeHeld()
        var floor: StreamPosition?
        switch request.resume {
        case nil:
            stream.write(Self.greeting(at: position))
        case .legacy?, .malformed?:
            stream.write(Self.greeting(at: position))
            resets += 1
            stream.write(Self.resetFrame)
        case .position(let resumed)?:
            guard let position, resumed.log == position.log else {
                stream.write(Self.greeting(at: position))
                resets += 1
                stream.write(Self.resetFrame)
                break
            }
            if window.holdsEverything(after: resumed) {
                resumes += 1
                stream.write(Self.greeting(at: floorless(position, resumed)))
                floor = replayWindow(after: resumed, filter: request.filter, window: window, at: position, to: stream).floor
                break
            }
            let missing = window.missing(after: resumed)
            let count = missing.values.reduce(0) { $0 + $1.count }
            guard let replayFromHistory, count <= maxReplay else {
                stream.write(Self.greeting(at: position))
                resets += 1
                stream.write(Self.resetFrame)
                break
            }
            // What the window no longer holds comes from the history first; live events wait.
            stream.write(Self.greeting(at: resumed))
            subscribe(stream, filter: request.filter, wantsStats: request.wantsStats, sentPosition: resumed)
            subscribers[ObjectIdentifier(stream)]?.waitingForHistory = true
            let filter = request.filter
            // Where the history's part ends: the newest offsets the window no longer held.
            let through = resumed.merged(with: StreamPosition(log: resumed.log, offsets: window.heldAfter))
            replayFromHistory(missing) { [weak self] records, window, position in
                self?.finishHistoryReplay(stream, records: records, through: through, filter: filter, window: window, at: position)
            }
            return
        }
        subscribe(stream, filter: request.filter, wantsStats: request.wantsStats, floor: floor,
                  sentPosition: floor.map { position?.merged(with: $0) } ?? position)
    }

    /// The id a resumed subscriber has: the window's position, or its own where it is ahead.
    private func floorless(_ position: StreamPosition, _ resumed: StreamPosition) -> StreamPosition {
        position.covers(resumed) ? position : position.merged(with: resumed)
    }

    /// Sends `history` (frames) and the window's events read after `resumed` that pass
    /// `filter`, the write ending with the id. Returns the subscriber's floor (its own position
    /// where it is ahead) and whether anything was written.
    private func replayWindow(
        after resumed: StreamPosition, filter: EventFilter, window: EventWindow, at position: StreamPosition,
        to stream: ResponseStream, before history: [UInt8] = []
    ) -> (floor: StreamPosition?, wrote: Bool) {
        var frames = history
        for stored in window.events(after: resumed, where: { filter.matches($0) }) {
            frames.append(contentsOf: Self.frame(for: stored.event))
        }
        if !frames.isEmpty { stream.write(Self.withID(frames, floorless(position, resumed))) }
        return (position.covers(resumed) ? nil : resumed, !frames.isEmpty)
    }

    /// The history's answer for a subscriber that waited for it: its listens (filtered), then
    /// the window's from where they end, then live. A reset when the store could not give
    /// them all, or the window moved past where they end meanwhile.
    private func finishHistoryReplay(
        _ stream: ResponseStream, records: [HistoryRecord]?, through: StreamPosition, filter: EventFilter,
        window: EventWindow, at position: StreamPosition?
    ) {
        guard let subscriber = subscribers[ObjectIdentifier(stream)], stream.isOpen, let position else { return }
        // Held events go to the others now; this subscriber gets them from the window below.
        writeHeld()
        subscriber.waitingForHistory = false
        guard let records, window.holdsEverything(after: through) else {
            resets += 1
            deliver(Array("event: reset\nid: \(position.id)\ndata: {}\n\n".utf8), to: subscriber)
            subscriber.floor = nil
            subscriber.sentPosition = position
            return
        }
        resumes += 1
        historyReplays += 1
        var frames: [UInt8] = []
        for record in records where filter.matches(record.event) { frames.append(contentsOf: Self.frame(for: record.event)) }
        let replayed = replayWindow(after: through, filter: filter, window: window, at: position, to: stream, before: frames)
        subscriber.floor = replayed.floor
        subscriber.sentPosition = floorless(position, through)
        // Nothing matched on the way: the id still moves to where the replay ended.
        if !replayed.wrote { deliver(Array("id: \(floorless(position, through).id)\n: resumed\n\n".utf8), to: subscriber) }
    }

    /// Registers an open stream; it leaves the hub when the client goes away.
    func subscribe(_ stream: ResponseStream, filter: EventFilter, wantsStats: Bool = false,
                   floor: StreamPosition? = nil, sentPosition: StreamPosition? = nil) {
        guard stream.isOpen else { return }
        let key = ObjectIdentifier(stream)
        subscribers[key] = Subscriber(
            stream: stream, filter: filter, wantsStats: wantsStats, floor: floor, sentPosition: sentPosition)
        stream.onClose = { [weak self] in self?.subscribers[key] = nil }
    }

    /// Sends the events to the subscribers in a round of writes, at least `roundGap` after the
    /// last round ended: at once when it ended that long ago, else held until then with
    /// whatever else arrives. At 20 events a second and 10,000 subscribers, writing each
    /// batch at once costs 200,000 socket writes a second, nearly all of the server's time; one
    /// round per tenth of a second halves that, and an event that finds the way clear waits
    /// not at all. Anything else written to a subscriber (a new stream's start, a ping, stats,
    /// a history replay's end) first writes what is held, so ids never pass unsent events.
    func publish(_ events: [StoredEvent], at position: StreamPosition) {
        guard !subscribers.isEmpty else {
            (held, heldPosition) = ([], nil)
            return
        }
        guard !events.isEmpty else { return }
        held.append(contentsOf: events)
        heldPosition = position
        guard !roundArmed else { return }
        let gap = roundGap
        let now = ContinuousClock.now
        let wait = lastRound.map { gap - (now - $0).inSeconds } ?? 0
        guard wait > 0, let scheduleRound else {
            writeHeld()
            return
        }
        roundArmed = true
        // The fired timer is kept until the next one replaces it (not freed in its own callback).
        roundTimer = scheduleRound(wait) { [weak self] in
            self?.roundArmed = false
            self?.writeHeld()
        }
    }

    /// Writes the held events now, as a round (see `publish`).
    func writeHeld() {
        guard let position = heldPosition, !held.isEmpty else { return }
        let events = held
        (held, heldPosition) = ([], nil)
        write(events, at: position)
        // The gap runs from the round's end: with 10,000 subscribers a round itself takes tens
        // of milliseconds, and timed from its start the next could follow at once, keeping the
        // loop writing without pause.
        lastRound = ContinuousClock.now
    }

    /// Sends each subscriber the events it matches, in order, as one write: a socket write costs
    /// the same for one frame or ten, and when the loop falls behind, batches grow and the number
    /// of writes does not (so it catches up). Each event is framed once, only if anyone wants it;
    /// the write's last event carries the id: `position`, the window's after these events.
    private func write(_ events: [StoredEvent], at position: StreamPosition) {
        guard !subscribers.isEmpty, !events.isEmpty else { return }
        dropLaggards()
        var frames = [[UInt8]?](repeating: nil, count: events.count)
        var everything: [UInt8]?   // all frames in a row with the id, for subscribers that match every event
        var matching: [Int] = []
        var selection: [UInt8] = []
        // The id line most subscribers get (those without a floor), formatted once.
        let idLine = Array("id: \(position.id)\n\n".utf8)
        for subscriber in subscribers.values where !subscriber.waitingForHistory {
            matching.removeAll(keepingCapacity: true)
            if let floor = subscriber.floor {
                for index in events.indices where events[index].isRead(after: floor) && subscriber.filter.matches(events[index].event) {
                    matching.append(index)
                }
            } else {
                for index in events.indices where subscriber.filter.matches(events[index].event) { matching.append(index) }
            }
            defer { subscriber.passed(position) }
            guard !matching.isEmpty else { continue }
            for index in matching where frames[index] == nil { frames[index] = Self.frame(for: events[index]) }
            if matching.count == events.count && subscriber.floor == nil {
                if everything == nil {
                    everything = Self.withID(frames.reduce(into: []) { $0.append(contentsOf: $1!) }, position)
                }
                deliver(everything!, to: subscriber, messages: matching.count)
                subscriber.sentPosition = position
            } else {
                selection.removeAll(keepingCapacity: true)
                for index in matching { selection.append(contentsOf: frames[index]!) }
                selection.removeLast()   // the last frame's blank line: the id goes before it
                if subscriber.floor == nil {
                    selection.append(contentsOf: idLine)
                    subscriber.sentPosition = position
                } else {
                    let id = subscriber.id(at: position)
                    selection.append(contentsOf: "id: \(id.id)\n\n".utf8)
                    subscriber.sentPosition = id
                }
                deliver(selection, to: subscriber, messages: matching.count)
            }
        }
    }

    /// A comment line to every subscriber that got nothing since the last round: keeps idle
    /// connections open through proxies. Busy streams are skipped; at thousands of subscribers a
    /// ping to each is a burst of writes that would delay the next events.
    /// A subscriber whose filter let nothing through since its last id gets the window's
    /// position as an id with the ping, so that it resumes from here rather than from
    /// further back (which might be gone from the window by then).
    func ping(at position: StreamPosition?) {
        writeHeld()
        dropLaggards()
        for subscriber in subscribers.values {
            if let position, !subscriber.waitingForHistory {
                let id = subscriber.id(at: position)
                if subscriber.sentPosition != id {
                    deliver(Array("id: \(id.id)\n: ping\n\n".utf8), to: subscriber)
                    subscriber.sentPosition = id
                    subscriber.wroteSincePing = false
                    continue
                }
            }
            if !subscriber.wroteSincePing { deliver(Self.pingFrame, to: subscriber) }
            subscriber.wroteSincePing = false
        }
    }

    /// `event: stats` to the subscribers that asked for it: totals, rate, and how many events in
    /// the window match their filter (computed once per distinct filter).
    /// The frames carry the subscriber's id, the stream's heartbeat keeping it current.
    func sendStats(consumed: Int, eventsPerSecond: Double, at position: StreamPosition?, matching: (EventFilter) -> Int) {
        writeHeld()
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
            var frame = Array("event: stats\n".utf8)
            if let position, !subscriber.waitingForHistory {
                let id = subscriber.id(at: position)
                frame.append(contentsOf: "id: \(id.id)\n".utf8)
                subscriber.sentPosition = id
            }
            frame.append(contentsOf: "data: ".utf8)
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

    /// `frames` (each ending in a blank line) with `id: <position>` added to the last one.
    static func withID(_ frames: [UInt8], _ position: StreamPosition) -> [UInt8] {
        var bytes = frames
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        bytes.append(contentsOf: "id: \(position.id)\n\n".utf8)
        return bytes
    }

    /// `event: listen`, `data: <canonical JSON>`, blank line. No id: a write's last event
    /// carries the position (`withID`), and a client keeps the last id it saw.
    static func frame(for stored: StoredEvent) -> [UInt8] { frame(for: stored.event) }

    static func frame(for event: ListenEvent) -> [UInt8] {
        var frame = JSONWriter(capacity: 640)
        frame.bytes.append(contentsOf: "event: listen\ndata: ".utf8)
        event.write(to: &frame)
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
        output.family("musicstream_sse_resumes_total", "counter", "Streams resumed from a client's last id.")
        output.sample("musicstream_sse_resumes_total", resumes)
        output.family("musicstream_sse_history_replays_total", "counter", "Resumed streams whose missed events came from the history store.")
        output.sample("musicstream_sse_history_replays_total", historyReplays)
        output.family("musicstream_sse_resets_total", "counter", "Streams told to reset: their last id could not be resumed here.")
        output.sample("musicstream_sse_resets_total", resets)
    }
}
