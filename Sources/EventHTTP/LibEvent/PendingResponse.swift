internal import CLibEvent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response the handler completes later, on the loop thread, exactly once.
///
/// Noticing the client leave: once a request is read, evhttp 2.1 stops reading its
/// connection until the reply is written (reading in that state would even abort the
/// process), so on its own it learns of a vanished client only when the reply fails. This
/// object therefore watches the socket itself while waiting: when the peer's FIN or RST
/// arrives (recv with MSG_PEEK sees 0 or an error) it frees the connection with
/// evhttp_connection_free, which runs the close callback (relayed by the server's
/// ClientConnection to `connectionClosed` below) and frees the request,
/// still listed on the connection. If the client sends more bytes instead (a pipelined
/// request), the watch stops, since those bytes belong to evhttp; such a client's
/// disappearance is noticed when the reply is written. A client that half-closes after
/// its request is treated as gone, as evhttp itself does for streams.
///
/// Lifetime rule (libevent 2.1), the same as for ResponseStream: if evhttp itself fails the
/// connection before a reply (EOF or timeout seen by evhttp), it detaches the request from
/// the dying connection instead of freeing it, then runs the connection's close callback;
/// from then on the request is ours and must be freed by us, exactly once. When the
/// connection is freed for another reason (our watch, server shutdown) the request is still
/// listed on it and evhttp frees it right after the close callback. Either way this object
/// drops its request pointer at the close, so a later `respond` touches nothing.
///
/// The server keeps every pending response alive until it
/// is answered or its client is gone, so a handler that never answers ties up one
/// connection until the client or the read timeout gives up: always answer, if need be
/// with an error after a deadline of your own.
public final class PendingResponse: ConnectionObserver {
    private var request: UnsafeMutablePointer<evhttp_request>?
    private weak var server: HTTPServer?
    private var disconnectHandlerCalled = false
    /// The EV_READ watch on the client socket while waiting; nil once stopped.
    private var watch: OpaquePointer?
    let method: HTTPMethod
    let routePattern: String
    let arrived: Double

    /// False once the client went away (or the server shut down) before `respond`;
    /// also false after `respond`, since nothing more can be sent.
    public var isConnected: Bool { request != nil }

    /// Called once if the client goes away (or the server shuts down) before `respond`.
    /// Never called after `respond`. Cleared after the call, to break capture cycles.
    public var onDisconnect: (() -> Void)?

    init(
        request: UnsafeMutablePointer<evhttp_request>, server: HTTPServer,
        method: HTTPMethod, routePattern: String, arrived: Double
    ) {
        self.request = request
        self.server = server
        self.method = method
        self.routePattern = routePattern
        self.arrived = arrived
    }

    /// Starts watching the client socket for a close (see the type's comment).
    func watchForDisconnect(_ connection: OpaquePointer) {
        guard let base = evhttp_connection_get_base(connection),
              let bufferevent = evhttp_connection_get_bufferevent(connection) else { return }
        let fd = bufferevent_getfd(bufferevent)
        guard fd >= 0 else { return }
        // Unretained: the server holds this object until the watch is freed (stopWatching
        // runs on every path that ends the wait).
        watch = event_new(base, fd, Int16(EV_READ | EV_PERSIST), { fd, _, arg in
            guard let arg else { return }
            Unmanaged<PendingResponse>.fromOpaque(arg).takeUnretainedValue().socketReadable(fd)
        }, Unmanaged.passUnretained(self).toOpaque())
        if let watch { event_add(watch, nil) }
    }

    private func stopWatching() {
        guard let watch else { return }
        event_del(watch)
        event_free(watch)   // safe from inside its own callback on the loop thread
        self.watch = nil
    }

    private func socketReadable(_ fd: Int32) {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        if count > 0 {
            stopWatching()   // pipelined bytes: evhttp's to read once we have replied
            return
        }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
        // EOF or a socket error: the client is gone.
        stopWatching()
        guard let request, let connection = evhttp_request_get_connection(request) else { return }
        withExtendedLifetime(self) {
            evhttp_connection_free(connection)   // runs connectionClosed(), frees the request
        }
    }

    /// Sends the response (headers only for HEAD) with the headers the application's
    /// middleware finish. A no-op when already answered or when the client is gone, so callers never
    /// need to check `isConnected` first.
    public func respond(_ response: HTTPResponse) {
        guard let request else { return }
        self.request = nil
        onDisconnect = nil
        stopWatching()
        if let connection = evhttp_request_get_connection(request) {
            // The connection outlives this object (keep-alive): unhook before replying.
            server?.client(for: connection)?.observer = nil
        }
        guard let server else {
            evhttp_request_free(request)   // unreachable in practice: the server closes us at shutdown
            return
        }
        server.complete(self, request: request, with: response)
    }

    /// The connection closed (relayed by the server's ClientConnection).
    func connectionClosed() {
        stopWatching()
        guard let request else { return }
        self.request = nil
        if evhttp_request_get_connection(request) == nil {
            // Detached by evhttp_connection_incoming_fail: nobody else will free it.
            evhttp_request_free(request)
        }
        // Otherwise the connection still lists the request and frees it itself.
        server?.pendingDidFinish(self)
        notifyDisconnect()
    }

    /// Server shutdown: the request is still listed on its connection, which evhttp_free
    /// is about to free along with it. Unhook so that free does not call back into us.
    func abandon() {
        stopWatching()
        guard let request else { return }
        self.request = nil
        if let connection = evhttp_request_get_connection(request) {
            server?.client(for: connection)?.observer = nil
        } else {
            evhttp_request_free(request)
        }
        server?.pendingDidFinish(self)
        notifyDisconnect()
    }

    private func notifyDisconnect() {
        guard !disconnectHandlerCalled else { return }
        disconnectHandlerCalled = true
        let handler = onDisconnect
        onDisconnect = nil
        handler?()
    }
}
