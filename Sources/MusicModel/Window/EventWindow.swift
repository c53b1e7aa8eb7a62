/// Ring buffer of the latest `capacity` events plus the facet counts of exactly those events.
/// Sequence numbers are consecutive, so sequence s always lives at slot (s - 1) % capacity,
/// which makes lookup by SSE id O(1).
///
/// Events are held as `WindowSlot`s: every text value once in a table (the facets' in
/// `facets`, the rest in `details`), each slot with the ids. Scans read slots in place;
/// `StoredEvent`s (whole `ListenEvent`s) are built only for what an answer returns.
public struct EventWindow: Sendable {
    public let capacity: Int
    private var storage: [WindowSlot] = []
    /// Always equals the counts over the current contents.
    public private(set) var facets = FacetCounts()
    /// The other text fields' values, by id.
    private(set) var details = DetailTables()
    /// `firstSequence - 1` before the first append.
    public private(set) var lastSequence: UInt64
    /// The slot of each held event by event_id, so a redelivered record is recognised.
    private var slotByEventID: EventIDIndex
    /// By slot, the event_id text of held events whose id is not a lowercase UUID (events built
    /// in code): the slot keeps only bits, from which such text cannot be rebuilt.
    private var idTextBySlot: [Int: String] = [:]
    /// The newest timestamp of any event evicted so far (Int64.min before the first eviction):
    /// events arrive only roughly in time order, so the window is complete for a range only
    /// above this. One comparison per eviction.
    public private(set) var newestEvictedTimestamp = Int64.min
    /// The tag of the log the window reads (`StreamPosition.log`); 0 until the consumer says.
    public var log: UInt32 = 0
    /// By partition, the offset of the newest record read (filed, or skipped as a duplicate);
    /// -1 before any. With the log's tag this is the stream position of the window's state.
    public private(set) var readThrough: [Int64] = []
    /// By partition, the newest offset whose record the window may no longer hold: where its
    /// reading began, raised by each eviction. A subscriber positioned at or after it in every
    /// partition can be resumed from the window alone.
    public private(set) var heldAfter: [Int64] = []

    /// A capacity below 1 is treated as 1. Sequences start at `startingAbove + 1` rounded down
    /// to the next number of the form k × capacity + 1 (so that sequence s still lives at slot
    /// (s - 1) % capacity), and never below 1. A server passes a clock reading so that a
    /// restarted process numbers above anything the previous one handed out: a client resuming
    /// with an old Last-Event-ID is then told to reset instead of being replayed other events.
    public init(capacity: Int, startingAbove base: UInt64 = 0) {
        self.capacity = max(1, capacity)
        let stride = UInt64(self.capacity)
        self.lastSequence = base / stride * stride
        self.slotByEventID = EventIDIndex(expecting: self.capacity)
        storage.reserveCapacity(min(self.capacity, 1 << 16))
    }

    public var count: Int { storage.count }

    /// Evicts the oldest when full: the facet tables, the id index and one slot of the ring.
    /// `position` is where the event was read in Kafka, when it was.
    @discardableResult
    public mutating func append(_ event: ListenEvent, from position: KafkaPosition? = nil) -> StoredEvent {
        let (id, canonical) = EventIDKey.parse(event.eventID)
        file(event, id: id, canonicalID: canonical, position: position)
        return stored(atSlot: slot(of: lastSequence), sequence: lastSequence)
    }

    /// Appends unless an event with the same event_id is already held: a record delivered again
    /// (after a broker outage, a rewind, a producer retry) must not show twice. Nil for such a
    /// duplicate.
    public mutating func appendIfNew(_ event: ListenEvent, from position: KafkaPosition? = nil) -> StoredEvent? {
        guard insertIfNew(event, from: position) != nil else { return nil }
        return stored(atSlot: slot(of: lastSequence), sequence: lastSequence)
    }

    /// `appendIfNew` for the ingest path: the event is moved in and nothing is copied back out
    /// (a `StoredEvent` copy costs a retain and a release per string). Returns the new sequence
    /// number, or nil for a duplicate (the copy already held keeps its own position).
    public mutating func insertIfNew(_ event: consuming ListenEvent, from position: KafkaPosition? = nil) -> UInt64? {
        let (id, canonical) = EventIDKey.parse(event.eventID)
        guard heldSlot(of: id) == nil else {
            if let position { noteRead(position) }   // read all the same: the position moves on
            return nil
        }
        file(event, id: id, canonicalID: canonical, position: position)
        return lastSequence
    }

    private func slot(of sequence: UInt64) -> Int { Int((sequence - 1) % UInt64(capacity)) }

    /// The sequence of the event in `slot` (a slot in use).
    private func sequence(ofSlot slot: Int) -> UInt64 {
        let newest = self.slot(of: lastSequence)
        return lastSequence - UInt64((newest - slot + capacity) % capacity)
    }

    private func heldSlot(of id: EventIDKey) -> Int? {
        storage.withUnsafeBufferPointer { slotByEventID.slot(of: id, in: $0) }
    }

    /// The event in `slot` as a `ListenEvent`, its text taken from the tables.
    private func stored(atSlot slot: Int, sequence: UInt64) -> StoredEvent {
        let held = storage[slot]
        let eventID = held.textHeld ? (idTextBySlot[slot] ?? "") : UUIDText.string(bits: (held.idHigh, held.idLow))
        let event = ListenEvent(
            eventID: eventID,
            userID: details.userIDs.values[Int(held.detailKeys.userID)],
            username: details.usernames.values[Int(held.detailKeys.username)],
            email: details.emails.values[Int(held.detailKeys.email)],
            trackID: details.trackIDs.values[Int(held.detailKeys.trackID)],
            title: details.titles.values[Int(held.detailKeys.title)],
            artist: facets.artists.values[Int(held.facetKeys.artist)],
            genre: facets.genres.values[Int(held.facetKeys.genre)],
            platform: facets.platforms.values[Int(held.facetKeys.platform)],
            mood: facets.moods.values[Int(held.facetKeys.mood)],
            city: details.cities.values[Int(held.detailKeys.city)],
            country: facets.countries.values[Int(held.facetKeys.country)],
            duration: Int(truncatingIfNeeded: held.duration),
            listenPosition: Int(truncatingIfNeeded: held.listenPosition),
            rating: Int(held.rating),
            timestamp: held.timestamp)
        return StoredEvent(sequence: sequence, event: event, partition: held.partition, offset: held.offset)
    }

    /// The consumer starts reading `partition` at `offset`: what lies before was never read, so
    /// the window's position there is just before it, and so is what it holds.
    public mutating func noteStart(partition: Int32, offset: Int64) {
        guard partition >= 0 else { return }
        grow(toPartition: partition)
        readThrough[Int(partition)] = max(readThrough[Int(partition)], offset - 1)
        heldAfter[Int(partition)] = max(heldAfter[Int(partition)], offset - 1)
    }

    private mutating func noteRead(_ position: KafkaPosition) {
        guard position.partition >= 0 else { return }
        grow(toPartition: position.partition)
        let partition = Int(position.partition)
        if position.offset > readThrough[partition] { readThrough[partition] = position.offset }
    }

    private mutating func grow(toPartition partition: Int32) {
        let needed = Int(partition) + 1
        guard readThrough.count < needed else { return }
        readThrough += repeatElement(-1, count: needed - readThrough.count)
        heldAfter += repeatElement(-1, count: needed - heldAfter.count)
    }

    /// The window's position in its log: everything read so far.
    public var position: StreamPosition {
        StreamPosition(log: log, offsets: readThrough)
    }

    /// Whether every record after `position` that this window read is still held, so that a
    /// replay from the window alone misses nothing.
    public func holdsEverything(after position: StreamPosition) -> Bool {
        for (partition, after) in heldAfter.enumerated() where after > position.offset(of: Int32(partition)) {
            return false
        }
        return true
    }

    /// What the window read after `position` but no longer holds: by partition, the offsets
    /// from just after the position to the newest gone (empty when `holdsEverything`).
    public func missing(after position: StreamPosition) -> [Int32: ClosedRange<Int64>] {
        var ranges: [Int32: ClosedRange<Int64>] = [:]
        for (partition, after) in heldAfter.enumerated() {
            let seen = position.offset(of: Int32(partition))
            if after > seen { ranges[Int32(partition)] = (seen + 1)...after }
        }
        return ranges
    }

    /// The held events read after `position`, oldest first (window order), passing `include`.
    /// Events appended without a Kafka position are never part of a replay.
    public func events(after position: StreamPosition, where include: (borrowing ListenEvent) -> Bool) -> [StoredEvent] {
        var found: [StoredEvent] = []
        var sequence = oldestSequence
        while sequence <= lastSequence {
            let slot = slot(of: sequence)
            if storage[slot].isRead(after: position) {
                let stored = stored(atSlot: slot, sequence: sequence)
                if include(stored.event) { found.append(stored) }
            }
            sequence += 1
        }
        return found
    }

    private mutating func file(_ event: consuming ListenEvent, id: EventIDKey, canonicalID: Bool, position: KafkaPosition?) {
        if let position { noteRead(position) }
        lastSequence += 1
        let slot = slot(of: lastSequence)
        if storage.count == capacity { evict(slot) }
        let (facetKeys, detailKeys) = withUnsafePointer(to: &event) { (facets.insert(at: $0), details.retain($0)) }
        // Only a lowercase UUID is rebuilt from its bits exactly (the decoder stores no other).
        let textHeld = !canonicalID
        let record = WindowSlot(
            timestamp: event.timestamp, offset: position?.offset ?? -1, idHigh: id.high, idLow: id.low,
            duration: Int64(event.duration), listenPosition: Int64(event.listenPosition),
            partition: position?.partition ?? -1, rating: Int32(clamping: event.rating),
            facetKeys: facetKeys, detailKeys: detailKeys, hashedID: id.hashed, textHeld: textHeld)
        if textHeld { idTextBySlot[slot] = event.eventID }
        if storage.count < capacity {
            storage.append(record)
        } else {
            storage[slot] = record
        }
        storage.withUnsafeBufferPointer { slotByEventID.set(id, slot: slot, in: $0) }
    }

    /// Uncounts the oldest event, in `slot`, before its slot is reused.
    private mutating func evict(_ slot: Int) {
        let evicted = storage[slot]
        facets.remove(keys: evicted.facetKeys, rating: Int(evicted.rating), completed: evicted.isCompleted)
        details.release(evicted.detailKeys)
        if evicted.timestamp > newestEvictedTimestamp { newestEvictedTimestamp = evicted.timestamp }
        let partition = Int(evicted.partition)
        if partition >= 0, partition < heldAfter.count, evicted.offset > heldAfter[partition] {
            heldAfter[partition] = evicted.offset
        }
        slotByEventID.remove(evicted.id, slot: slot)
        if evicted.textHeld { idTextBySlot[slot] = nil }
    }

    /// Whether an event with this event_id is in the window.
    public func contains(eventID: String) -> Bool { heldSlot(of: EventIDKey(eventID)) != nil }

    /// The held event with this event_id (a UUID matches in either case), nil when it was
    /// evicted or never seen. O(1): one lookup in the duplicate index.
    public func event(withID eventID: String) -> StoredEvent? {
        guard let slot = heldSlot(of: EventIDKey(eventID)) else { return nil }
        return stored(atSlot: slot, sequence: sequence(ofSlot: slot))
    }

    /// Newest to oldest; shares the buffer instead of copying it.
    public func newestFirst() -> some Sequence<StoredEvent> {
        Walk(window: self, cursor: lastSequence, stop: oldestSequence, step: -1)
    }

    /// Oldest to newest, only events with a sequence greater than `sequence`: replay for an SSE
    /// client reconnecting with Last-Event-ID. O(k) in the k events returned: sequence s is at
    /// slot (s - 1) % capacity, so the walk starts right there.
    public func events(after sequence: UInt64) -> some Sequence<StoredEvent> {
        let first = max(sequence &+ 1, oldestSequence)
        if sequence >= lastSequence || count == 0 {
            return Walk(window: self, cursor: 1, stop: 0, step: 1)
        }
        return Walk(window: self, cursor: first, stop: lastSequence, step: 1)
    }

    /// O(1); nil when evicted or never assigned.
    public func event(withSequence sequence: UInt64) -> StoredEvent? {
        guard sequence >= 1, sequence <= lastSequence, sequence >= oldestSequence else { return nil }
        return stored(atSlot: slot(of: sequence), sequence: sequence)
    }

    /// Sequence of the oldest stored event (lastSequence + 1 when empty).
    public var oldestSequence: UInt64 {
        lastSequence - UInt64(storage.count) + 1
    }

    /// The earliest `since` the window answers completely: every listen this window has seen
    /// with a timestamp at or after it is still held. It is the later of the oldest held
    /// event's timestamp (the first to arrive: listens from before it, e.g. before a restart's
    /// refill, were never read into this window) and just after the newest evicted timestamp
    /// (arrival order is only roughly time order). nil when the window is empty. O(1).
    public var completeSince: Int64? {
        guard !storage.isEmpty else { return nil }
        let oldest = storage[slot(of: oldestSequence)].timestamp
        return newestEvictedTimestamp == Int64.min ? oldest : max(oldest, newestEvictedTimestamp &+ 1)
    }

    /// Whether the event with this sequence number is still in the window.
    public func contains(sequence: UInt64) -> Bool {
        sequence >= 1 && sequence <= lastSequence && sequence >= oldestSequence
    }

    /// Calls `body` for every held event with a sequence number up to `bound`, oldest first
    /// (or newest first with `newestFirst`), with a pointer to its slot where it lies in the
    /// ring's buffer, valid only during the call. Request-time scans (paging, facets, timeline)
    /// use this with a `SlotSubject`: nothing is copied or built per event.
    @inline(__always)
    func forEachStored(
        through bound: UInt64, newestFirst: Bool = false,
        _ body: (_ sequence: UInt64, _ slot: UnsafePointer<WindowSlot>) -> Void
    ) {
        let last = min(bound, lastSequence)
        let first = oldestSequence
        guard !storage.isEmpty, last >= first else { return }
        let count = Int(last - first + 1)
        let cap = UInt64(capacity)
        storage.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var sequence = newestFirst ? last : first
            var slot = Int((sequence - 1) % cap)
            for _ in 0..<count {
                body(sequence, base + slot)
                if newestFirst {
                    sequence -= 1
                    slot = slot == 0 ? buffer.count - 1 : slot - 1
                } else {
                    sequence += 1
                    slot += 1
                    if slot == buffer.count { slot = 0 }
                }
            }
        }
    }

    /// How many held events match `filter`: one scan of the slots, nothing built.
    public func count(matching filter: EventFilter) -> Int {
        if filter.isEmpty { return count }
        var matching = 0
        let resolved = resolve(filter)
        forEachStored(through: lastSequence) { _, slot in
            if resolved.matches(slot) { matching += 1 }
        }
        return matching
    }

    /// The values by id of the table behind a text sort field; empty for a number field.
    func sortTexts(_ field: SortField) -> [String] {
        switch field {
        case .username: details.usernames.values
        case .title: details.titles.values
        case .artist: facets.artists.values
        case .genre: facets.genres.values
        case .platform: facets.platforms.values
        case .city: details.cities.values
        case .country: facets.countries.values
        case .mood: facets.moods.values
        case .timestamp, .duration, .listen_position, .rating, .percent_listened: []
        }
    }

    /// `filter` resolved against this window's value tables, for a scan of it.
    func resolve(_ filter: EventFilter) -> ResolvedFilter {
        ResolvedFilter(filter, facets: facets, details: details)
    }

    /// Walks sequence numbers from `cursor` to `stop` inclusive in direction `step`, building
    /// each event as it goes.
    private struct Walk: Sequence, IteratorProtocol {
        let window: EventWindow
        var cursor: UInt64
        let stop: UInt64
        let step: Int

        mutating func next() -> StoredEvent? {
            if step < 0 {
                guard cursor >= stop, cursor >= 1 else { return nil }
                defer { cursor -= 1 }
                return window.event(withSequence: cursor)
            }
            guard cursor <= stop, cursor >= 1 else { return nil }
            defer { cursor += 1 }
            return window.event(withSequence: cursor)
        }
    }
}
