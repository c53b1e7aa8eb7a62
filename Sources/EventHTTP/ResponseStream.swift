internal import CLibEvent

/// A response whose body is written over time with chunked encoding (Server-Sent Events).
///
/// Lifetime rule (libevent 2.1): when the client goes away mid-stream, evhttp detaches the
/// unfinished request from the dying connection instead of freeing it, then runs the
/// connection's close callback. From then on the request is ours: it must be released
/// with evhttp_send_reply_end exactly once and never used for anything else. This class
/// drops its request pointer the moment it learns of the close, so later writes are no-ops.
public final class ResponseStream: ConnectionObserver {
    private var request: UnsafeMutablePointer<evhttp_request>?
    private let chunk: OpaquePointer
    /// The connection's output buffer, looked up once: the SSE hub asks for `pendingBytes`
    /// before every frame to every subscriber, and the lookup through request, connection and
    /// bufferevent showed up at 5,000 subscribers. Valid while `isOpen` (the connection, which
    /// owns it, is only freed after telling us).
    private let output: OpaquePointer?
    private let timeoutSeconds: Int
    private weak var server: HTTPServer?
    private var closeHandlerCalled = false

    /// False once the client disconnected or `close()` was called.
    public private(set) var isOpen: Bool = true

    /// Called once when the client disconnects or the stream is closed.
    /// Set it in `start`; a handler set after the close is never called.
    public var onClose: (() -> Void)?

    init(request: UnsafeMutablePointer<evhttp_request>, server: HTTPServer, timeoutSeconds: Int) {
        self.request = request
        self.server = server
        self.timeoutSeconds = timeoutSeconds
        self.chunk = evbuffer_new()!
        self.output = evhttp_request_get_connection(request)
            .flatMap { evhttp_connection_get_bufferevent($0) }
            .flatMap { bufferevent_get_output($0) }
    }

    deinit { evbuffer_free(chunk) }

    /// Bytes queued in the connection's output buffer not yet written to the socket,
    /// so the caller can cut off clients that stopped reading. 0 when closed.
    public var pendingBytes: Int {
        guard isOpen, request != nil, let output else { return 0 }
        return evbuffer_get_length(output)
    }

    /// Queues one chunk; returns false when the stream is closed. Empty writes are skipped
    /// (a zero-length chunk would end the chunked body).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard isOpen, let request else { return false }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        guard evbuffer_add(chunk, base, bytes.count) == 0 else { return false }
        evhttp_send_reply_chunk(request, chunk)   // moves the bytes out of `chunk`
        return true
    }

    /// Ends the chunked reply (evhttp_send_reply_end); the connection may then be reused.
    public func close() {
        guard isOpen, let request else { return }
        if let connection = evhttp_request_get_connection(request) {
            // The connection may outlive this stream (keep-alive): unhook and give the
            // read timeout back, which was lifted for the stream.
            server?.client(for: connection)?.observer = nil
            if let bufferevent = evhttp_connection_get_bufferevent(connection) {
                var tv = LoopTimer.makeTimeval(seconds: Double(timeoutSeconds))
                bufferevent_set_timeouts(bufferevent, &tv, &tv)
            }
        }
        markClosed()
        evhttp_send_reply_end(request)   // libevent frees the request once it is written
    }

    /// Disconnects the client now, discarding whatever is still unsent: for a client that
    /// stopped reading, where `close()` would queue the end of the body behind its backlog
    /// and hold the connection, its buffers and its descriptor until the write timeout.
    public func abort() {
        guard isOpen, let request else { return }
        guard let connection = evhttp_request_get_connection(request) else {
            close()
            return
        }
        withExtendedLifetime(self) {
            markClosed()   // first: the close callback below then finds nothing left to do
            // Runs the close callback and frees the request, still listed on the connection.
            evhttp_connection_free(connection)
        }
    }

    /// The connection closed (relayed by the server's ClientConnection): the client went
    /// away, or the server is freeing the connection.
    func connectionClosed() {
        guard isOpen, let request else { return }
        markClosed()
        if evhttp_request_get_connection(request) == nil {
            // Detached by evhttp_connection_incoming_fail: we own it now; this frees it.
            evhttp_send_reply_end(request)
        }
        // Otherwise the connection still lists the request and frees it itself right after this callback.
    }

    private func markClosed() {
        isOpen = false
        request = nil
        server?.streamDidClose(self)
        if !closeHandlerCalled {
            closeHandlerCalled = true
            let handler = onClose
            onClose = nil   // break cycles: the handler usually captures the stream's owner
            handler?()
        }
    }
}
