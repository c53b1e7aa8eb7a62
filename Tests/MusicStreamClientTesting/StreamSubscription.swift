import Foundation
import MusicStreamClient
import OpenAPIRuntime

/// Follows `/stream` through the generated client: the events come as the contract types them
/// (openapi.yaml's `StreamEvent`: `listen` → `Event`, `stats` → `StreamStats`, `reset` →
/// `StreamReset`), decoded with the generated types, so a frame that breaks the contract fails
/// the reading. Each message carries the stream's last id as of that frame; to resume, open a
/// new subscription with the id of the last message handled (sent as `Last-Event-ID`).
///
/// The client needs a transport that streams bodies (`StreamingURLSessionTransport` on Linux).
public struct StreamSubscription: Sendable {
    /// The frames in order, ending when the server closes the stream or `close()` is called.
    public let messages: AsyncThrowingStream<StreamMessage, any Error>
    private let reader: Task<Void, Never>

    /// Opens the stream with `query`'s filters, resuming after `lastEventID` when given.
    /// Throws when the server refuses (a 400 problem) instead of streaming.
    public static func open(
        _ client: Client, query: Operations.StreamEvents.Input.Query = .init(), lastEventID: String? = nil
    ) async throws -> StreamSubscription {
        let output = try await client.streamEvents(query: query, headers: .init(lastEventID: lastEventID))
        let body = try output.ok.body.textEventStream
        let (messages, sink) = AsyncThrowingStream.makeStream(of: StreamMessage.self)
        let reader = Task {
            var lastEventID = lastEventID
            do {
                for try await frame in body.asDecodedServerSentEvents() {
                    if let id = frame.id { lastEventID = id }
                    sink.yield(StreamMessage(event: try StreamMessage.Event(frame), lastEventID: lastEventID))
                }
                sink.finish()
            } catch {
                sink.finish(throwing: error)
            }
        }
        sink.onTermination = { _ in reader.cancel() }
        return StreamSubscription(messages: messages, reader: reader)
    }

    /// Stops reading; the request is cancelled and the connection closed.
    public func close() { reader.cancel() }

    /// Reads messages until `enough` says the ones read so far suffice, for at most `seconds`
    /// (then throws: a stream that stops delivering fails the caller instead of hanging it).
    public func read(
        within seconds: Double, until enough: @escaping @Sendable ([StreamMessage]) -> Bool
    ) async throws -> [StreamMessage] {
        let messages = self.messages
        return try await withThrowingTaskGroup(of: [StreamMessage]?.self) { group in
            group.addTask {
                var read: [StreamMessage] = []
                for try await message in messages {
                    read.append(message)
                    if enough(read) { return read }
                }
                throw StreamingTransportError("the stream ended after \(read.count) messages")
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let read = try await group.next(), let read else {
                throw StreamingTransportError("not enough messages within \(seconds) s")
            }
            return read
        }
    }
}

/// One frame of `/stream`.
public struct StreamMessage: Sendable {
    /// The three event types of the contract, each with its `data` decoded.
    public enum Event: Sendable {
        case listen(Components.Schemas.Event)
        case stats(Components.Schemas.StreamStats)
        case reset(Components.Schemas.StreamReset)

        /// nil for a frame without `data` (the greeting, a ping): it dispatches no event.
        init?(_ frame: ServerSentEvent) throws {
            guard let data = frame.data else { return nil }
            let decoder = JSONDecoder()
            let bytes = Data(data.utf8)
            switch frame.event {
            case "listen": self = .listen(try decoder.decode(Components.Schemas.Event.self, from: bytes))
            case "stats": self = .stats(try decoder.decode(Components.Schemas.StreamStats.self, from: bytes))
            case "reset": self = .reset(try decoder.decode(Components.Schemas.StreamReset.self, from: bytes))
            default: throw StreamingTransportError("an event type the contract does not list: \(frame.event ?? "message")")
            }
        }
    }

    /// nil for a frame without data, which only moves the last id or keeps the connection open.
    public var event: Event?
    /// The stream's last id once this frame is read (an id holds until another replaces it).
    public var lastEventID: String?

    public var listen: Components.Schemas.Event? {
        if case .listen(let event)? = event { return event }
        return nil
    }
}
