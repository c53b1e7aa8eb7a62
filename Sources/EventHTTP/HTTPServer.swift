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

    /// Closes open streams and listeners and frees evhttp (and with it every connection).
    /// The loop's run() returns once nothing else is pending.
    public func shutdown() {
        guard let http else { return }
        for stream in Array(streams.values) { stream.close() }
        for listener in listeners { evhttp_del_accept_socket(http, listener) }
        listeners.removeAll()
        evhttp_free(http)
        self.http = nil
    }

    func streamDidClose(_ stream: ResponseStream) {
        streams[ObjectIdentifier(stream)] = nil
    }

    // MARK: - Request handling

    private func handle(_ request: UnsafeMutablePointer<evhttp_request>) {
        guard let method = HTTPMethod(command: evhttp_request_get_command(request)) else {
            send(.problem(status: 501, title: "Not Implemented"), to: request, head: false)
            return
        }
        let head = method == .HEAD
        guard let uri = evhttp_request_get_evhttp_uri(request) else {
            send(.problem(status: 400, title: "Bad Request", detail: "unparsable request target"), to: request, head: head)
            return
        }
        let rawPath = evhttp_uri_get_path(uri).flatMap { String(validatingCString: $0) } ?? ""
        let rawQuery = evhttp_uri_get_query(uri).map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? ""
        guard let path = PercentDecoding.decodePath(rawPath.isEmpty ? "/" : rawPath) else {
            send(.problem(status: 400, title: "Bad Request", detail: "invalid percent-encoding, NUL or non-UTF-8 in path"),
                 to: request, head: head)
            return
        }
        let httpRequest = HTTPRequest(
            method: method, path: path, rawQuery: rawQuery,
            headers: HTTPServer.inputHeaders(request), body: HTTPServer.inputBody(request))

        switch router.route(httpRequest) {
        case .respond(let response):
            send(response, to: request, head: head)
        case let .stream(status, headers, start):
            if head {
                send(HTTPResponse(status: status, headers: headers), to: request, head: true, contentLength: false)
            } else {
                startStream(request, status: status, headers: headers, start: start)
            }
        }
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

    /// Default headers first (unless the response overrides them), then the response's own.
    private func addHeaders(_ headers: [(name: String, value: String)], to request: UnsafeMutablePointer<evhttp_request>) {
        guard let output = evhttp_request_get_output_headers(request) else { return }
        let own = Set(headers.map { $0.name.lowercased() })
        for header in options.defaultHeaders where !own.contains(header.name.lowercased()) {
            _ = evhttp_add_header(output, header.name, header.value)
        }
        for header in headers {
            // evhttp refuses values with CR/LF (-1): such a header is dropped, never injected.
            _ = evhttp_add_header(output, header.name, header.value)
        }
    }

    private func send(_ response: HTTPResponse, to request: UnsafeMutablePointer<evhttp_request>, head: Bool, contentLength: Bool = true) {
        addHeaders(response.headers, to: request)
        guard let buffer = evbuffer_new() else { return }
        defer { evbuffer_free(buffer) }
        if head {
            // evhttp suppresses the body of HEAD replies but then omits Content-Length;
            // report the length the GET would have had.
            if contentLength, response.header("Content-Length") == nil, let output = evhttp_request_get_output_headers(request) {
                _ = evhttp_add_header(output, "Content-Length", String(response.body.count))
            }
        } else if !response.body.isEmpty {
            _ = response.body.withUnsafeBytes { evbuffer_add(buffer, $0.baseAddress, $0.count) }
        }
        evhttp_send_reply(request, Int32(clamping: response.status), nil, buffer)
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
