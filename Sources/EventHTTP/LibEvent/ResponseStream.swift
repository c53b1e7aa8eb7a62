internal import CLibEvent

#if canImport(Glibc)
import Glibc
#endif

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
    /// The connection's socket, for chunks written straight to it (see `writeChunk`); -1 when
    /// the reply is not chunked (HTTP/1.0, HEAD), which keeps evhttp's own path.
    private let directSocket: Int32
    private let bufferevent: OpaquePointer?
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
        let bufferevent = evhttp_request_get_connection(request).flatMap { evhttp_connection_get_bufferevent($0) }
        self.bufferevent = bufferevent
        self.output = bufferevent.flatMap { bufferevent_get_output($0) }
        let chunked = evhttp_find_header(evhttp_request_get_output_headers(request), "Transfer-Encoding")
            .map { String(cString: $0) == "chunked" } ?? false
        self.directSocket = chunked ? bufferevent.map { Int32(bufferevent_getfd($0)) } ?? -1 : -1
    }

    deinit { evbuffer_free(chunk) }

    /// Bytes queued in the connection's output buffer not yet written to the socket,
    /// so the caller can cut off clients that stopped reading. 0 when closed.
    public var pendingBytes: Int {
        guard isOpen, request != nil, let output, mayHaveQueued else { return 0 }
        let length = evbuffer_get_length(output)   // takes the buffer's lock: skipped when known empty
        if length == 0 && directSocket >= 0 { mayHaveQueued = false }
        return length
    }

    /// False only while every byte written since the output was last seen empty went straight to
    /// the socket. Starts true: evhttp queued the response head.
    private var mayHaveQueued = true

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
        if directSocket >= 0, let output, let bufferevent {
            return writeChunk(bytes, output: output, bufferevent: bufferevent)
        }
        guard evbuffer_add(chunk, base, bytes.count) == 0 else { return false }
        evhttp_send_reply_chunk(request, chunk)   // moves the bytes out of `chunk`
        return true
    }

    /// Frames one chunk and, when nothing is queued ahead of it, sends it to the socket at once.
    /// Why not evhttp_send_reply_chunk: it formats the size with printf, copies through three
    /// buffer appends and arms the write event (two epoll_ctl calls and a later loop pass) for
    /// every chunk to every client: at 5,000 SSE subscribers that was most of the fan-out's
    /// user-space time. Whatever the socket does not take now (a slow reader) is queued in the
    /// connection's output buffer behind which evhttp writes as usual, so order is kept and the
    /// write timeout and `pendingBytes` still apply.
    private func writeChunk(_ bytes: UnsafeRawBufferPointer, output: OpaquePointer, bufferevent: OpaquePointer) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            let header = UnsafeRawBufferPointer(start: buffer.baseAddress, count: Self.chunkHeader(size: bytes.count, into: buffer))
            let pieces = (header, bytes, UnsafeRawBufferPointer(start: Self.chunkEnd.utf8Start, count: 2))
            var sent = 0
            if evbuffer_get_length(output) == 0 {
                sent = Self.send(pieces, to: directSocket)
                if sent == header.count + bytes.count + 2 { return true }
            }
            // Queue the rest; adding to the output lets the bufferevent write it when it can.
            mayHaveQueued = true
            var skip = sent
            for piece in [pieces.0, pieces.1, pieces.2] {
                if skip >= piece.count {
                    skip -= piece.count
                    continue
                }
                guard evbuffer_add(output, piece.baseAddress! + skip, piece.count - skip) == 0 else { return false }
                skip = 0
            }
            if bufferevent_get_enabled(bufferevent) & Int16(EV_WRITE) == 0 { bufferevent_enable(bufferevent, Int16(EV_WRITE)) }
            return true
        }
    }

    private static let chunkEnd: StaticString = "\r\n"

    /// Writes "<size in lowercase hex>\r\n" (at most 18 bytes); returns its length.
    static func chunkHeader(size: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var count = 0
        var shift = max(0, (Int.bitWidth - size.leadingZeroBitCount + 3) / 4 * 4 - 4)
        while shift >= 0 {
            let digit = UInt8((size >> shift) & 0xf)
            buffer[count] = digit < 10 ? 48 + digit : 87 + digit
            count += 1
            shift -= 4
        }
        buffer[count] = 13
        buffer[count + 1] = 10
        return count + 2
    }

    /// One non-blocking sendmsg of the three pieces; returns the bytes taken (0 on EAGAIN or an
    /// error: the caller queues them, and libevent's own write then meets and reports any error).
    private static func send(
        _ pieces: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer), to socket: Int32
    ) -> Int {
        var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: pieces.0.baseAddress), iov_len: pieces.0.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: pieces.1.baseAddress), iov_len: pieces.1.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: pieces.2.baseAddress), iov_len: pieces.2.count))
        return withUnsafeMutableBytes(of: &vectors) { raw in
            var message = msghdr()
            message.msg_iov = raw.baseAddress!.assumingMemoryBound(to: iovec.self)
            message.msg_iovlen = 3
            while true {
                let sent = sendmsg(socket, &message, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                if sent >= 0 { return sent }
                if errno != EINTR { return 0 }
            }
        }
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
