// libFuzzer target: the bytes of a Kafka record value, through everything that parses JSON from
// outside: EventDecoder (the ingest path, both its lanes), JSONParser, and EventSubmission (POST bodies).
// Built by scripts/fuzz as a SwiftPM target declared only for fuzzing. Besides crashes (Swift's runtime traps on overflow and
// bounds, AddressSanitizer on memory errors), it traps when the parsers disagree with each other
// or an accepted event breaks an invariant, so logic bugs surface as crashes too.
import JSON
@testable import MusicModel

@_cdecl("LLVMFuzzerTestOneInput")
public func decoderFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let origin = EventOrigin(topic: "fuzz", partition: 1, offset: Int64(size))
    let decoded = Result { () throws(EventRejection) in try EventDecoder.decode(bytes, origin: origin) }
    let parsed = Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) }

    // The borrowed-buffer entry point (the one that reads librdkafka's payload in place) gives the
    // same answer; it reads libFuzzer's exact-size copy, so AddressSanitizer sees any overread.
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let borrowed = Result { () throws(EventRejection) in try EventDecoder.decode(raw, origin: origin) }
    check(borrowed == decoded, "the two EventDecoder entry points disagree")

    // What the fast lane takes, the general decoder decodes as the same event.
    if size > 0 && size <= EventDecoder.maxPayloadBytes, let fast = FastEventDecoder.decode(data, count: size, interner: nil) {
        let general = Result { () throws(EventRejection) in
            try EventDecoder.decodeInGeneral(data, count: size, origin: origin, interner: nil)
        }
        check(general == .success(fast), "the fast lane took what the general decoder decodes as \(general)")
    }

    // The decoder and the general parser share one scanner, so they agree on what is JSON. The
    // parser alone also refuses duplicate keys in nested values and numbers beyond Double, which
    // the decoder skips inside fields it ignores.
    if size <= EventDecoder.maxPayloadBytes {
        switch (parsed, decoded) {
        case (.success(let value), .failure(let rejection)):
            check(rejection.reason != .notJSON, "JSONParser accepts what EventDecoder calls not JSON: \(rejection)")
            if case .object = value {} else {
                check(rejection.reason == .notObject, "a non-object is rejected as \(rejection.reason)")
            }
        case (.success(let value), .success):
            guard case .object = value else { fatalError("EventDecoder accepted a non-object") }
        case (.failure(let error), .success):
            check(error.message == "duplicate key" || error.message == "number out of range",
                  "EventDecoder accepts what JSONParser rejects: \(error)")
        case (.failure(let error), .failure(let rejection)):
            if error.message != "duplicate key" && error.message != "number out of range" {
                check(rejection.reason == .notJSON, "broken JSON (\(error)) rejected as \(rejection.reason)")
            }
        }
    } else if case .failure(let rejection) = decoded {
        check(rejection.reason == .tooLarge, "oversized payload rejected as \(rejection.reason)")
    } else {
        fatalError("EventDecoder accepted an oversized payload")
    }

    if case .success(let event) = decoded {
        checkInvariants(event)
        // The canonical form re-decodes to the same event.
        let again = Result { () throws(EventRejection) in try EventDecoder.decode(event.canonicalJSON(), origin: nil) }
        check(again == .success(event), "canonical JSON does not round-trip: \(again)")
    }

    // A POST body the API accepts is always accepted again when it comes back from Kafka.
    if case .success(let submitted) = Result(catching: { () throws(SubmissionError) in
        try EventSubmission.decode(bytes, eventID: "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", timestamp: 1_700_000_000_000)
    }) {
        checkInvariants(submitted)
        let fromKafka = Result { () throws(EventRejection) in try EventDecoder.decode(submitted.canonicalJSON(), origin: nil) }
        check(fromKafka == .success(submitted), "an accepted submission is rejected by the decoder: \(fromKafka)")
    }
    return 0
}

private func checkInvariants(_ event: ListenEvent) {
    check((1...EventDecoder.maxDuration).contains(event.duration), "duration \(event.duration)")
    check((0...event.duration).contains(event.listenPosition), "listen_position \(event.listenPosition)")
    check((0...5).contains(event.rating), "rating \(event.rating)")
    check(event.timestamp >= EventDecoder.minTimestamp && event.timestamp < EventDecoder.endTimestamp,
          "timestamp \(event.timestamp)")
    check(event.eventID.utf8.count == 36 && event.eventID == event.eventID.lowercased(), "event_id \(event.eventID)")
    for text in [event.userID, event.username, event.email, event.trackID, event.title, event.artist,
                 event.genre, event.platform, event.mood, event.city, event.country] {
        check(!text.isEmpty && text.utf8.count <= EventDecoder.maxStringBytes, "string field \(text.debugDescription)")
        // Trimmed by Unicode scalars, not grapheme clusters: a value may end in a space carrying a
        // combining mark (" \u{1035}"), since trimming the space would drop the mark with it.
        check(text.unicodeScalars.first?.properties.isWhitespace == false
              && text.unicodeScalars.last?.properties.isWhitespace == false, "untrimmed \(text.debugDescription)")
    }
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
