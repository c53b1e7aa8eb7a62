import MusicModel

/// Events decoded by the consumer thread, handed to the loop thread as one unit. Unlike an
/// array, it lets the loop move each event out (`takeEach`), so nothing is copied on the way into
/// the window: a `ListenEvent` copy is a retain per string, and its release later another.
///
/// Each event travels with where it was read in Kafka (`KafkaPosition`, in a parallel buffer of
/// plain values), which the window keeps for the event's detail view.
///
/// `@unchecked Sendable`: the consumer thread fills a batch and then gives it up through the
/// `EventBatchHandOff`, keeping no reference; from then on only the loop thread touches it,
/// until it gives the emptied batch back (`reset`) and the consumer thread fills it again.
final class EventBatch: @unchecked Sendable {
    private var storage: UnsafeMutablePointer<ListenEvent>
    /// `positions[i]` belongs to `storage[i]`; nil for events that did not come from Kafka.
    private var positions: UnsafeMutablePointer<KafkaPosition?>
    private var capacity: Int
    /// Events before this index have been moved out.
    private var first = 0
    private(set) var count = 0
    /// Set on the batch sent when partitions are assigned (it may hold no events): which log
    /// they are read from and where each partition's reading starts, for stream positions.
    var assignment: Assignment?

    /// The log's tag and, by partition, the first offset the consumer reads.
    struct Assignment {
        var log: UInt32
        var starts: [Int32: Int64]
    }

    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
        positions = .allocate(capacity: self.capacity)
    }

    convenience init(_ events: [ListenEvent]) {
        self.init(capacity: events.count)
        for event in events { append(event) }
    }

    deinit {
        (storage + first).deinitialize(count: count - first)
        storage.deallocate()
        positions.deallocate()   // trivial values: nothing to deinitialise
    }

    var isEmpty: Bool { count == first }

    /// Makes a batch whose events were all taken ready to fill again, keeping its storage.
    func reset() {
        precondition(isEmpty, "a batch is reused only once every event was taken")
        first = 0
        count = 0
        assignment = nil
    }

    func append(_ event: consuming ListenEvent, from position: KafkaPosition? = nil) {
        if count == capacity { grow() }
        (storage + count).initialize(to: event)
        (positions + count).initialize(to: position)
        count += 1
    }

    /// Appends the event `initialize` writes straight into the next slot; when it throws
    /// instead (leaving the slot uninitialised), nothing is appended.
    func append(
        from position: KafkaPosition?, _ initialize: (UnsafeMutablePointer<ListenEvent>) throws(EventRejection) -> Void
    ) throws(EventRejection) {
        if count == capacity { grow() }
        try initialize(storage + count)
        (positions + count).initialize(to: position)
        count += 1
    }

    /// Calls `body` with each event not yet taken and its Kafka position, oldest first, moving
    /// the event out of the batch.
    func takeEach(_ body: (consuming ListenEvent, KafkaPosition?) -> Void) {
        while first < count {
            let event = (storage + first).move()
            let position = positions[first]
            first += 1
            body(event, position)
        }
    }

    private func grow() {
        let larger = UnsafeMutablePointer<ListenEvent>.allocate(capacity: capacity * 2)
        // Moving the events over is a plain memory copy: no retains, no releases.
        (larger + first).moveInitialize(from: storage + first, count: count - first)
        storage.deallocate()
        storage = larger
        let largerPositions = UnsafeMutablePointer<KafkaPosition?>.allocate(capacity: capacity * 2)
        (largerPositions + first).moveInitialize(from: positions + first, count: count - first)
        positions.deallocate()
        positions = largerPositions
        capacity *= 2
    }
}
