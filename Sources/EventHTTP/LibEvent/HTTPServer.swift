internal import CLibEvent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// evhttp bound to one EventLoop: the mechanics of serving an `HTTPApplication`.
///
/// The server turns each evhttp_request into an HTTPRequest, asks the application (its
/// middleware, then its router) for the result, and carries it out: a response written at
/// once, a deferred one (`PendingResponse`) or a chunked stream (`ResponseStream`). Every
/// connection is watched by a ClientConnection, which enforces the limits of
/// `HTTPServerOptions` (head and body deadlines, request-line, header and body sizes), admits
/// connections up to `maxConnections`, and replaces the error pages evhttp writes on its own.
///
/// What the server does not decide: anything about content. Refusals and other answers given
/// without routing are named (`HTTPRefusal`) and worded by the application's `errorPage`;
/// every response head it writes, those included, goes out with the headers the
/// application's middleware finished (security headers, CORS). The server adds only framing
/// (Content-Length, also for HEAD; chunking; `Connection: close` on refusals) and reports each
/// answer to the metrics hooks `onResponse` and `onRefusal`.
///
/// Loop thread only.
public final class HTTPServer {
    private let loop: EventLoop   // the base must outlive the evhttp
    private let application: HTTPApplication
    private let options: HTTPServerOptions
    private var http: OpaquePointer?
    private var listeners: [OpaquePointer] = []
    /// Every open connection, by its bufferevent.
    private var connections: [OpaquePointer: ClientConnection] = [:]
    /// Connections let in (counted against maxConnections) and not yet closed.
    private var admittedCount = 0
    /// Connections being refused (response, then the lingering close).
    private var refusingCount = 0
    /// Connections with work decided inside libevent callbacks, done by `serviceEvent`.
    private var serviceQueue: [ClientConnection] = []
    private var serviceEvent: OpaquePointer?
    /// Refused connections drained at once at most; past this a refused one is closed as
    /// soon as its response is written, so a connection flood cannot pile them up.
    static let maxLingering = 128
    /// Accept-queue length asked of the kernel for each listening socket.
    static let listenBacklog: Int32 = 4_096
    /// Open streams, kept alive here: their connection's watcher refers to them only weakly.
    private var streams: [ObjectIdentifier: ResponseStream] = [:]
    /// Deferred responses not yet answered, kept alive for the same reason.
    private var pendings: [ObjectIdentifier: PendingResponse] = [:]

    /// Metrics hook, called on the loop thread once per response the server writes: plain
    /// and deferred responses when they are sent, streams when their headers go out (status
    /// and time to start). `routePattern` is bounded: the registered path for router
    /// matches, `Router.fallbackPattern` ("static") for other fallback answers,
    /// `Router.unmatchedPattern` ("unmatched") for fallback 404s and requests rejected before
    /// routing (bad paths), `HTTPApplication.middlewarePattern` ("middleware") for answers a
    /// middleware gave itself. `seconds` counts from when the complete request was read.
    /// Not called for deferred responses whose client went away first, nor for connections
    /// refused before their request reached the router (408, 413, 414, 431, 503, malformed
    /// requests, unknown methods): those reach `onRefusal`.
    public var onResponse: ((_ method: HTTPMethod, _ routePattern: String, _ status: Int, _ seconds: Double) -> Void)?

    /// Metrics hook for the answers `onResponse` never sees: called on the loop thread once per
    /// connection refused before its request reached the router (408, 413, 414, 431, 503, and
    /// evhttp's own 400/501 for malformed requests and unknown methods), with the status sent.
    public var onRefusal: ((_ status: Int) -> Void)?

    /// A server for `application` (router, middleware, error pages) on `loop`, with `options`' limits.
    public init(loop: EventLoop, application: HTTPApplication, options: HTTPServerOptions = .init()) throws(HTTPServerError) {
        guard let http = evhttp_new(loop.base) else { throw HTTPServerError("cannot create evhttp") }
        self.loop = loop
        self.application = application
        self.options = options
        self.http = http
        // Heads are limited by ClientConnection before evhttp parses them; evhttp's own limit
        // (which counts lines without their ends) sits above so that it never answers first.
        evhttp_set_max_headers_size(http, .init(options.maxRequestLineSize + options.maxHeadersSize + 4_096))
        evhttp_set_max_body_size(http, .init(options.maxBodySize))
        evhttp_set_timeout(http, Int32(clamping: options.timeoutSeconds))
        evhttp_set_allowed_methods(http, HTTPMethod.allowedMask)
        // evhttp would otherwise label untyped responses "text/html; charset=ISO-8859-1".
        evhttp_set_default_content_type(http, nil)
        // Unretained: evhttp and the event are freed in shutdown()/deinit, so no callback outlives self.
        let context = Unmanaged.passUnretained(self).toOpaque()
        evhttp_set_gencb(http, { request, arg in
            guard let request, let arg else { return }
            Unmanaged<HTTPServer>.fromOpaque(arg).takeUnretainedValue().handle(request)
        }, context)
        // Called for each accepted socket before evhttp builds its connection around the
        // bufferevent we return: the one hook evhttp 2.1 gives on new connections.
        evhttp_set_bevcb(http, { base, arg in
            guard let base, let arg else { return nil }
            return Unmanaged<HTTPServer>.fromOpaque(arg).takeUnretainedValue().newConnection(base)
        }, context)
        serviceEvent = event_new(loop.base, -1, 0, { _, _, arg in
            guard let arg else { return }
            Unmanaged<HTTPServer>.fromOpaque(arg).takeUnretainedValue().runService()
        }, context)
    }

    /// A server for `router` with the default middleware (`DefaultHeaders()`) and error pages.
    public convenience init(loop: EventLoop, router: Router, options: HTTPServerOptions = .init()) throws(HTTPServerError) {
        try self.init(loop: loop, application: HTTPApplication(router: router), options: options)
    }

    deinit { shutdown() }

    /// Number of streams currently open (diagnostics and tests).
    public var openStreamCount: Int { streams.count }

    /// Number of deferred responses not yet answered whose client is still there.
    public var pendingResponseCount: Int { pendings.count }

    /// Number of open client connections, refused ones still closing included.
    public var connectionCount: Int { connections.count }

    /// Bytes answered but not yet handed to the sockets, over every connection. A response is
    /// only queued when its handler returns; the loop writes it on a later pass, so a shutdown
    /// must wait for this to reach 0 or the client sees the connection close unanswered.
    public var unsentOutputBytes: Int {
        connections.keys.reduce(0) { total, bufferevent in
            total + (bufferevent_get_output(bufferevent).map { evbuffer_get_length($0) } ?? 0)
        }
    }

    /// Binds and returns the actual port (pass 0 for an ephemeral one).
    public func bind(host: String, port: Int) throws(HTTPServerError) -> Int {
        guard let http else { throw HTTPServerError("cannot bind \(host):\(port): server is shut down") }
        guard (0...65_535).contains(port) else { throw HTTPServerError("cannot bind \(host):\(port): invalid port") }
        errno = 0
        guard let handle = evhttp_bind_socket_with_handle(http, host, UInt16(port)) else {
            let code = errno
            let reason = code == 0 ? "cannot resolve or listen" : String(cString: strerror(code))
            throw HTTPServerError("cannot bind \(host):\(port): \(reason)")
        }
        listeners.append(handle)
        let fd = evhttp_bound_socket_get_fd(handle)
        // Accepted sockets inherit TCP_NODELAY from the listener on Linux. Without it, a reply
        // evhttp writes in more than one segment (headers, then a large body; or two SSE
        // frames in a row) waits for the client's delayed ACK: about 40 ms per response.
        var noDelay: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        // evhttp listens with a backlog of 128. A crowd of clients connecting at once (dashboards
        // reconnecting after a restart, a few hundred SSE subscribers) overflows it, and each
        // connection that does not fit waits for a SYN retransmission: a second or more.
        // Listening again on the same socket only changes the backlog (the kernel caps it at
        // net.core.somaxconn).
        _ = listen(fd, Self.listenBacklog)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw HTTPServerError("cannot bind \(host):\(port): getsockname failed") }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return port
        }
    }

    /// Stops accepting connections; open ones (and their pending answers) carry on. The first
    /// step of a graceful shutdown.
    public func stopListening() {
        guard let http else { return }
        for listener in listeners { evhttp_del_accept_socket(http, listener) }
        listeners.removeAll()
    }

    /// Closes open streams and listeners and frees evhttp (and with it every connection).
    /// The loop's run() returns once nothing else is pending.
    public func shutdown() {
        guard let http else { return }
        for stream in Array(streams.values) { stream.close() }
        for pending in Array(pendings.values) { pending.abandon() }
        for listener in listeners { evhttp_del_accept_socket(http, listener) }
        listeners.removeAll()
        evhttp_free(http)   // frees every connection; attached ones hear of it through the close callback
        self.http = nil
        for connection in Array(connections.values) { connection.abandonUnattached() }
        connections.removeAll()
        serviceQueue.removeAll()
        if let serviceEvent {
            event_del(serviceEvent)
            event_free(serviceEvent)
            self.serviceEvent = nil
        }
    }

    func streamDidClose(_ stream: ResponseStream) {
        streams[ObjectIdentifier(stream)] = nil
    }

    func pendingDidFinish(_ pending: PendingResponse) {
        pendings[ObjectIdentifier(pending)] = nil
    }

    /// PendingResponse.respond, after it unhooked itself from the connection.
    func complete(_ pending: PendingResponse, request: UnsafeMutablePointer<evhttp_request>, with response: HTTPResponse) {
        pendingDidFinish(pending)
        send(response, to: request, head: pending.method == .HEAD)
        report(pending.method, pending.routePattern, response.status, since: pending.arrived)
    }

    // MARK: - Connections

    /// Most bytes sent to one connection per writable event: large enough for typical answers in
    /// one write, small enough that one client cannot hold the loop for long.
    static let maxSingleWrite = 256 * 1024

    /// The bufferevent for a connection evhttp is accepting, watched by a new ClientConnection.
    private func newConnection(_ base: OpaquePointer) -> OpaquePointer? {
        // Options 0, as evhttp's own: evhttp closes the socket itself.
        guard let bufferevent = bufferevent_socket_new(base, -1, 0) else { return nil }
        // libevent writes at most 16 KiB per writable event by default, so a 23 KB page of
        // events took two writev calls and two loop passes; one write now carries any answer up
        // to this size.
        _ = bufferevent_set_max_single_write(bufferevent, Self.maxSingleWrite)
        // Our reference keeps the memory valid until attach() has seen evhttp's setup,
        // even if evhttp gave up on the connection in between.
        bufferevent_incref(bufferevent)
        let connection = ClientConnection(bufferevent: bufferevent, server: self, options: options)
        connections[bufferevent] = connection
        scheduleService(connection)
        return bufferevent
    }

    /// The ClientConnection watching an evhttp connection.
    func client(for connection: OpaquePointer) -> ClientConnection? {
        evhttp_connection_get_bufferevent(connection).flatMap { connections[$0] }
    }

    private func client(for request: UnsafeMutablePointer<evhttp_request>) -> ClientConnection? {
        evhttp_request_get_connection(request).flatMap { client(for: $0) }
    }

    /// Runs `connection.service()` soon: in the current pass of the loop, after the libevent
    /// callback that asked has returned, and before anything queued is written to a socket.
    func scheduleService(_ connection: ClientConnection) {
        serviceQueue.append(connection)
        if serviceQueue.count == 1, let serviceEvent { event_active(serviceEvent, EV_TIMEOUT, 0) }
    }

    private func runService() {
        // Service may queue more (a refusal decided while attaching): loop until empty.
        while !serviceQueue.isEmpty {
            let batch = serviceQueue
            serviceQueue.removeAll()
            for connection in batch { connection.service() }
        }
    }

    func connectionDidClose(_ connection: ClientConnection) {
        if connection.phase == .refusing { refusingCount -= 1 }
        if connection.isAdmitted { admittedCount -= 1 }
        connections[connection.bufferevent] = nil
    }

    func connectionStartedRefusal(_ connection: ClientConnection, status: Int) {
        refusingCount += 1
        onRefusal?(status)
    }

    /// Lets a new connection in (nil), or names the refusal for one past `maxConnections`, in
    /// the order they were accepted; `linger` is false once too many refused connections are
    /// still closing. Refused connections still closing do not count against the limit.
    func admit() -> (refusal: HTTPRefusal, linger: Bool)? {
        guard admittedCount >= options.maxConnections else {
            admittedCount += 1
            return nil
        }
        return (.tooManyConnections(limit: options.maxConnections), refusingCount < HTTPServer.maxLingering)
    }

    /// A refusal as bytes for a connection taken over from evhttp: the application's error
    /// page with the same finished headers as any other response.
    func refusalReply(_ refusal: HTTPRefusal) -> (status: Int, bytes: [UInt8]) {
        let response = application.errorPage(refusal)
        return (response.status,
                RawReply.bytes(status: response.status,
                               headers: application.finishedHeaders(response.headers, status: response.status),
                               body: response.body))
    }

    // MARK: - Request handling

    private func handle(_ request: UnsafeMutablePointer<evhttp_request>) {
        let arrived = HTTPServer.monotonicSeconds()
        // A request on a connection being refused is left to the refusal, unanswered.
        if let client = client(for: request), !client.beginHandling() { return }
        guard let method = HTTPMethod(command: evhttp_request_get_command(request)) else {
            // evhttp_set_allowed_methods makes evhttp answer these itself; kept as a guard.
            send(application.errorPage(.methodNotImplemented), to: request, head: false)
            return
        }
        let head = method == .HEAD
        guard let uri = evhttp_request_get_evhttp_uri(request) else {
            let response = application.errorPage(.unparsableTarget)
            send(response, to: request, head: head)
            report(method, Router.unmatchedPattern, response.status, since: arrived)
            return
        }
        let rawPath = evhttp_uri_get_path(uri).flatMap { String(validatingCString: $0) } ?? ""
        let rawQuery = evhttp_uri_get_query(uri).map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? ""
        guard let path = PercentDecoding.decodePath(rawPath.isEmpty ? "/" : rawPath) else {
            let response = application.errorPage(.invalidPath)
            send(response, to: request, head: head)
            report(method, Router.unmatchedPattern, response.status, since: arrived)
            return
        }
        let httpRequest = HTTPRequest(
            method: method, path: path, rawQuery: rawQuery,
            headers: HTTPServer.inputHeaders(request), body: HTTPServer.inputBody(request))

        let routed = application.respond(to: httpRequest)
        let pattern = routed.pattern
        let closing = HTTPServer.leavesBodyUnread(method, httpRequest)
        switch routed.result {
        case .respond(var response):
            if closing { response.headers.append((name: "Connection", value: "close")) }
            send(response, to: request, head: head)
            report(method, pattern, response.status, since: arrived)
        case let .stream(status, headers, start):
            if head {
                let headers = closing ? headers + [(name: "Connection", value: "close")] : headers
                send(HTTPResponse(status: status, headers: headers), to: request, head: true, contentLength: false)
                report(method, pattern, status, since: arrived)
            } else {
                // Reported before `start` runs: the stream's first writes are not "time to start".
                report(method, pattern, status, since: arrived)
                startStream(request, status: status, headers: headers, start: start)
            }
        case .deferred(let body):
            guard let connection = evhttp_request_get_connection(request) else {
                send(application.errorPage(.internalError), to: request, head: head)
                return
            }
            let pending = PendingResponse(
                request: request, server: self, method: method, routePattern: pattern, arrived: arrived)
            pendings[ObjectIdentifier(pending)] = pending
            client(for: connection)?.observer = pending
            pending.watchForDisconnect(connection)
            body(pending)
        }
    }

    /// evhttp reads no body for HEAD or TRACE (RFC 9110 gives them no meaning), so a body sent
    /// with one stays in the connection and would be parsed as the next request (evhttp's HTML
    /// 400). Such a request is answered, and then its connection closed.
    static func leavesBodyUnread(_ method: HTTPMethod, _ request: HTTPRequest) -> Bool {
        guard method == .HEAD || method == .TRACE else { return false }
        if request.header("Transfer-Encoding") != nil { return true }
        guard let length = request.header("Content-Length") else { return false }
        return Substring(length).trimmingWhitespace() != "0"
    }

    private func report(_ method: HTTPMethod, _ pattern: String, _ status: Int, since arrived: Double) {
        guard let onResponse else { return }
        onResponse(method, pattern, status, max(0, HTTPServer.monotonicSeconds() - arrived))
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }

    private static func inputHeaders(_ request: UnsafeMutablePointer<evhttp_request>) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        guard let list = evhttp_request_get_input_headers(request) else { return result }
        var entry = list.pointee.tqh_first
        while let current = entry {
            if let key = current.pointee.key, let value = current.pointee.value {
                result.append((String(cString: key), String(cString: value)))
            }
            entry = current.pointee.next.tqe_next
        }
        return result
    }

    private static func inputBody(_ request: UnsafeMutablePointer<evhttp_request>) -> [UInt8] {
        guard let buffer = evhttp_request_get_input_buffer(request) else { return [] }
        let length = evbuffer_get_length(buffer)
        guard length > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: length) { storage, count in
            let copied = evbuffer_copyout(buffer, storage.baseAddress, length)
            count = max(0, copied)
        }
    }

    /// Every response head the server writes through evhttp passes here: the headers are
    /// finished by the application's middleware (security headers, CORS) first.
    private func addHeaders(
        _ headers: [(name: String, value: String)], status: Int, to request: UnsafeMutablePointer<evhttp_request>
    ) {
        guard let output = evhttp_request_get_output_headers(request) else { return }
        for header in application.finishedHeaders(headers, status: status) {
            // evhttp refuses values with CR/LF (-1): such a header is dropped, never injected.
            _ = evhttp_add_header(output, header.name, header.value)
        }
    }

    /// The connection's watcher learns when the response is fully written (keep-alive:
    /// the next request's head, and its deadline, start there).
    private func watchCompletion(of request: UnsafeMutablePointer<evhttp_request>) {
        evhttp_request_set_on_complete_cb(request, { request, arg in
            guard let request, let arg else { return }
            let server = Unmanaged<HTTPServer>.fromOpaque(arg).takeUnretainedValue()
            server.client(for: request)?.requestCompleted()
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    private func send(_ response: HTTPResponse, to request: UnsafeMutablePointer<evhttp_request>, head: Bool, contentLength: Bool = true) {
        addHeaders(response.headers, status: response.status, to: request)
        watchCompletion(of: request)
        guard let buffer = evbuffer_new() else { return }
        defer { evbuffer_free(buffer) }
        if head {
            // evhttp suppresses the body of HEAD replies but then omits Content-Length;
            // report the length the GET would have had (except where no body can exist).
            if contentLength, HTTPServer.mayHaveBody(response.status), response.header("Content-Length") == nil,
               let output = evhttp_request_get_output_headers(request) {
                _ = evhttp_add_header(output, "Content-Length", String(response.body.count))
            }
        } else if response.body.count >= Self.referencedBodySize {
            // Large bodies (a page of events, a cached answer) are handed to libevent by
            // reference: no copy, and no large allocation and free per response. The box keeps
            // the bytes alive until libevent has written them.
            let box = Unmanaged.passRetained(ResponseBodyBox(response.body))
            _ = box.takeUnretainedValue().bytes.withUnsafeBytes {
                evbuffer_add_reference(buffer, $0.baseAddress, $0.count, { _, _, context in
                    guard let context else { return }
                    Unmanaged<ResponseBodyBox>.fromOpaque(context).release()
                }, box.toOpaque())
            }
        } else if !response.body.isEmpty {
            _ = response.body.withUnsafeBytes { evbuffer_add(buffer, $0.baseAddress, $0.count) }
        }
        // Looked up first: without a connection evhttp_send_reply frees the request.
        let client = client(for: request)
        evhttp_send_reply(request, Int32(clamping: response.status), nil, buffer)
        client?.writeResponseSoon()
    }

    /// Bodies from this size on are sent without copying (see `send`).
    static let referencedBodySize = 4_096

    /// 1xx, 204 and 304 responses never carry a body nor a meaningful Content-Length.
    static func mayHaveBody(_ status: Int) -> Bool {
        !(100..<200).contains(status) && status != 204 && status != 304
    }

    private func startStream(
        _ request: UnsafeMutablePointer<evhttp_request>, status: Int, headers: [(name: String, value: String)],
        start: @escaping (ResponseStream) -> Void
    ) {
        addHeaders(headers, status: status, to: request)
        watchCompletion(of: request)
        evhttp_send_reply_start(request, Int32(clamping: status), nil)
        guard let connection = evhttp_request_get_connection(request) else {
            evhttp_send_reply_end(request)   // no connection to stream to: release the request
            return
        }
        // An SSE client never sends anything after its request: without this the read
        // timeout (evhttp_set_timeout) would cut every stream after timeoutSeconds.
        // The write timeout stays, so a client that stops reading is still dropped.
        if let bufferevent = evhttp_connection_get_bufferevent(connection) {
            var tv = LoopTimer.makeTimeval(seconds: Double(options.timeoutSeconds))
            bufferevent_set_timeouts(bufferevent, nil, &tv)
        }
        let stream = ResponseStream(request: request, server: self, timeoutSeconds: options.timeoutSeconds)
        streams[ObjectIdentifier(stream)] = stream
        client(for: connection)?.observer = stream
        start(stream)
    }
}

/// Holds a response body while libevent writes it straight from this storage.
private final class ResponseBodyBox {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}
