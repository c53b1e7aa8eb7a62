import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct TestClientError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A parsed HTTP/1.1 response as seen on the wire.
public struct WireResponse {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Tiny blocking HTTP/1.1 client over a POSIX socket on 127.0.0.1; every read is bounded
/// by a deadline so a broken server fails the test instead of hanging it. Shared by the HTTP
/// layer's tests and the whole-server tests, which speak to real sockets the same way.
public final class TestClient {
    private var fd: Int32
    private var buffer: [UInt8] = []
    public var timeout: Double

    public init(port: Int, timeout: Double = 5, receiveBufferSize: Int32? = nil) throws {
        self.timeout = timeout
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError("socket failed") }
        if var size = receiveBufferSize {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw TestClientError("connect failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestClientError("send failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Sends as much of `bytes` as the peer accepts; returns the count sent before an error
    /// (a hostile client keeps sending while the server refuses it).
    public func sendIgnoringErrors(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            offset += n
        }
        return offset
    }

    /// A second descriptor for the same socket, for a thread that writes while this object
    /// reads; the caller closes it.
    public func duplicateDescriptor() -> Int32 { dup(fd) }

    /// Reads more bytes into the buffer; false on EOF. Throws on timeout.
    @discardableResult
    private func fill(deadline: Date) throws -> Bool {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw TestClientError("timed out waiting for data") }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(remaining * 1000) + 1)
        guard ready > 0 else { throw TestClientError("timed out waiting for data") }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func readLine(deadline: Date) throws -> String {
        while true {
            if let index = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<index])
                buffer.removeFirst(index + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill(deadline: deadline) else { throw TestClientError("connection closed mid-line") }
        }
    }

    private func readExactly(_ count: Int, deadline: Date) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill(deadline: deadline) else { throw TestClientError("connection closed mid-body") }
        }
        let result = Array(buffer[..<count])
        buffer.removeFirst(count)
        return result
    }

    /// Everything until the server closes the connection.
    public func readToEnd() throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while try fill(deadline: deadline) {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Status line and headers only (for streams).
    public func readHead() throws -> WireResponse {
        let deadline = Date().addingTimeInterval(timeout)
        let statusLine = try readLine(deadline: deadline)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestClientError("bad status line: \(statusLine)") }
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try readLine(deadline: deadline)
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError("bad header: \(line)") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return WireResponse(status: status, headers: headers, body: [])
    }

    /// One chunk of a chunked body; nil for the terminating zero-length chunk.
    public func readChunk() throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        let sizeLine = try readLine(deadline: deadline)
        guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
            throw TestClientError("bad chunk size: \(sizeLine)")
        }
        if size == 0 {
            _ = try readLine(deadline: deadline)
            return nil
        }
        let data = try readExactly(size, deadline: deadline)
        _ = try readLine(deadline: deadline)
        return data
    }

    /// A whole response; `head` means the request was HEAD (no body follows).
    public func readResponse(head: Bool = false) throws -> WireResponse {
        var response = try readHead()
        let deadline = Date().addingTimeInterval(timeout)
        if head || response.status == 204 || response.status == 304 { return response }
        if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            while let chunk = try readChunk() { response.body += chunk }
        } else if let length = response.header("Content-Length").flatMap(Int.init) {
            response.body = try readExactly(length, deadline: deadline)
        } else {
            while try fill(deadline: deadline) {}
            response.body = buffer
            buffer.removeAll()
        }
        return response
    }

    /// Everything the server sends until it closes the connection (buffered bytes included);
    /// nil when it does not close within `timeout`.
    public func readToEOF(timeout: Double = 5) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        do {
            while try fill(deadline: deadline) {}
        } catch {
            return nil
        }
        defer { buffer.removeAll() }
        return buffer
    }

    /// True when the server closed the connection (EOF) before the deadline. What it sends
    /// meanwhile is dropped as it arrives, so a long answer costs no memory here.
    public func waitForEOF(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                if try !fill(deadline: deadline) { return true }
                buffer.removeAll()
            } catch {
                return false
            }
        }
    }

    /// One request on a fresh connection.
    public static func request(
        port: Int, _ method: String, _ target: String, headers: [String] = [], body: [UInt8] = []
    ) throws -> WireResponse {
        let client = try TestClient(port: port)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try client.send(Array(head.utf8) + body)
        return try client.readResponse(head: method == "HEAD")
    }
}
