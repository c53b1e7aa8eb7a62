import MusicModel

/// Events decoded by the consumer thread, handed to the loop thread as one unit. Unlike an
/// array, it lets the loop move each event out (`takeEach`), so nothing is copied on the way into
/// the window: a `ListenEvent` copy is a retain per string, and its release later another.
///
/// `@unchecked Sendable`: the consumer thread fills a batch and then gives it up through the
/// `HandOffQueue`, keeping no reference; from then on only the loop thread touches it.
final class EventBatch: @unchecked Sendable {
    private var storage: UnsafeMutablePointer<ListenEvent>
    private var capacity: Int
    /// Events before this index have been moved out.
    private var first = 0
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    convenience init(_ events: [ListenEvent]) {
        self.init(capacity: events.count)
        for event in events { append(event) }
    }

    deinit {
        (storage + first).deinitialize(count: count - first)
        storage.deallocate()
    }

    var isEmpty: Bool { count == first }

    func append(_ event: consuming ListenEvent) {
        if count == capacity { grow() }
        (storage + count).initialize(to: event)
        count += 1
    }

    /// Calls `body` with each event not yet taken, oldest first, moving it out of the batch.
    func takeEach(_ body: (consuming ListenEvent) -> Void) {
        while first < count {
            let event = (storage + first).move()
            first += 1
            body(event)
        }
    }

    private func grow() {
        let larger = UnsafeMutablePointer<ListenEvent>.allocate(capacity: capacity * 2)
        // Moving the events over is a plain memory copy: no retains, no releases.
        (larger + first).moveInitialize(from: storage + first, count: count - first)
        storage.deallocate()
        storage = larger
        capacity *= 2
    }
}
