import JSON

/// Turns Kafka message bytes into a validated `ListenEvent`, or says precisely why not.
/// A single streaming pass over the bytes, no intermediate JSON tree: this is the ingest hot path.
public enum EventDecoder {
    /// Larger payloads are rejected before parsing so a hostile message costs nothing.
    public static let maxPayloadBytes = 65_536
    /// Longest accepted string field, in UTF-8 bytes.
    public static let maxStringBytes = 256
    /// Longest accepted track, in seconds (one day).
    public static let maxDuration = 86_400
    /// 2000-01-01T00:00:00Z in ms: earliest accepted timestamp.
    public static let minTimestamp: Int64 = 946_684_800_000
    /// 2101-01-01T00:00:00Z in ms: timestamps must be before this.
    public static let endTimestamp: Int64 = 4_133_980_800_000
    /// Numeric timestamps below this are taken as seconds, at or above as milliseconds.
    public static let secondsThreshold: Int64 = 100_000_000_000

    /// Decodes the canonical shape and the original Python producer's shape. With `latest`
    /// (ms, see `FutureDateBound`), a listen dated after it is rejected as `inFuture`.
    public static func decode(
        _ bytes: [UInt8], origin: EventOrigin?, interner: TextInterner? = nil, latest: Int64? = nil
    ) throws(EventRejection) -> ListenEvent {
        // withUnsafeBytes is not typed-throws, so the error is carried out by hand.
        var rejection: EventRejection?
        let event: ListenEvent? = bytes.withUnsafeBytes { raw in
            do throws(EventRejection) {
                return try decode(raw, origin: origin, interner: interner, latest: latest)
            } catch {
                rejection = error
                return nil
            }
        }
        guard let event else {
            throw rejection ?? EventRejection(reason: .notJSON, detail: "payload: unreadable")
        }
        return event
    }

    /// Decodes straight from a borrowed buffer (e.g. librdkafka's payload) without copying it.
    /// With an `interner`, repeated text shares one copy (the ingest thread passes its own).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, origin: EventOrigin?, interner: TextInterner? = nil, latest: Int64? = nil
    ) throws(EventRejection) -> ListenEvent {
        try withUnsafeTemporaryAllocation(of: ListenEvent.self, capacity: 1) { slot throws(EventRejection) in
            guard let event = slot.baseAddress else { throw EventRejection(reason: .notJSON, detail: "payload: unreadable") }
            try decode(bytes, origin: origin, interner: interner, latest: latest, into: event)
            return event.move()
        }
    }

    /// Decodes into `destination` (uninitialised memory, initialised only when the record is
    /// accepted), so the ingest thread's events are written once, where its batch keeps them,
    /// instead of being copied out step by step (~10 % of that thread).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, origin: EventOrigin?, interner: TextInterner? = nil, latest: Int64? = nil,
        into destination: UnsafeMutablePointer<ListenEvent>
    ) throws(EventRejection) {
        guard bytes.count <= maxPayloadBytes else {
            throw EventRejection(
                reason: .tooLarge, detail: "payload: \(bytes.count) bytes exceeds the \(maxPayloadBytes)-byte limit")
        }
        guard let raw = bytes.baseAddress, bytes.count > 0 else {
            throw EventRejection(reason: .notJSON, detail: "payload: empty input")
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        // The common shape takes the fast lane; everything else, and every rejection, the general one.
        if !FastEventDecoder.decode(base, count: bytes.count, interner: interner, into: destination) {
            destination.initialize(to: try decodeInGeneral(base, count: bytes.count, origin: origin, interner: interner))
        }
        if let latest, let rejection = FutureDateBound.rejection(timestamp: destination.pointee.timestamp, latest: latest) {
            destination.deinitialize(count: 1)
            throw rejection
        }
    }

    /// The general decoder (`PartialEvent`): every shape, every rejection with its wording.
    /// The tests call it directly to hold the fast lane to its answers.
    static func decodeInGeneral(
        _ base: UnsafePointer<UInt8>, count: Int, origin: EventOrigin?, interner: TextInterner?
    ) throws(EventRejection) -> ListenEvent {
        var scanner = JSONScanner(base: base, count: count)
        var partial = PartialEvent()
        partial.interner = interner
        var topLevelKind: String?
        do throws(JSONSyntaxError) {
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "{") {
                try partial.readObject(&scanner)
            } else {
                topLevelKind = scanner.peek().map(PartialEvent.kindName) ?? "nothing"
                try scanner.skipValue(depth: 0)
            }
            try scanner.expectEnd()
        } catch {
            throw EventRejection(reason: .notJSON, detail: "payload: \(error.description)")
        }
        if let topLevelKind {
            throw EventRejection(reason: .notObject, detail: "payload: top level is \(topLevelKind), expected an object")
        }
        return try partial.finish(origin: origin)
    }
}
