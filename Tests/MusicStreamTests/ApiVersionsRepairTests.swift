import Foundation
import Testing
@testable import KafkaClient
@testable import MusicStream
#if canImport(Glibc)
import Glibc
#endif

/// The embedded broker's front: the mock cluster's unreadable answer to ApiVersions v3+, captured
/// from kafka-python 3.0.12 against librdkafka 2.8.0, and the KIP-511 answer the front makes of it.
@Suite struct ApiVersionsRepairTests {
    /// The mock's answer as captured: size 17, correlation id 1, error 35 (UNSUPPORTED_VERSION),
    /// a one-byte count 1, the entry (ApiVersions 0...2), throttle time 0.
    static let mockAnswer: [UInt8] = [0, 0, 0, 17, 0, 0, 0, 1, 0, 35, 1, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0]
    /// What a client decoding a v0 body (KIP-511) reads: error, a four-byte count, the entry.
    static let v0Answer: [UInt8] = [0, 0, 0, 16, 0, 0, 0, 1, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2]

    @Test func theMockLayoutBecomesTheV0Layout() {
        #expect(ApiVersionsRepair.repaired(Self.mockAnswer) == Self.v0Answer)
    }

    @Test func answersInAnyOtherLayoutAreLeftAlone() {
        // Already v0 (a broker that answers correctly), and a success in the v2 layout.
        #expect(ApiVersionsRepair.repaired(Self.v0Answer) == nil)
        let success: [UInt8] = [0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0]
        #expect(ApiVersionsRepair.repaired(success) == nil)
        // The mock's layout without an error is not one of its error answers.
        var noError = Self.mockAnswer
        noError[9] = 0
        #expect(ApiVersionsRepair.repaired(noError) == nil)
    }

    @Test func onlyTheAnswerToANotedRequestIsRewrittenWhateverTheChunks() {
        let request = Self.apiVersionsRequest(version: 4, correlationID: 1)
        let other = Self.apiVersionsRequest(version: 2, correlationID: 2)
        // A frame the client never asked about, in the same layout, passes as it is.
        var unrelated = Self.mockAnswer
        unrelated[7] = 9
        let metadata: [UInt8] = [0, 0, 0, 10, 0, 0, 0, 2] + Array(repeating: 7, count: 6)
        let stream = metadata + Self.mockAnswer + unrelated
        for chunk in [1, 3, 8, stream.count] {
            let repair = ApiVersionsRepair()
            var requests = ApiVersionsRepair.RequestSide(repair: repair)
            for piece in (other + request).chunks(of: chunk) { piece.withUnsafeBytes { requests.observe($0) } }
            var responses = ApiVersionsRepair.ResponseSide(repair: repair)
            var received: [UInt8] = []
            for piece in stream.chunks(of: chunk) { piece.withUnsafeBytes { responses.pass($0, into: &received) } }
            #expect(received == metadata + Self.v0Answer + unrelated, "chunks of \(chunk)")
        }
    }

    /// The real mock cluster, asked as kafka-python asks: directly it answers in its own layout,
    /// through the front in KIP-511's, and the versions a client then learns are the capped ones.
    @Test func theFrontAnswersApiVersionsV4InTheLayoutClientsDecode() throws {
        let cluster = try EmbeddedCluster(topics: [("t", 1)])
        let front = try BootstrapForwarder(port: 0, to: cluster.bootstrapServers)
        front.start()
        defer { front.stop() }
        let request = Self.apiVersionsRequest(version: 4, correlationID: 1)
        #expect(try Self.exchange(cluster.bootstrapServers, [request]) == [Self.mockAnswer])
        let answers = try Self.exchange(front.address, [request, Self.apiVersionsRequest(version: 2, correlationID: 2)])
        #expect(answers.first == Self.v0Answer)
        // The retry with v2 on the same connection: a success listing every API and its range.
        let ranges = try #require(Self.ranges(ofV2Answer: answers[1]))
        #expect(ranges[18] == 0...2)
        for cap in EmbeddedCluster.versionCaps { #expect(ranges[cap.apiKey]?.upperBound == cap.newest, "\(cap.name)") }
        #expect(ranges[3] != nil && ranges[0] != nil && ranges[1] != nil)
    }

    // MARK: Kafka bytes

    /// ApiVersions: header v2 (with tags) and KIP-511's client name and version from v3, header
    /// v1 before; kafka-python's request, byte for byte, at v4.
    static func apiVersionsRequest(version: Int16, correlationID: Int32) -> [UInt8] {
        let clientID = Array("kafka-python-producer-1".utf8)
        var body: [UInt8] = [0, 18, 0, UInt8(version)] + int32(correlationID)
        body += [0, UInt8(clientID.count)] + clientID
        if version >= 3 {
            let name = Array("kafka-python".utf8), release = Array("3.0.12".utf8)
            body += [0, UInt8(name.count + 1)] + name + [UInt8(release.count + 1)] + release + [0]
        }
        return int32(Int32(body.count)) + body
    }

    static func int32(_ value: Int32) -> [UInt8] {
        let bits = UInt32(bitPattern: value)
        return [UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
    }

    /// The API ranges of a successful ApiVersions v2 answer (size prefix included).
    static func ranges(ofV2Answer frame: [UInt8]) -> [Int16: ClosedRange<Int16>]? {
        func int16(_ at: Int) -> Int16 { Int16(bitPattern: UInt16(frame[at]) << 8 | UInt16(frame[at + 1])) }
        guard frame.count >= 14, int16(8) == 0 else { return nil }
        let count = Int(ApiVersionsRepair.int32(frame, at: 10))
        guard frame.count == 14 + 6 * count + 4 else { return nil }
        var ranges: [Int16: ClosedRange<Int16>] = [:]
        for index in 0..<count {
            let at = 14 + 6 * index
            ranges[int16(at)] = int16(at + 2)...int16(at + 4)
        }
        return ranges
    }

    /// Sends the requests on one loopback connection and reads one whole answer frame for each.
    static func exchange(_ address: String, _ requests: [[UInt8]]) throws -> [[UInt8]] {
        let port = try #require(address.split(separator: ":").last.flatMap { UInt16($0) })
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        target.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        var answers: [[UInt8]] = []
        for request in requests {
            try #require(request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == request.count)
            let head = try readExactly(socket, 4)
            answers.append(head + (try readExactly(socket, Int(ApiVersionsRepair.int32(head, at: 0)))))
        }
        return answers
    }

    static func readExactly(_ socket: Int32, _ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let got = bytes.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + have, count - have, 0) }
            try #require(got > 0, "the connection ended after \(have) of \(count) bytes")
            have += got
        }
        return bytes
    }
}

fileprivate extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
