import Testing
@testable import MusicModel

@Suite struct EventWindowTests {
    func recount(_ window: EventWindow) -> FacetCounts {
        var f = FacetCounts()
        for stored in window.newestFirst() { f.add(stored.event) }
        return f
    }

    func sameCounts(_ a: FacetCounts, _ b: FacetCounts) -> Bool {
        a.total == b.total && Facet.allCases.allSatisfy { a.entries($0) == b.entries($0) }
    }

    @Test func emptyWindow() {
        let w = EventWindow(capacity: 3)
        #expect(w.count == 0 && w.capacity == 3 && w.lastSequence == 0 && w.facets.total == 0)
        #expect(Array(w.newestFirst()).isEmpty)
        #expect(Array(w.events(after: 0)).isEmpty)
        #expect(w.event(withSequence: 0) == nil && w.event(withSequence: 1) == nil)
    }

    @Test func sequencesOrderAndEviction() throws {
        var w = EventWindow(capacity: 3)
        var sim = Simulator(seed: 1)
        var events: [ListenEvent] = []
        for i in 0..<5 {
            let e = sim.next(timestamp: 1_700_000_000_000 + Int64(i))
            events.append(e)
            let stored = w.append(e)
            #expect(stored.sequence == UInt64(i + 1))
            #expect(stored.event == e)
            #expect(try EventDecoder.decode(stored.event.canonicalJSON(), origin: nil) == e)
        }
        #expect(w.count == 3 && w.lastSequence == 5)
        #expect(w.newestFirst().map(\.sequence) == [5, 4, 3])
        #expect(w.newestFirst().map(\.event) == [events[4], events[3], events[2]])
        #expect(w.event(withSequence: 1) == nil)
        #expect(w.event(withSequence: 2) == nil)
        #expect(w.event(withSequence: 3)?.event == events[2])
        #expect(w.event(withSequence: 5)?.event == events[4])
        #expect(w.event(withSequence: 6) == nil)
        #expect(w.event(withSequence: .max) == nil)
        #expect(w.events(after: 0).map(\.sequence) == [3, 4, 5])
        #expect(w.events(after: 3).map(\.sequence) == [4, 5])
        #expect(w.events(after: 5).map(\.sequence) == [])
        #expect(w.events(after: 99).map(\.sequence) == [])
        #expect(w.oldestSequence == 3)
    }

    /// A server numbers from its start time: every lookup must work the same above a base,
    /// partly filled and wrapped.
    @Test func sequencesStartAboveTheBaseAtTheFirstSlot() throws {
        let base: UInt64 = 1_764_190_000_123_456
        var w = EventWindow(capacity: 7, startingAbove: base)
        let first = base / 7 * 7 + 1
        #expect(first <= base + 1 && first + 7 > base + 1 && (first - 1) % 7 == 0)
        #expect(w.lastSequence == first - 1 && w.count == 0)
        #expect(Array(w.events(after: 0)).isEmpty && !w.contains(sequence: first))
        var sim = Simulator(seed: 3)
        var events: [ListenEvent] = []
        for i in 0..<4 {
            events.append(sim.next(timestamp: 1_700_000_000_000 + Int64(i)))
            #expect(w.append(events[i]).sequence == first + UInt64(i))
        }
        #expect(w.event(withSequence: first)?.event == events[0])
        #expect(w.events(after: first + 1).map(\.event) == [events[2], events[3]])
        for i in 4..<12 {
            events.append(sim.next(timestamp: 1_700_000_000_000 + Int64(i)))
            w.append(events[i])
        }
        #expect(w.lastSequence == first + 11 && w.oldestSequence == first + 5)
        #expect(w.newestFirst().map(\.event) == Array(events[5...].reversed()))
        #expect(w.events(after: 0).map(\.sequence) == Array((first + 5)...(first + 11)))
        #expect(w.event(withSequence: first + 4) == nil && w.event(withSequence: first + 8)?.event == events[8])
        var seen: [UInt64] = []
        w.forEachStored(through: first + 9) { sequence, _ in seen.append(sequence) }
        #expect(seen == Array((first + 5)...(first + 9)))
        #expect(!w.contains(sequence: 5) && w.contains(sequence: first + 11))
    }

    @Test func zeroCapacityIsOne() {
        var w = EventWindow(capacity: 0)
        w.append(sampleEvent())
        w.append(sampleEvent())
        #expect(w.capacity == 1 && w.count == 1 && w.lastSequence == 2)
        #expect(w.newestFirst().map(\.sequence) == [2])
    }

    @Test func facetsAlwaysEqualRecount() {
        var w = EventWindow(capacity: 100)
        var sim = Simulator(seed: 2024)
        for i in 0..<5_000 {
            w.append(sim.next(timestamp: 1_700_000_000_000 + Int64(i) * 250))
            if i % 97 == 0 || i >= 4_990 {
                #expect(sameCounts(w.facets, recount(w)), "after \(i + 1) appends")
            }
        }
        #expect(w.count == 100 && w.facets.total == 100 && w.lastSequence == 5_000)
        #expect(w.newestFirst().map(\.sequence) == Array((4_901...5_000).reversed()))
        #expect(w.event(withSequence: 4_900) == nil && w.event(withSequence: 4_901)?.sequence == 4_901)
    }

    @Test func newestFirstIsASnapshot() {
        var w = EventWindow(capacity: 4)
        for _ in 0..<4 { w.append(sampleEvent()) }
        let snapshot = w.newestFirst()
        w.append(sampleEvent())
        #expect(snapshot.map(\.sequence) == [4, 3, 2, 1])
    }
}

@Suite struct EventWindowLookupTests {
    @Test func containsFollowsEviction() {
        var w = EventWindow(capacity: 3)
        #expect(!w.contains(sequence: 0) && !w.contains(sequence: 1))
        for _ in 0..<5 { w.append(sampleEvent()) }
        #expect((0...7).map { w.contains(sequence: UInt64($0)) } == [false, false, false, true, true, true, false, false])
        #expect(!w.contains(sequence: .max))
    }

    @Test func eventsAfterStartsAtTheRequestedSequence() {
        var w = EventWindow(capacity: 1_000)
        for _ in 0..<2_500 { w.append(sampleEvent()) }
        #expect(w.events(after: 2_495).map(\.sequence) == [2_496, 2_497, 2_498, 2_499, 2_500])
        #expect(w.events(after: 1_000).map(\.sequence) == Array(1_501...2_500))
        #expect(w.events(after: 1_600).map(\.sequence) == Array(1_601...2_500))
    }

    @Test func forEachStoredHonoursTheBound() {
        var w = EventWindow(capacity: 7)
        for _ in 0..<12 { w.append(sampleEvent()) }  // holds 6...12, wrapped
        var seen: [UInt64] = []
        w.forEachStored(through: 10) { sequence, _ in seen.append(sequence) }
        #expect(seen == [6, 7, 8, 9, 10])
        seen = []
        w.forEachStored(through: .max) { sequence, _ in seen.append(sequence) }
        #expect(seen == Array(6...12))
        seen = []
        w.forEachStored(through: 11, newestFirst: true) { sequence, _ in seen.append(sequence) }
        #expect(seen == Array((6...11).reversed()))
        var stamps: [Int64] = []
        w.forEachStored(through: .max) { _, slot in stamps.append(slot.pointee.timestamp) }
        #expect(stamps == w.events(after: 0).map(\.event.timestamp))
        seen = []
        w.forEachStored(through: 3) { sequence, _ in seen.append(sequence) }
        #expect(seen.isEmpty)
        var partial = EventWindow(capacity: 7)
        for _ in 0..<4 { partial.append(sampleEvent()) }
        seen = []
        partial.forEachStored(through: 3) { sequence, _ in seen.append(sequence) }
        #expect(seen == [1, 2, 3])
        seen = []
        partial.forEachStored(through: 3, newestFirst: true) { sequence, _ in seen.append(sequence) }
        #expect(seen == [3, 2, 1])
    }
}

@Suite struct EventWindowDeduplicationTests {
    @Test func aRedeliveredEventIsNotHeldTwice() {
        var window = EventWindow(capacity: 3)
        let events = simulatedEvents(5, seed: 77)
        #expect(window.appendIfNew(events[0]) != nil)
        #expect(window.appendIfNew(events[0]) == nil)
        #expect(window.count == 1)
        #expect(window.contains(eventID: events[0].eventID))
    }

    @Test func anEvictedEventMayComeBack() {
        var window = EventWindow(capacity: 2)
        let events = simulatedEvents(3, seed: 78)
        for event in events { #expect(window.appendIfNew(event) != nil) }
        #expect(!window.contains(eventID: events[0].eventID))
        #expect(window.appendIfNew(events[0]) != nil)
        #expect(window.appendIfNew(events[2]) == nil)
        #expect(Set(window.newestFirst().map(\.event.eventID)) == [events[0].eventID, events[2].eventID])
    }
}

/// The window keeps where each event was read in Kafka, for the event's detail view.
@Suite struct EventWindowPositionTests {
    @Test func eachHeldEventKeepsItsPartitionAndOffsetUntilEvicted() throws {
        var window = EventWindow(capacity: 3)
        let events = simulatedEvents(5, seed: 81)
        for (i, event) in events.enumerated() {
            let position = KafkaPosition(partition: Int32(i % 2), offset: 1_000 + Int64(i))
            #expect(window.insertIfNew(event, from: position) != nil)
        }
        for (i, event) in events.enumerated().dropFirst(2) {
            let stored = try #require(window.event(withID: event.eventID))
            #expect(stored.event == event)
            #expect(stored.position == KafkaPosition(partition: Int32(i % 2), offset: 1_000 + Int64(i)))
            #expect(window.event(withSequence: stored.sequence)?.position == stored.position)
        }
        #expect(window.newestFirst().map { $0.position?.offset } == [1_004, 1_003, 1_002])
        // Evicted: gone from the id index too.
        #expect(window.event(withID: events[0].eventID) == nil && window.event(withID: events[1].eventID) == nil)
        #expect(window.event(withID: "not-an-id") == nil)
    }

    @Test func aUUIDIsFoundInEitherCase() throws {
        var window = EventWindow(capacity: 2)
        let event = simulatedEvents(1, seed: 82)[0]
        window.append(event, from: KafkaPosition(partition: 3, offset: 0))
        #expect(window.event(withID: event.eventID.uppercased())?.position == KafkaPosition(partition: 3, offset: 0))
    }

    @Test func aRedeliveryKeepsTheFirstPositionAndUnknownPositionsAreNil() throws {
        var window = EventWindow(capacity: 4)
        let events = simulatedEvents(2, seed: 83)
        #expect(window.insertIfNew(events[0], from: KafkaPosition(partition: 1, offset: 7)) != nil)
        #expect(window.insertIfNew(events[0], from: KafkaPosition(partition: 1, offset: 99)) == nil)
        #expect(window.event(withID: events[0].eventID)?.position == KafkaPosition(partition: 1, offset: 7))
        window.append(events[1])
        let unknown = try #require(window.event(withID: events[1].eventID))
        #expect(unknown.position == nil)
    }

    @Test func aSlotOfTheRingIsAHundredAndFourBytes() {
        // Eleven text ids, the id bits, the numbers and the position: the window's memory per
        // listen, against 288 bytes plus a heap event_id when it held `ListenEvent`s.
        #expect(MemoryLayout<WindowSlot>.stride <= 104, "\(MemoryLayout<WindowSlot>.stride)")
    }
}

@Suite struct ValueTableTests {
    @Test func idsOfValuesNoEventCarriesAreReused() {
        var table = ValueTable()
        let pop = table.retain("Pop")
        let rock = table.retain("Rock")
        #expect(table.retain("Pop") == pop)
        table.release(rock)
        #expect(table.id(of: "Rock") == nil)
        let jazz = table.retain("Jazz")
        #expect(jazz == rock, "the freed id is reused")
        #expect(table.idLimit == 2)
        table.release(pop)
        #expect(table.entries() == [FacetEntry(value: "Pop", count: 1), FacetEntry(value: "Jazz", count: 1)])
        // Releasing an id not in use changes nothing.
        table.release(pop)
        table.release(pop)
        table.release(99)
        #expect(table.entries().isEmpty == false && table.id(of: "Pop") == nil && table.id(of: "Jazz") == jazz)
    }

    @Test func equalTextInSeparateStringsSharesOneIdAndTheRecentCacheNeverConfusesValues() {
        // Long enough to live in heap objects; built at run time so the two are separate objects.
        let first = String(repeating: "Glimpse of Us ", count: 3)
        let second = String(repeating: "Glimpse of Us ", count: 3)
        #expect(StringBits(first) != StringBits(second), "two objects")
        #expect(StringBits(first) == StringBits(first))
        #expect(StringBits("Pop") == StringBits("P" + "op"), "short text is inline, so equal text has equal bits")
        var table = ValueTable()
        let id = table.retain(first)
        #expect(table.retain(second) == id)
        #expect(table.retain(first) == id)
        #expect(table.entries() == [FacetEntry(value: first, count: 3)])
        for _ in 0..<3 { table.release(id) }
        // The freed id goes to another value; the cache slot that pointed at it for `first`
        // must not answer for `first` any more.
        let other = String(repeating: "Smoke on the Water ", count: 3)
        #expect(table.retain(other) == id)
        let again = table.retain(first)
        #expect(again != id)
        #expect(Set(table.entries().map(\.value)) == [first, other])
        #expect(table.entries().allSatisfy { $0.count == 1 })
    }

    @Test func aNewValueInEveryEventCannotGrowTheTablesPastTheWindow() {
        var w = EventWindow(capacity: 50)
        var events = simulatedEvents(5_000, seed: 31)
        for i in events.indices {
            events[i].genre = "genre-\(i)"
            events[i].artist = "artist-\(i)"
        }
        for event in events { w.append(event) }
        #expect(w.facets.genres.idLimit <= 51)
        #expect(w.facets.artists.idLimit <= 51)
        #expect(w.facets.entries(.genre).count == 50)
        // The window's filtered scans still see exactly its events.
        let last = events[events.count - 1]
        #expect(FacetSummary.compute(over: w, filter: EventFilter(genres: [last.genre])).matching == 1)
        #expect(FacetSummary.compute(over: w, filter: EventFilter(genres: [events[0].genre])).matching == 0)
    }
}

/// `completeSince`: from where the window holds every listen it has read.
@Suite struct EventWindowCompletenessTests {
    @Test func completeSinceFollowsTheOldestAndTheNewestEvicted() {
        let events = simulatedEvents(6, seed: 3)
        var window = EventWindow(capacity: 3)
        #expect(window.completeSince == nil)
        var early = events[0]
        early.timestamp = 5_000
        window.append(early)
        #expect(window.completeSince == 5_000)
        var late = events[1]
        late.timestamp = 9_000
        window.append(late)
        for (i, t) in [(2, 6_000), (3, 7_000)] as [(Int, Int64)] {
            var event = events[i]
            event.timestamp = t
            window.append(event)
        }
        // 5,000 was evicted: the oldest held arrived with 9,000, after older ones it still holds.
        #expect(window.completeSince == 9_000)
        var next = events[4]
        next.timestamp = 8_000
        window.append(next)
        // 9,000 was evicted too: only from 9,001 on is nothing missing.
        #expect(window.newestEvictedTimestamp == 9_000)
        #expect(window.completeSince == 9_001)
    }
}
