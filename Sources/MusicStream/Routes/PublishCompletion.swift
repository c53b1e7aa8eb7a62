import KafkaClient

/// A delivery report for an API-published event, tagged with the waiting request's ticket; it
/// travels from the producer's poll thread to the loop through a `HandOffQueue`.
struct PublishCompletion: Sendable {
    var ticket: UInt64
    var eventID: String
    var result: Result<DeliveryReport, KafkaError>
}
