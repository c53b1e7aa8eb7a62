import Synchronization
import KafkaClient

/// Carries delivery reports for API-published events from the producer's poll thread to the HTTP
/// loop, which owns the waiting responses. Each report is tagged with the request's ticket.
final class PublishCompletions: Sendable {
    struct Completion: Sendable {
        var ticket: UInt64
        var eventID: String
        var result: Result<DeliveryReport, KafkaError>
    }

    private let pending = Mutex<[Completion]>([])

    /// Queues a completion; returns true when the loop needs a wake-up.
    func push(_ completion: Completion) -> Bool {
        pending.withLock { queue in
            queue.append(completion)
            return queue.count == 1
        }
    }

    func takeAll() -> [Completion] {
        pending.withLock { queue in
            var taken: [Completion] = []
            swap(&taken, &queue)
            return taken
        }
    }
}
