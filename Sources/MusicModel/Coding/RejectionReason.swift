/// Why an incoming message was not accepted; the raw values are the labels used in metrics and logs.
public enum RejectionReason: String, Sendable, CaseIterable {
    /// Payload larger than 64 KiB.
    case tooLarge = "too_large"
    /// Not parseable JSON: syntax, invalid UTF-8, lone surrogates, trailing garbage, too deep.
    case notJSON = "not_json"
    /// Valid JSON whose top level is not an object.
    case notObject = "not_object"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    /// Rating outside 0-5, position beyond duration, negative values, duration <= 0, absurd timestamps.
    case outOfRange = "out_of_range"
    /// A string field longer than 256 UTF-8 bytes.
    case stringTooLong = "string_too_long"
    /// Empty required string, event_id not a UUID, duplicate keys.
    case invalidValue = "invalid_value"
    /// Dated further ahead of its Kafka record than the allowed clock skew (`FutureDateBound`).
    case inFuture = "in_future"
}
