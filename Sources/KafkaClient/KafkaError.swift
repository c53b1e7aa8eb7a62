/// A failure reported by librdkafka or by this wrapper, with librdkafka's own wording kept so an
/// operator can search for it.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// librdkafka's numeric error code (`rd_kafka_resp_err_t`), or 0 when the wrapper raised it.
    public var code: Int32
    public var message: String

    public init(code: Int32 = 0, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
