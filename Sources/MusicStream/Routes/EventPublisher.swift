import JSON
import EventHTTP
import KafkaClient
import MusicModel

/// `POST /api/events`: validates a submitted listen, fills in what the server owns (id, time,
/// completed/skipped), produces it to Kafka and answers once the broker acknowledges it — 202 with
/// where it landed, or 503 when Kafka does not acknowledge within the deadline. Lives on the loop
/// thread; delivery reports arrive through a `HandOffQueue` of `PublishCompletion`s.
final class EventPublisher {
    static let maxBodyBytes = 65_536
    /// How long a client waits for Kafka's acknowledgement. The producer's own message timeout is
    /// the same, so a 503 means the record was given up, not that it may still appear.
    static let acknowledgementDeadline = 5.0

    private struct Waiting {
        var response: PendingResponse
        var timer: LoopTimer
    }

    private let loop: EventLoop
    private let producer: KafkaProducer
    private let topic: String
    private let token: WriteToken?
    private let completions = HandOffQueue<PublishCompletion>()
    private var waker: LoopWaker?
    private var waiting: [UInt64: Waiting] = [:]
    private var nextTicket: UInt64 = 1

    init(loop: EventLoop, producer: KafkaProducer, topic: String, token: WriteToken?) {
        self.loop = loop
        self.producer = producer
        self.topic = topic
        self.token = token
        self.waker = loop.makeWaker { [weak self] in self?.deliverCompletions() }
    }

    func handle(_ request: HTTPRequest) -> RouteResult {
        if let token, !token.admits(authorization: request.header("Authorization")) {
            var response = ProblemDetails(
                status: 401, title: "Unauthorized",
                detail: "publishing needs an Authorization: Bearer <write token> header").response
            response.headers.append((name: "WWW-Authenticate", value: "Bearer"))
            return .respond(response)
        }
        // RFC 9110 15.5.16: a coding the server cannot decode is a 415 that says what it accepts.
        if let coding = request.contentCodings.first {
            var response = ProblemDetails(
                status: 415, title: "Unsupported media type",
                detail: "the body must not be encoded: Content-Encoding '\(coding)' is not accepted (send plain JSON)").response
            response.headers.append((name: "Accept-Encoding", value: "identity"))
            return .respond(response)
        }
        guard let contentType = request.contentType, contentType == "application/json" || contentType.hasSuffix("+json") else {
            return .respond(ProblemDetails(
                status: 415, title: "Unsupported media type",
                detail: "the body must be application/json, got '\(request.contentType ?? "none")'").response)
        }
        // JSON is UTF-8 (RFC 8259); a body declared in another charset would be misread, not converted.
        if let charset = request.contentTypeParameter("charset"), charset.lowercased() != "utf-8" {
            return .respond(ProblemDetails(
                status: 415, title: "Unsupported media type",
                detail: "the body must be UTF-8 JSON, got charset '\(charset)'").response)
        }
        guard request.body.count <= Self.maxBodyBytes else {
            return .respond(ProblemDetails(
                status: 413, title: "Body too large",
                detail: "the body is \(request.body.count) bytes; at most \(Self.maxBodyBytes) are accepted").response)
        }
        let event: ListenEvent
        do {
            event = try EventSubmission.decode(
                request.body, eventID: UUIDText.random(), timestamp: currentMilliseconds())
        } catch {
            return .respond(ProblemDetails(
                status: 400, title: "Invalid listen event", detail: error.detail, parameter: nil, field: error.field).response)
        }
        return .deferred { [self] response in publish(event, answering: response) }
    }

    private func publish(_ event: ListenEvent, answering response: PendingResponse) {
        let ticket = nextTicket
        nextTicket += 1
        let completions = self.completions
        let waker = self.waker
        let eventID = event.eventID
        do {
            try producer.send(topic: topic, key: Array(event.userID.utf8), value: event.canonicalJSON(),
                              queueWait: .milliseconds(100)) { result in
                if completions.push(PublishCompletion(ticket: ticket, eventID: eventID, result: result)) { waker?.wake() }
            }
        } catch {
            response.respond(Self.unavailable("Kafka refused the event: \(error.message)"))
            return
        }
        let timer = loop.after(seconds: Self.acknowledgementDeadline + 0.5) { [weak self] in
            guard let waiting = self?.waiting.removeValue(forKey: ticket) else { return }
            waiting.response.respond(Self.unavailable("Kafka did not acknowledge the event within \(Int(Self.acknowledgementDeadline)) s"))
        }
        waiting[ticket] = Waiting(response: response, timer: timer)
    }

    private func deliverCompletions() {
        for completion in completions.takeAll() {
            guard let waiting = waiting.removeValue(forKey: completion.ticket) else { continue }
            waiting.timer.cancel()
            switch completion.result {
            case .success(let report):
                var writer = JSONWriter(capacity: 96)
                writer.beginObject()
                writer.key("event_id"); writer.string(completion.eventID)
                writer.key("partition"); writer.int(Int(report.partition))
                writer.key("offset"); writer.int64(report.offset)
                writer.endObject()
                waiting.response.respond(.json(writer.bytes, status: 202))
            case .failure(let error):
                waiting.response.respond(Self.unavailable("Kafka did not acknowledge the event: \(error.message)"))
            }
        }
    }

    /// Publishes sent to Kafka and not yet answered: what a graceful shutdown waits for.
    var waitingCount: Int { waiting.count }

    /// Answers still waiting at shutdown get a 503 rather than silence.
    func failWaiting() {
        for (_, waiting) in waiting {
            waiting.timer.cancel()
            waiting.response.respond(Self.unavailable("the server is shutting down"))
        }
        waiting.removeAll()
    }

    private static func unavailable(_ detail: String) -> HTTPResponse {
        var response = ProblemDetails(status: 503, title: "Kafka unavailable", detail: detail).response
        response.headers.append((name: "Retry-After", value: "5"))
        return response
    }
}
