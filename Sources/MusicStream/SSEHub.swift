import EventHTTP
import MusicModel

/// Fans events out to `/stream` subscribers. Each event is framed once and the same bytes are
/// written to every subscriber whose filter matches. A subscriber that stops reading is cut off
/// once its unsent output passes `maxPendingBytes`, so it cannot make the server hold its backlog.
/// Lives on the HTTP loop thread.
final class SSEHub {
    private final class Subscriber {
        let stream: ResponseStream
        let filter: EventFilter
        init(stream: ResponseStream, filter: EventFilter) {
            self.stream = stream
            self.filter = filter
        }
    }

    private var subscribers: [ObjectIdentifier: Subscriber] = [:]
    private let maxPendingBytes: Int
    private(set) var messagesSent = 0
    private(set) var slowClientsDropped = 0

    static let pingFrame = Array(": ping\n\n".utf8)

    init(maxPendingBytes: Int) {
        self.maxPendingBytes = maxPendingBytes
    }

    var count: Int { subscribers.count }

    /// Registers an open stream; it leaves the hub when the client goes away.
    func subscribe(_ stream: ResponseStream, filter: EventFilter) {
        let key = ObjectIdentifier(stream)
        subscribers[key] = Subscriber(stream: stream, filter: filter)
        stream.onClose = { [weak self] in self?.subscribers[key] = nil }
    }

    /// Sends each event, in order, to the subscribers it matches.
    func publish(_ events: [StoredEvent]) {
        guard !subscribers.isEmpty else { return }
        for stored in events {
            var frame: [UInt8]?
            for subscriber in subscribers.values where subscriber.filter.matches(stored.event) {
                if frame == nil { frame = Self.frame(for: stored) }
                deliver(frame!, to: subscriber)
            }
        }
    }

    /// A comment line to every subscriber: keeps idle connections open through proxies.
    func ping() {
        for subscriber in subscribers.values { deliver(Self.pingFrame, to: subscriber, countsAsMessage: false) }
    }

    func closeAll() {
        for subscriber in Array(subscribers.values) { subscriber.stream.close() }
        subscribers.removeAll()
    }

    private func deliver(_ frame: [UInt8], to subscriber: Subscriber, countsAsMessage: Bool = true) {
        guard subscriber.stream.pendingBytes <= maxPendingBytes else {
            slowClientsDropped += 1
            ServiceLog.warning("dropping a /stream client that stopped reading (\(subscriber.stream.pendingBytes) bytes pending)")
            subscriber.stream.close()
            return
        }
        if subscriber.stream.write(frame), countsAsMessage { messagesSent += 1 }
    }

    /// `id: <sequence>`, `event: listen`, `data: <canonical JSON>`, blank line.
    static func frame(for stored: StoredEvent) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(stored.json.count + 48)
        frame.append(contentsOf: "id: \(stored.sequence)\nevent: listen\ndata: ".utf8)
        frame.append(contentsOf: stored.json)
        frame.append(contentsOf: "\n\n".utf8)
        return frame
    }
}
