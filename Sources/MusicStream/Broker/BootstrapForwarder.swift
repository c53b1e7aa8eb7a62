import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The address outside clients bootstrap from, in front of the embedded broker's own one:
/// librdkafka's mock cluster listens on a port of the kernel's choosing, and `musicstream broker
/// --port N` promises N. Clients bootstrap through it; the cluster's metadata then names the
/// broker's own address, which they reach directly (on this machine). Each connection is two
/// copying threads: it carries a handful of bootstrap connections, never the record traffic.
///
/// It also mends the one answer of the mock that clients opening with ApiVersions v3+ cannot
/// decode (`ApiVersionsRepair`): there they learn the broker's ApiVersions range, and ask the
/// broker's own port with a version it answers (docs/EMBEDDED_BROKER.md).
public final class BootstrapForwarder: Sendable {
    public let port: Int
    private let target: (host: String, port: Int)
    private let listener: Int32
    private let running = Atomic<Bool>(true)
    /// Connections at once; a bootstrap connection lives only until the client has metadata.
    static let maxConnections = 256
    private let open = Atomic<Int>(0)

    /// Listens on 127.0.0.1:`port` (0: any free port) and forwards each connection to `target`
    /// ("host:port").
    public init(port: Int, to target: String) throws {
        guard let colon = target.lastIndex(of: ":"), let targetPort = Int(target[target.index(after: colon)...]) else {
            throw ForwarderError("cannot read the broker address '\(target)'")
        }
        self.target = (String(target[..<colon]), targetPort)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ForwarderError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socket, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw ForwarderError("cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        listener = socket
    }

    public var address: String { "127.0.0.1:\(port)" }

    public func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "broker-forwarder"
        thread.start()
    }

    /// Stops accepting; connections in flight end when either side closes.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while running.load(ordering: .acquiring) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return   // closed by stop()
            }
            guard open.load(ordering: .relaxed) < Self.maxConnections, let upstream = connectTarget() else {
                close(client)
                continue
            }
            open.add(1, ordering: .relaxed)
            let finished = Atomic<Int>(0)
            let repair = ApiVersionsRepair()
            for towardBroker in [true, false] {
                let thread = Thread { [self] in
                    if towardBroker {
                        var requests = ApiVersionsRepair.RequestSide(repair: repair)
                        Self.copy(from: client, to: upstream) { bytes, _ in requests.observe(bytes); return false }
                    } else {
                        var responses = ApiVersionsRepair.ResponseSide(repair: repair)
                        Self.copy(from: upstream, to: client) { bytes, output in
                            responses.pass(bytes, into: &output)
                            return true
                        }
                    }
                    // The second direction to finish closes both descriptors.
                    if finished.add(1, ordering: .acquiringAndReleasing).newValue == 2 {
                        close(client)
                        close(upstream)
                        open.subtract(1, ordering: .relaxed)
                    }
                }
                thread.name = "broker-forward"
                thread.start()
            }
        }
    }

    private func connectTarget() -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var address = Self.loopback(port: target.port)
        inet_pton(AF_INET, target.host == "localhost" ? "127.0.0.1" : target.host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
        return socket
    }

    /// Copies until `from` ends or `to` fails, then passes the end on (half-close). `filter` sees
    /// each read; when it returns true, what it put in its output is sent instead of the read.
    private static func copy(
        from: Int32, to: Int32, filter: (UnsafeRawBufferPointer, inout [UInt8]) -> Bool
    ) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var output: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            output.removeAll(keepingCapacity: true)
            let replaced = buffer.withUnsafeBytes { filter(UnsafeRawBufferPointer(rebasing: $0[..<count]), &output) }
            let sent = replaced ? output.withUnsafeBytes { sendAll(to, $0) } : buffer.withUnsafeBytes {
                sendAll(to, UnsafeRawBufferPointer(rebasing: $0[..<count]))
            }
            guard sent else { break }
        }
        shutdown(to, Int32(SHUT_WR))
        shutdown(from, Int32(SHUT_RD))
    }

    /// Writes all of `bytes`; false when the socket fails.
    private static func sendAll(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let written = send(socket, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

/// Why the forwarder could not start.
public struct ForwarderError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
