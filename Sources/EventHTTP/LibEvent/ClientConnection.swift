internal import CLibEvent

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Told when the client's connection goes away (PendingResponse, ResponseStream).
protocol ConnectionObserver: AnyObject {
    func connectionClosed()
}

/// One accepted client connection, from accept to close: the part of connection handling
/// evhttp 2.1 does not offer hooks for. evhttp owns the socket and parses HTTP; this object
/// watches the bytes around it through callbacks on the connection's input and output
/// buffers (the server hands evhttp the bufferevent, see `HTTPServer.newConnection`) and
///
/// - checks a request's head against the request-line (414) and header (431) limits, its
///   syntax, method and framing (`RequestHeadScanner`), and a chunked body's framing
///   (`ChunkedBodyScanner`), as the bytes arrive, before evhttp parses them (evhttp's own
///   limits are set higher, so it never answers these itself);
/// - gives a request a deadline for its head and then its body (408). evhttp's timeout is
///   per read, so a client sending a byte at a time would otherwise live forever;
/// - refuses connections past the server's limit (503);
/// - replaces the error pages evhttp writes on its own (400 malformed request, 413 body too
///   large, 417, 501) before they reach the socket;
/// - writes each whole answer in the loop pass that made it (`writeQueuedResponse`), where
///   evhttp would wait a pass and arm the write event for it.
///
/// Each refusal is an `HTTPRefusal`, answered with the application's error page and
/// middleware headers (see `HTTPServer.refusalReply`). It is carried out from the server's
/// service pass, never from inside evhttp's callbacks: the
/// connection's callbacks are taken over from evhttp, the response is written, the write
/// side shut down, and what the client still sends is read and dropped for a moment
/// (`lingerSeconds`), so closing does not turn into a reset that could destroy the response
/// before the client reads it. Then evhttp frees the connection.
///
/// Loop thread only. The server keeps the object alive until evhttp reports the close.
final class ClientConnection {
    enum Phase {
        /// Keep-alive between requests: nothing of the next request yet (evhttp's idle timeout applies).
        case awaitingRequest
        /// Reading a request's head, under the deadline.
        case head
        /// The head is complete; evhttp reads the body (if any), under a fresh deadline.
        case body
        /// The server's handler has the request.
        case handling
        /// Our own error response, then the lingering close.
        case refusing
    }

    /// How long a refused connection is drained before it is closed regardless.
    static let lingerSeconds = 1.0
    /// Bytes a refused client may still send before it is closed at once.
    static let lingerByteLimit = 1 << 20

    let bufferevent: OpaquePointer
    private weak var server: HTTPServer?
    /// The server's limits, which the refusals name.
    private let options: HTTPServerOptions
    private(set) var evcon: OpaquePointer?
    private(set) var phase: Phase = .head
    private(set) var isAttached = false
    /// Counted against the server's connection limit.
    private(set) var isAdmitted = false
    private(set) var isClosed = false
    /// The pending response or stream holding this connection, told when it closes.
    weak var observer: ConnectionObserver?

    private var scanner: RequestHeadScanner
    /// Follows the current request's body while it is chunked and not yet complete.
    private var bodyScanner: ChunkedBodyScanner?
    /// Head/body deadline, then the linger deadline of a refusal.
    private var timer: OpaquePointer?
    private var inputHook: OpaquePointer?
    private var outputHook: OpaquePointer?
    /// A refusal decided but not yet carried out.
    private var pendingRefusal: HTTPRefusal?
    /// Where bytes evhttp wrote on its own begin in the output buffer, until the service pass looks.
    private var foreignOutputOffset: Int?
    private var lingerAfterResponse = true
    private var lingeredBytes = 0
    /// A whole response was queued in the output, to be written by the next service pass.
    private var responseQueued = false

    /// Installs the buffer hooks. evhttp sets the bufferevent's callbacks and socket afterwards;
    /// `attach()` (from the server's service pass) completes the setup.
    init(bufferevent: OpaquePointer, server: HTTPServer, options: HTTPServerOptions) {
        self.bufferevent = bufferevent
        self.server = server
        self.options = options
        self.scanner = RequestHeadScanner(maxRequestLine: options.maxRequestLineSize, maxHeaders: options.maxHeadersSize)
        let context = Unmanaged.passUnretained(self).toOpaque()
        // Unretained: the hooks are removed in closed(), before the server lets go of self.
        inputHook = evbuffer_add_cb(bufferevent_get_input(bufferevent), { _, info, arg in
            guard let info, let arg else { return }
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().inputChanged(info.pointee)
        }, context)
        outputHook = evbuffer_add_cb(bufferevent_get_output(bufferevent), { _, info, arg in
            guard let info, let arg else { return }
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().outputChanged(info.pointee)
        }, context)
    }

    deinit {
        if let timer { event_free(timer) }
    }

    // MARK: - Driven by the server

    /// Work decided inside libevent's callbacks, done from the server's service pass.
    func service() {
        guard !isClosed else { return }
        if !isAttached {
            attach()
            guard !isClosed else { return }
        }
        if let offset = foreignOutputOffset {
            foreignOutputOffset = nil
            if pendingRefusal == nil, phase != .refusing, let status = evhttpStatus(at: offset), status >= 200 {
                // 1xx is evhttp's "100 Continue", which stays.
                refuse(Self.refusal(forEvhttpStatus: status, options: options))
            }
        }
        if let refusal = pendingRefusal {
            pendingRefusal = nil
            refuseNow(refusal)
        }
        if responseQueued {
            responseQueued = false
            writeQueuedResponse()
        }
    }

    /// What an error page evhttp wrote on its own stands for.
    static func refusal(forEvhttpStatus status: Int, options: HTTPServerOptions) -> HTTPRefusal {
        switch status {
        case 400: .malformed
        case 413: .bodyTooLarge(limit: options.maxBodySize)   // a malformed chunked body never reaches evhttp (ChunkedBodyScanner)
        case 417: .expectationFailed
        case 501: .methodNotImplemented
        default: .evhttpError(status: status)
        }
    }

    /// The server's handler is about to get this connection's request; false when the
    /// connection is being refused (then the request is left to the refusal, unanswered).
    func beginHandling() -> Bool {
        guard pendingRefusal == nil, phase != .refusing, !isClosed else { return false }
        phase = .handling
        cancelTimer()
        return true
    }

    /// The response to the current request is written (evhttp's on_complete); bytes of a
    /// pipelined next request may already be buffered.
    func requestCompleted() {
        guard phase == .handling, !isClosed else { return }
        phase = .awaitingRequest
        scanner.reset()
        bodyScanner = nil
        guard let input = bufferevent_get_input(bufferevent), evbuffer_get_length(input) > 0 else { return }
        beginRequest()
        scan(input, from: 0)
    }

    /// evhttp has queued a whole response (head and body) for the current request: it is
    /// written from the next service pass, in this pass of the loop (see `writeQueuedResponse`).
    func writeResponseSoon() {
        guard phase == .handling, !isClosed else { return }
        responseQueued = true
        server?.scheduleService(self)
    }

    /// Asks for the refusal's page to be sent and the connection closed, from the next service pass.
    func refuse(_ refusal: HTTPRefusal, linger: Bool = true) {
        guard pendingRefusal == nil, phase != .refusing, !isClosed else { return }
        pendingRefusal = refusal
        lingerAfterResponse = linger
        cancelTimer()
        // evhttp must not act on what it has not parsed yet: it sees no more bytes.
        drainInput()
        server?.scheduleService(self)
    }

    /// Server shutdown before attach(): evhttp freed the connection without telling us.
    func abandonUnattached() {
        guard !isAttached, !isClosed else { return }
        isClosed = true
        isAttached = true
        bufferevent_decref(bufferevent)   // the last reference: frees the buffers and hooks
    }

    // MARK: - Setup and close

    /// evhttp has set up its connection around our bufferevent (the callback argument it
    /// installed is the evhttp_connection): register for its close and start the deadline.
    private func attach() {
        isAttached = true
        var argument: UnsafeMutableRawPointer?
        bufferevent_getcb(bufferevent, nil, nil, nil, &argument)
        guard let server, let argument else {
            // evhttp failed to set up (it frees the bufferevent and clears its callbacks);
            // only our reference keeps the memory.
            isClosed = true
            bufferevent_decref(bufferevent)
            server?.connectionDidClose(self)
            return
        }
        bufferevent_decref(bufferevent)   // evhttp's reference now keeps it; we hear of the close first
        let evcon = OpaquePointer(argument)
        self.evcon = evcon
        let context = Unmanaged.passUnretained(self).toOpaque()
        evhttp_connection_set_closecb(evcon, { _, arg in
            guard let arg else { return }
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().closed()
        }, context)
        timer = event_new(bufferevent_get_base(bufferevent), -1, 0, { _, _, arg in
            guard let arg else { return }
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().timerFired()
        }, context)
        if let refusal = server.admit() {
            refuse(refusal.refusal, linger: refusal.linger)
        } else {
            isAdmitted = true
            startTimer(seconds: options.headerTimeoutSeconds)
        }
    }

    /// evhttp's close callback, run inside evhttp_connection_free (also at server shutdown).
    private func closed() {
        guard !isClosed else { return }
        isClosed = true
        if let timer {
            event_del(timer)
            event_free(timer)
            self.timer = nil
        }
        if let inputHook { evbuffer_remove_cb_entry(bufferevent_get_input(bufferevent), inputHook) }
        if let outputHook { evbuffer_remove_cb_entry(bufferevent_get_output(bufferevent), outputHook) }
        inputHook = nil
        outputHook = nil
        withExtendedLifetime(self) {
            let observer = self.observer
            self.observer = nil
            observer?.connectionClosed()
            server?.connectionDidClose(self)
        }
    }

    // MARK: - Watching the bytes

    private func inputChanged(_ info: evbuffer_cb_info) {
        guard info.n_added > 0, !isClosed else { return }
        if pendingRefusal != nil || phase == .refusing {
            lingeredBytes += info.n_added
            drainInput()
            return
        }
        switch phase {
        case .awaitingRequest:
            beginRequest()
            scanNewInput(count: info.n_added)
        case .head:
            scanNewInput(count: info.n_added)
        case .body where bodyScanner != nil:
            scanNewInput(count: info.n_added)
        case .body, .handling, .refusing:
            break
        }
    }

    private func outputChanged(_ info: evbuffer_cb_info) {
        guard info.n_added > 0, !isClosed else { return }
        switch phase {
        case .awaitingRequest, .head, .body:
            // Only evhttp writes while a request is being read: an error page, or "100 Continue".
            guard foreignOutputOffset == nil, pendingRefusal == nil else { return }
            foreignOutputOffset = info.orig_size
            server?.scheduleService(self)
        case .handling, .refusing:
            break
        }
    }

    private func beginRequest() {
        phase = .head
        startTimer(seconds: options.headerTimeoutSeconds)
    }

    private func scanNewInput(count: Int) {
        guard let input = bufferevent_get_input(bufferevent) else { return }
        let length = evbuffer_get_length(input)
        scan(input, from: length - min(count, length))
    }

    /// Feeds the scanners the input from `start` on, without copying (the chunked-body
    /// scanner may rewrite a byte in place, see `ChunkedBodyScanner`).
    private func scan(_ input: OpaquePointer, from start: Int) {
        var position = evbuffer_ptr()
        guard evbuffer_ptr_set(input, &position, start, EVBUFFER_PTR_SET) == 0 else { return }
        var remaining = evbuffer_get_length(input) - start
        // On the stack: this runs for every request. evbuffer_iovec is the native iovec here.
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: 8) { vectors in
            while remaining > 0 {
                let needed = Int(evbuffer_peek(input, remaining, &position, vectors.baseAddress, Int32(vectors.count)))
                guard needed > 0 else { return }
                var advanced = 0
                for vector in vectors.prefix(min(needed, vectors.count)) where remaining > 0 {
                    let count = min(vector.iov_len, remaining)
                    remaining -= count
                    advanced += count
                    guard consume(UnsafeMutableRawBufferPointer(start: vector.iov_base, count: count)) else { return }
                }
                guard remaining > 0, evbuffer_ptr_set(input, &position, advanced, EVBUFFER_PTR_ADD) == 0 else { return }
            }
        }
    }

    /// Hands bytes to the head scanner, then (for a chunked body) to the body scanner; false
    /// once nothing more of this request needs scanning.
    private func consume(_ chunk: UnsafeMutableRawBufferPointer) -> Bool {
        var bytes = chunk
        if phase == .head {
            switch scanner.scan(UnsafeRawBufferPointer(bytes)) {
            case .incomplete:
                return true
            case .complete(let used):
                phase = .body
                startTimer(seconds: options.headerTimeoutSeconds)
                guard scanner.framing == .chunked else { return false }
                bodyScanner = ChunkedBodyScanner(maxTrailerBytes: options.maxHeadersSize)
                bytes = UnsafeMutableRawBufferPointer(rebasing: bytes[used...])
            case .requestLineTooLong:
                refuse(.requestLineTooLong(limit: options.maxRequestLineSize))
                return false
            case .headersTooLarge:
                refuse(.headersTooLarge(limit: options.maxHeadersSize))
                return false
            case .refused(let refusal):
                refuse(refusal)
                return false
            }
        }
        guard phase == .body, var body = bodyScanner else { return false }
        let outcome = body.scan(bytes)
        bodyScanner = body
        switch outcome {
        case .incomplete:
            return true
        case .complete:
            // What follows is the next request's, scanned once this one is answered.
            bodyScanner = nil
            return false
        case .malformed(let detail):
            bodyScanner = nil
            refuse(.badFraming(detail))
            return false
        }
    }

    /// The status code of the response evhttp began writing at `offset` in the output.
    ///
    /// Read with evbuffer_peek, not evbuffer_copyout_from: once a connection has written
    /// anything, the socket bufferevent keeps its output's front frozen between writes, and
    /// copyout refuses frozen buffers (so on keep-alive connections evhttp's own error page
    /// went out unreplaced).
    private func evhttpStatus(at offset: Int) -> Int? {
        guard let output = bufferevent_get_output(bufferevent) else { return nil }
        var position = evbuffer_ptr()
        guard evbuffer_ptr_set(output, &position, offset, EVBUFFER_PTR_SET) == 0 else { return nil }
        let wanted = 12   // "HTTP/1.1 413"
        var head: [UInt8] = []
        var vectors = [iovec](repeating: iovec(), count: wanted)
        let count = Int(evbuffer_peek(output, wanted, &position, &vectors, Int32(vectors.count)))
        for vector in vectors.prefix(min(max(count, 0), vectors.count)) where head.count < wanted {
            let bytes = UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len)
            head.append(contentsOf: bytes.prefix(wanted - head.count))
        }
        guard head.count == wanted, head.starts(with: Array("HTTP/".utf8)) else { return nil }
        return Int(String(decoding: head[9..<12], as: UTF8.self))
    }

    private func drainInput() {
        guard let input = bufferevent_get_input(bufferevent) else { return }
        let length = evbuffer_get_length(input)
        if length > 0 { evbuffer_drain(input, length) }
    }

    // MARK: - Writing answers

    /// Writes a queued response to the socket now rather than on the loop's next pass.
    ///
    /// Left to itself, evhttp turns the bufferevent's write interest on for every response
    /// (an epoll_ctl at the next dispatch), waits for the socket to report writable, writes,
    /// and turns the interest off again (another epoll_ctl): two system calls and a loop pass
    /// per request on a socket that could take the answer at once. Here the response is
    /// written as the bufferevent's own write callback would (front unfrozen for the write,
    /// at most `maxSingleWrite`). When all of it went, the write interest is withdrawn
    /// before epoll ever hears of it (the change list merges the two) and evhttp is told what
    /// the bufferevent would have told it: the output is drained (its write callback, which
    /// finishes the request and reads the next one or closes). When only part went, or the
    /// write failed, nothing else changes: the bufferevent writes the rest, or meets the
    /// error, as before.
    private func writeQueuedResponse() {
        guard phase == .handling, let output = bufferevent_get_output(bufferevent) else { return }
        let fd = bufferevent_getfd(bufferevent)
        guard fd >= 0, evbuffer_get_length(output) > 0 else { return }
        evbuffer_unfreeze(output, 1)
        let written = evbuffer_write_atmost(output, fd, HTTPServer.maxSingleWrite)
        evbuffer_freeze(output, 1)
        guard written > 0, evbuffer_get_length(output) == 0 else { return }
        bufferevent_disable(bufferevent, Int16(EV_WRITE))
        // evhttp may free the connection in there (a response that closes it): closed() runs then.
        withExtendedLifetime(self) { bufferevent_trigger(bufferevent, Int16(EV_WRITE), 0) }
    }

    // MARK: - Deadlines

    private func startTimer(seconds: Double) {
        guard let timer else { return }
        var tv = LoopTimer.makeTimeval(seconds: seconds)
        event_add(timer, &tv)   // reschedules when already pending
    }

    private func cancelTimer() {
        if let timer { event_del(timer) }
    }

    private func timerFired() {
        guard !isClosed, server != nil else { return }
        switch phase {
        case .head, .awaitingRequest:
            refuse(.timedOut(.head, seconds: options.headerTimeoutSeconds))
        case .body:
            refuse(.timedOut(.body, seconds: options.headerTimeoutSeconds))
        case .refusing:
            finish()
        case .handling:
            break
        }
    }

    // MARK: - Refusing

    /// Takes the connection over from evhttp and starts writing the refusal's page.
    private func refuseNow(_ refusal: HTTPRefusal) {
        guard let server, evcon != nil, !isClosed else { return }
        phase = .refusing
        let reply = server.refusalReply(refusal)
        server.connectionStartedRefusal(self, status: reply.status)
        // From here evhttp's callbacks never run again for this connection; evhttp_connection_free ends it.
        let context = Unmanaged.passUnretained(self).toOpaque()
        bufferevent_setcb(bufferevent, { _, arg in
            guard let arg else { return }
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().lingerRead()
        }, { _, arg in
            guard let arg else { return }
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().responseWritten()
        }, { _, _, arg in
            guard let arg else { return }
            // EOF, error or timeout: the client is done (or gone).
            Unmanaged<ClientConnection>.fromOpaque(arg).takeUnretainedValue().finish()
        }, context)
        drainInput()
        if let output = bufferevent_get_output(bufferevent) {
            // Whatever evhttp queued (its error page) goes; the front is frozen outside writes.
            evbuffer_unfreeze(output, 1)
            evbuffer_drain(output, evbuffer_get_length(output))
            evbuffer_freeze(output, 1)
        }
        reply.bytes.withUnsafeBytes { _ = bufferevent_write(bufferevent, $0.baseAddress, $0.count) }
        bufferevent_enable(bufferevent, Int16(EV_READ | EV_WRITE))
        startTimer(seconds: ClientConnection.lingerSeconds)
    }

    private func responseWritten() {
        guard phase == .refusing, !isClosed else { return }
        let fd = bufferevent_getfd(bufferevent)
        if fd >= 0 { _ = shutdown(fd, Int32(SHUT_WR)) }   // the client sees the end of the response
        if !lingerAfterResponse { finish() }
    }

    private func lingerRead() {
        // inputChanged already dropped the bytes.
        if lingeredBytes > ClientConnection.lingerByteLimit { finish() }
    }

    /// Frees the connection through evhttp, which runs closed().
    private func finish() {
        guard let evcon, !isClosed else { return }
        withExtendedLifetime(self) { evhttp_connection_free(evcon) }
    }
}
