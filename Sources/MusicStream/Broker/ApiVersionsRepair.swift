import Synchronization

/// Mends the embedded broker's answer to an ApiVersions request it does not support, on one
/// connection through `BootstrapForwarder`.
///
/// librdkafka's mock cluster supports ApiVersions v0–v2. Asked with v3 or later (kafka-python
/// 3 opens with v4, librdkafka with v3), it answers with UNSUPPORTED_VERSION in a layout no
/// version has: a one-byte entry count (not KIP-482's count + 1, not v0's four bytes), entries
/// without tags, a throttle time. KIP-511 says that answer is a v0 body (error, a four-byte count,
/// the ApiVersions entry), which is how kafka-python decodes it; the mock's bytes fail there, so
/// the client cannot bootstrap. Here, that one answer is rewritten to the v0 layout, with the
/// broker's own entries; every other byte passes unchanged. docs/EMBEDDED_BROKER.md has the
/// captured bytes and the librdkafka code that writes them.
///
/// The two directions run on their own threads: `RequestSide` notes the correlation ids of
/// ApiVersions v3+ requests (before they are forwarded, so before any answer), `ResponseSide`
/// holds back the answer to a noted id until it is whole, and rewrites it.
final class ApiVersionsRepair: Sendable {
    static let apiVersionsKey: Int16 = 18
    /// The first ApiVersions version the mock cannot answer (its handler table says 0...2).
    static let firstUnsupportedVersion: Int16 = 3
    /// The longest answer held back for repair; the mock's is 11 bytes plus 6 per entry.
    static let largestHeldFrame = 1024

    private let awaited = Mutex<Set<Int32>>([])

    fileprivate func note(_ correlationID: Int32) {
        _ = awaited.withLock { $0.insert(correlationID) }
    }

    fileprivate func takeAwaited(_ correlationID: Int32) -> Bool {
        awaited.withLock { $0.remove(correlationID) != nil }
    }

    /// Client → broker: reads each request's head as it passes; the bytes are not changed.
    struct RequestSide {
        let repair: ApiVersionsRepair
        /// Size, API key, version and correlation id of the current frame, once 12 bytes.
        private var head: [UInt8] = []
        private var skipping = 0
        /// Not Kafka framing: watch no further.
        private var lost = false

        init(repair: ApiVersionsRepair) { self.repair = repair }

        mutating func observe(_ bytes: UnsafeRawBufferPointer) {
            var index = 0
            while index < bytes.count && !lost {
                if skipping > 0 {
                    let count = min(skipping, bytes.count - index)
                    skipping -= count
                    index += count
                    continue
                }
                head.append(bytes[index])
                index += 1
                guard head.count == 12 else { continue }
                let size = Int(ApiVersionsRepair.int32(head, at: 0))
                guard size >= 8 else {
                    lost = true
                    break
                }
                let key = Int16(bitPattern: UInt16(head[4]) << 8 | UInt16(head[5]))
                let version = Int16(bitPattern: UInt16(head[6]) << 8 | UInt16(head[7]))
                if key == ApiVersionsRepair.apiVersionsKey && version >= ApiVersionsRepair.firstUnsupportedVersion {
                    repair.note(ApiVersionsRepair.int32(head, at: 8))
                }
                skipping = size - 8
                head.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Broker → client: passes frames on, the answer to a noted request rewritten.
    struct ResponseSide {
        let repair: ApiVersionsRepair
        /// Size and correlation id of the current frame, once 8 bytes.
        private var head: [UInt8] = []
        private var passing = 0
        /// A frame held back whole (size prefix included), and how many bytes it still lacks.
        private var held: [UInt8]?
        private var lacking = 0
        private var lost = false

        init(repair: ApiVersionsRepair) { self.repair = repair }

        /// Appends to `output` what the client should receive for `bytes`.
        mutating func pass(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
            var index = 0
            while index < bytes.count {
                if lost {
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index...]))
                    return
                }
                if passing > 0 {
                    let count = min(passing, bytes.count - index)
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<index + count]))
                    passing -= count
                    index += count
                    continue
                }
                if held != nil {
                    let count = min(lacking, bytes.count - index)
                    held!.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<index + count]))
                    lacking -= count
                    index += count
                    if lacking == 0 { releaseHeld(into: &output) }
                    continue
                }
                head.append(bytes[index])
                index += 1
                guard head.count == 8 else { continue }
                let size = Int(ApiVersionsRepair.int32(head, at: 0))
                let correlationID = ApiVersionsRepair.int32(head, at: 4)
                if size < 4 {
                    lost = true
                    output.append(contentsOf: head)
                } else if repair.takeAwaited(correlationID) && size <= ApiVersionsRepair.largestHeldFrame {
                    held = head
                    lacking = size - 4
                    if lacking == 0 { releaseHeld(into: &output) }
                } else {
                    output.append(contentsOf: head)
                    passing = size - 4
                }
                head.removeAll(keepingCapacity: true)
            }
        }

        private mutating func releaseHeld(into output: inout [UInt8]) {
            guard let frame = held else { return }
            output.append(contentsOf: ApiVersionsRepair.repaired(frame) ?? frame)
            held = nil
        }
    }

    /// The big-endian int32 at `offset`, as Kafka writes sizes and correlation ids.
    static func int32(_ bytes: [UInt8], at offset: Int) -> Int32 {
        Int32(bitPattern: UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3]))
    }

    /// The KIP-511 (v0 layout) form of the mock's error answer to an ApiVersions v3+ request, or
    /// nil when `frame` (size prefix included) is not in the mock's layout: a success, or a
    /// broker that already answers correctly, passes as it is.
    ///
    /// Mock: size, correlation id, error (int16), count (int8), count × (key, min, max: int16),
    /// throttle time (int32). v0: size, correlation id, error, count (int32), the entries.
    static func repaired(_ frame: [UInt8]) -> [UInt8]? {
        guard frame.count >= 15 else { return nil }
        let error = UInt16(frame[8]) << 8 | UInt16(frame[9])
        let count = Int(frame[10])
        guard error != 0, frame.count == 11 + 6 * count + 4 else { return nil }
        var body: [UInt8] = Array(frame[4..<10])
        body += [0, 0, 0, UInt8(count)]
        body += frame[11..<11 + 6 * count]
        let size = UInt32(body.count)
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + body
    }
}
