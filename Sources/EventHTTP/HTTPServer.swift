internal import CLibEvent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// evhttp bound to one EventLoop: turns each evhttp_request into an HTTPRequest, asks
/// the Router, and writes the RouteResult back. Loop thread only.
public final class HTTPServer {
    private let loop: EventLoop   // the base must outlive the evhttp
    private let router: Router
    private let options: HTTPServerOptions
    private var http: OpaquePointer?
    private var listeners: [OpaquePointer] = []
    /// Open streams, kept alive here because libevent's close callback points at them.
    private var streams: [ObjectIdentifier: ResponseStream] = [:]
    /// Deferred responses not yet answered, kept alive for the same reason.
    private var pendings: [ObjectIdentifier: PendingResponse] = [:]

    /// Metrics hook, called on the loop thread once per response the server writes: plain
    /// and deferred responses when they are sent, streams when their headers go out (status
    /// and time to start). `routePattern` is bounded: the registered path for router
    /// matches, `Router.fallbackPattern` ("static") for other fallback answers,
    /// `Router.unmatchedPattern` ("unmatched") for fallback 404s and requests rejected before
    /// routing (bad paths). `seconds` counts from when the complete request was read.
    /// Not called for deferred responses whose client went away first, nor for the errors
    /// evhttp answers itself (413, 431, 501 for unknown methods, malformed requests).
    public var onResponse: ((_ method: HTTPMethod, _ routePattern: String, _ status: Int, _ seconds: Double) -> Void)?

    public init(loop: EventLoop, router: Router, options: HTTPServerOptions = .init()) throws(HTTPServerError) {
        guard let http = evhttp_new(loop.base) else { throw HTTPServerError("cannot create evhttp") }
        self.loop = loop
        self.router = router
        self.options = options
        self.http = http
        evhttp_set_max_headers_size(http, .init(options.maxHeadersSize))
        evhttp_set_max_body_size(http, .init(options.maxBodySize))
        evhttp_set_timeout(http, Int32(clamping: options.timeoutSeconds))
        evhttp_set_allowed_methods(http, HTTPMethod.allowedMask)
        // evhttp would otherwise label untyped responses "text/html; charset=ISO-8859-1".
        evhttp_set_default_content_type(http, nil)
        // Unretained: evhttp is freed in shutdown()/deinit, so no callback outlives self.
        evhttp_set_gencb(http, { request, arg in
            guard let request, let arg else { return }
            Unmanaged<HTTPServer>.fromOpaque(arg).takeUnretainedValue().handle(request)
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit { shutdown() }

    /// Number of streams currently open (diagnostics and tests).
    public var openStreamCount: Int { streams.count }

    /// Number of deferred responses not yet answered whose client is still there.
    public var pendingResponseCount: Int { pendings.count }

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
        evhttp_free(http)
        self.http = nil
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

    // MARK: - Request handling

    private func handle(_ request: UnsafeMutablePointer<evhttp_request>) {
        let arrived = HTTPServer.monotonicSeconds()
        guard let method = HTTPMethod(command: evhttp_request_get_command(request)) else {
            // evhttp_set_allowed_methods makes evhttp answer these itself; kept as a guard.
            send(.problem(status: 501, title: "Not Implemented"), to: request, head: false)
            return
        }
        let head = method == .HEAD
        guard let uri = evhttp_request_get_evhttp_uri(request) else {
            send(.problem(status: 400, title: "Bad Request", detail: "unparsable request target"), to: request, head: head)
            report(method, Router.unmatchedPattern, 400, since: arrived)
            return
        }
        let rawPath = evhttp_uri_get_path(uri).flatMap { String(validatingCString: $0) } ?? ""
        let rawQuery = evhttp_uri_get_query(uri).map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? ""
        guard let path = PercentDecoding.decodePath(rawPath.isEmpty ? "/" : rawPath) else {
            send(.problem(status: 400, title: "Bad Request", detail: "invalid percent-encoding, NUL or non-UTF-8 in path"),
                 to: request, head: head)
            report(method, Router.unmatchedPattern, 400, since: arrived)
            return
        }
        let httpRequest = HTTPRequest(
            method: method, path: path, rawQuery: rawQuery,
            headers: HTTPServer.inputHeaders(request), body: HTTPServer.inputBody(request))

        let (result, pattern) = preflight(httpRequest) ?? router.resolve(httpRequest)
        switch result {
        case .respond(let response):
            send(response, to: request, head: head)
            report(method, pattern, response.status, since: arrived)
        case let .stream(status, headers, start):
            if head {
                send(HTTPResponse(status: status, headers: headers), to: request, head: true, contentLength: false)
                report(method, pattern, status, since: arrived)
            } else {
                // Reported before `start` runs: the stream's first writes are not "time to start".
                report(method, pattern, status, since: arrived)
                startStream(request, status: status, headers: headers, start: start)
            }
        case .deferred(let body):
            guard let connection = evhttp_request_get_connection(request) else {
                send(.problem(status: 500, title: "Internal Server Error"), to: request, head: head)
                return
            }
            let pending = PendingResponse(
                request: request, server: self, method: method, routePattern: pattern, arrived: arrived)
            pendings[ObjectIdentifier(pending)] = pending
            evhttp_connection_set_closecb(connection, { _, arg in
                guard let arg else { return }
                Unmanaged<PendingResponse>.fromOpaque(arg).takeUnretainedValue().connectionClosed()
            }, Unmanaged.passUnretained(pending).toOpaque())
            pending.watchForDisconnect(connection)
            body(pending)
        }
    }

    /// A CORS preflight (OPTIONS with Access-Control-Request-Method) to a registered path,
    /// answered here because only the server knows the CORS options. Without CORS, or for
    /// unknown paths, the router answers OPTIONS as before.
    private func preflight(_ request: HTTPRequest) -> (result: RouteResult, pattern: String)? {
        guard options.corsOrigin != nil, request.method == .OPTIONS,
              request.header("Access-Control-Request-Method") != nil,
              let allow = router.allowedMethods(for: request.path) else { return nil }
        let response = HTTPResponse(status: 204, headers: [
            ("Allow", allow),
            ("Access-Control-Allow-Methods", allow),
            ("Access-Control-Allow-Headers", "Content-Type, Authorization, Last-Event-ID"),
            ("Access-Control-Max-Age", "600"),
        ])
        return (.respond(response), request.path)
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

    /// Default headers first (unless the response overrides them), then CORS (when
    /// configured), then the response's own. Every reply the server writes passes here.
    private func addHeaders(_ headers: [(name: String, value: String)], to request: UnsafeMutablePointer<evhttp_request>) {
        guard let output = evhttp_request_get_output_headers(request) else { return }
        let own = Set(headers.map { $0.name.lowercased() })
        for header in options.defaultHeaders where !own.contains(header.name.lowercased()) {
            _ = evhttp_add_header(output, header.name, header.value)
        }
        var vary: String?
        if let origin = options.corsOrigin {
            _ = evhttp_add_header(output, "Access-Control-Allow-Origin", origin)
            _ = evhttp_add_header(output, "Access-Control-Expose-Headers", "ETag, Link, Location, Retry-After")
            if origin != "*" {
                // The answer depends on the Origin, so caches must key on it; merged
                // with the response's own Vary so there is exactly one.
                let existing = headers.first { $0.name.lowercased() == "vary" }?.value
                if let existing, existing.lowercased().contains("origin") || existing == "*" {
                    vary = nil
                } else {
                    vary = existing.map { $0 + ", Origin" } ?? "Origin"
                }
            }
        }
        for header in headers {
            if vary != nil, header.name.lowercased() == "vary" { continue }
            // evhttp refuses values with CR/LF (-1): such a header is dropped, never injected.
            _ = evhttp_add_header(output, header.name, header.value)
        }
        if let vary { _ = evhttp_add_header(output, "Vary", vary) }
    }

    private func send(_ response: HTTPResponse, to request: UnsafeMutablePointer<evhttp_request>, head: Bool, contentLength: Bool = true) {
        addHeaders(response.headers, to: request)
        guard let buffer = evbuffer_new() else { return }
        defer { evbuffer_free(buffer) }
        if head {
            // evhttp suppresses the body of HEAD replies but then omits Content-Length;
            // report the length the GET would have had (except where no body can exist).
            if contentLength, HTTPServer.mayHaveBody(response.status), response.header("Content-Length") == nil,
               let output = evhttp_request_get_output_headers(request) {
                _ = evhttp_add_header(output, "Content-Length", String(response.body.count))
            }
        } else if !response.body.isEmpty {
            _ = response.body.withUnsafeBytes { evbuffer_add(buffer, $0.baseAddress, $0.count) }
        }
        evhttp_send_reply(request, Int32(clamping: response.status), nil, buffer)
    }

    /// 1xx, 204 and 304 responses never carry a body nor a meaningful Content-Length.
    static func mayHaveBody(_ status: Int) -> Bool {
        !(100..<200).contains(status) && status != 204 && status != 304
    }

    private func startStream(
        _ request: UnsafeMutablePointer<evhttp_request>, status: Int, headers: [(name: String, value: String)],
        start: @escaping (ResponseStream) -> Void
    ) {
        addHeaders(headers, to: request)
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
        evhttp_connection_set_closecb(connection, { _, arg in
            guard let arg else { return }
            Unmanaged<ResponseStream>.fromOpaque(arg).takeUnretainedValue().connectionClosed()
        }, Unmanaged.passUnretained(stream).toOpaque())
        start(stream)
    }
}
