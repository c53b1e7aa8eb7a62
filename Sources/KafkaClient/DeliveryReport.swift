/// Where the broker stored a produced message.
public struct DeliveryReport: Sendable, Hashable {
    public var partition: Int32
    public var offset: Int64
}

/// Per-message completion handed through librdkafka as the message opaque.
final class DeliveryCallbackBox: Sendable {
    let callback: @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    init(_ callback: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) { self.callback = callback }
}
