import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// A `ClientTransport` over URLSession that hands a response's body over as it arrives.
///
/// Why: swift-openapi-urlsession's `URLSessionTransport` streams bodies only on Apple platforms;
/// on Linux (FoundationNetworking) it collects the whole body before returning, so a call to the
/// never-ending `/stream` never returns. FoundationNetworking's data delegate does get the bytes
/// as they come, so this transport passes each delivery on to an `HTTPBody` that the generated
/// client returns at once. Request bodies are sent whole (the API's are small JSON).
/// Stopping the body's iteration (or cancelling the task reading it) cancels the request.
public struct StreamingURLSessionTransport: ClientTransport {
    public init() {}

    public func send(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var urlRequest = URLRequest(url: try Self.url(of: request, baseURL: baseURL))
        urlRequest.httpMethod = request.method.rawValue
        for field in request.headerFields {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name.rawName)
        }
        if let body {
            urlRequest.httpBody = try await Data(collecting: body, upTo: 1 << 20)
        }
        let receiver = ResponseReceiver()
        // One session per request: its delegate is this request's receiver.
        let session = URLSession(configuration: .ephemeral, delegate: receiver, delegateQueue: nil)
        let task = session.dataTask(with: urlRequest)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                receiver.start(task, answering: continuation)
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// `baseURL` with the request's path and query appended (the path is already percent-encoded).
    static func url(of request: HTTPRequest, baseURL: URL) throws -> URL {
        let base = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        guard let url = URL(string: base + (request.path ?? "")) else {
            throw StreamingTransportError("cannot make a URL of \(base) and \(request.path ?? "")")
        }
        return url
    }
}

public struct StreamingTransportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The delegate of one request's session: answers the `send` call once the head is in, then
/// feeds the body's stream with each delivery until the task completes.
/// Sendable: every mutable field is behind the mutex; URLSession calls it from its own queue.
final class ResponseReceiver: NSObject, URLSessionDataDelegate, Sendable {
    /// The `send` call waiting for the head; nil once answered.
    private let answer = Mutex<CheckedContinuation<(HTTPResponse, HTTPBody?), any Error>?>(nil)
    private let body: AsyncThrowingStream<ArraySlice<UInt8>, any Error>
    private let feed: AsyncThrowingStream<ArraySlice<UInt8>, any Error>.Continuation

    override init() {
        (body, feed) = AsyncThrowingStream.makeStream(of: ArraySlice<UInt8>.self)
        super.init()
    }

    func start(_ task: URLSessionDataTask, answering answer: CheckedContinuation<(HTTPResponse, HTTPBody?), any Error>) {
        self.answer.withLock { $0 = answer }
        // The reader went away (finished, dropped the body, or was cancelled): stop the transfer.
        feed.onTermination = { [weak task] _ in task?.cancel() }
        task.resume()
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let answer = self.answer.withLock({ $0.take() }) else {
            completionHandler(.cancel)
            return
        }
        guard let http = response as? HTTPURLResponse else {
            answer.resume(throwing: StreamingTransportError("not an HTTP response: \(response)"))
            completionHandler(.cancel)
            return
        }
        var head = HTTPResponse(status: .init(code: http.statusCode))
        for (name, value) in http.allHeaderFields {
            if let text = name as? String, let name = HTTPField.Name(text), let value = value as? String {
                head.headerFields.append(HTTPField(name: name, value: value))
            }
        }
        let length = http.expectedContentLength >= 0 ? HTTPBody.Length.known(http.expectedContentLength) : .unknown
        answer.resume(returning: (head, HTTPBody(body, length: length, iterationBehavior: .single)))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        feed.yield(ArraySlice(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let answer = self.answer.withLock { $0.take() }
        if let error {
            answer?.resume(throwing: error)
            feed.finish(throwing: error)
        } else {
            answer?.resume(throwing: StreamingTransportError("the request completed without a response"))
            feed.finish()
        }
        session.finishTasksAndInvalidate()
    }
}
