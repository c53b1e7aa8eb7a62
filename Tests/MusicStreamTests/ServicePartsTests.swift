import Foundation
import Testing
import EventHTTP
import MusicModel
@testable import MusicStream

@Suite struct ServicePartsTests {
    @Test func sseFrameCarriesTheEventNameAndTheStoredJSONAndAWriteEndsWithThePosition() {
        var window = EventWindow(capacity: 4)
        var simulator = Simulator(seed: 1)
        let stored = window.append(simulator.next(timestamp: 1_764_000_000_000))
        let frame = String(decoding: SSEHub.frame(for: stored), as: UTF8.self)
        let json = String(decoding: stored.event.canonicalJSON(), as: UTF8.self)
        #expect(frame == "event: listen\ndata: \(json)\n\n")
        #expect(!json.contains("\n"))
        let position = StreamPosition(log: 5, offsets: [7, 8])
        let written = String(decoding: SSEHub.withID(SSEHub.frame(for: stored) + SSEHub.frame(for: stored), position), as: UTF8.self)
        #expect(written == "event: listen\ndata: \(json)\n\nevent: listen\ndata: \(json)\nid: \(position.id)\n\n")
        #expect(String(decoding: SSEHub.greeting(at: position), as: UTF8.self) == "retry: 2000\nid: \(position.id)\n: connected\n\n")
    }

    @Test func theAssignmentBatchSetsTheLogAndWhereEachPartitionStarts() {
        let live = LiveWindow(capacity: 10, hub: SSEHub(maxPendingBytes: 1024))
        #expect(live.knownPosition == nil)
        let assignment = EventBatch(capacity: 1)
        assignment.assignment = .init(log: 42, starts: [0: 10, 1: 0])
        var simulator = Simulator(seed: 9)
        let batch = EventBatch(capacity: 1)
        batch.append(simulator.next(timestamp: 1_764_000_000_000), from: KafkaPosition(partition: 1, offset: 0))
        live.ingest(batches: [assignment, batch])
        #expect(live.knownPosition == StreamPosition(log: 42, offsets: [9, 0]))
    }

    @Test func ingestQueueHandsOverBatchesInOrderAndAsksForOneWakeUp() {
        let queue = HandOffQueue<EventBatch>()
        var simulator = Simulator(seed: 2)
        let first = (0..<3).map { _ in simulator.next(timestamp: 1_764_000_000_000) }
        let second = (0..<2).map { _ in simulator.next(timestamp: 1_764_000_000_000) }
        #expect(queue.push(EventBatch(first)))
        #expect(!queue.push(EventBatch(second)))
        var taken: [String] = []
        for batch in queue.takeAll() { batch.takeEach { event, _ in taken.append(event.eventID) } }
        #expect(taken == (first + second).map(\.eventID))
        #expect(queue.takeAll().isEmpty)
        #expect(queue.push(EventBatch(first)))
    }

    @Test func emptiedBatchesComeBackToBeFilledAgainAndOnlyThose() {
        let handOff = EventBatchHandOff(spareLimit: 2)
        var simulator = Simulator(seed: 3)
        // The test keeps no reference to the batches it pushes, as the consumer thread does not.
        var first: EventBatch? = handOff.emptyBatch()
        for _ in 0..<100 { first?.append(simulator.next(timestamp: 1_764_000_000_000)) }
        let firstID = first.map(ObjectIdentifier.init)
        #expect(handOff.push(first!))
        first = nil
        var second: EventBatch? = handOff.emptyBatch()
        second?.append(simulator.next(timestamp: 1_764_000_000_000))
        #expect(!handOff.push(second!))
        second = nil
        var taken = 0
        handOff.deliver { batches in
            #expect(batches.count == 2 && ObjectIdentifier(batches[0]) == firstID)
            // The second keeps its event: it must not be filled again.
            batches[0].takeEach { _, _ in taken += 1 }
        }
        #expect(taken == 100)
        #expect(handOff.spareCount == 1)
        var reused: EventBatch? = handOff.emptyBatch()
        #expect(reused.map(ObjectIdentifier.init) == firstID && reused?.isEmpty == true && reused?.count == 0)
        #expect(handOff.spareCount == 0)
        // One someone still holds after the loop is done with it is not handed out again either.
        reused?.assignment = .init(log: 1, starts: [0: 0])
        #expect(handOff.push(reused!))
        reused = nil
        var held: [EventBatch] = []
        handOff.deliver { held = $0 }
        #expect(handOff.spareCount == 0 && held.count == 1)
        held = []
        // Emptied and let go: kept, with its assignment cleared, up to the limit.
        for _ in 0..<3 {
            let announcing = EventBatch(capacity: 1)
            announcing.assignment = .init(log: 1, starts: [0: 0])
            _ = handOff.push(announcing)
        }
        handOff.deliver { _ in }
        #expect(handOff.spareCount == 2)
        #expect(handOff.emptyBatch().assignment == nil)
        handOff.dropSpares()
        #expect(handOff.spareCount == 0)
    }

    @Test func aDecodedEventIsWrittenIntoItsSlotOrNotAppendedAtAll() {
        let batch = EventBatch(capacity: 1)
        let good = Array(#"{"event_id":"3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f","user_id":"u","username":"n","email":"e","track_id":"t","title":"x","artist":"a","genre":"g","platform":"p","mood":"m","city":"c","country":"k","duration":10,"listen_position":5,"rating":3,"timestamp":1764000000000}"#.utf8)
        for (bytes, latest) in [(good, Int64.max), (Array("{".utf8), .max), (good, 1_763_999_999_999), (good, .max)] {
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            defer { raw.deallocate() }
            raw.copyBytes(from: bytes)
            try? batch.append(from: KafkaPosition(partition: 0, offset: 1)) { slot throws(EventRejection) in
                try EventDecoder.decode(UnsafeRawBufferPointer(raw), origin: nil, latest: latest, into: slot)
            }
        }
        var ids: [String] = []
        batch.takeEach { event, position in
            ids.append(event.eventID)
            #expect(position == KafkaPosition(partition: 0, offset: 1))
        }
        #expect(ids == ["3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f"])
    }

    @Test func aBatchGrowsMovesEventsOutOnceAndFreesWhatWasNotTaken() {
        var simulator = Simulator(seed: 5)
        let events = (0..<200).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0)) }
        let batch = EventBatch(capacity: 1)
        for event in events { batch.append(event) }
        #expect(batch.count == 200 && !batch.isEmpty)
        var taken: [ListenEvent] = []
        batch.takeEach { event, _ in taken.append(event) }
        #expect(taken == events)
        #expect(batch.isEmpty)
        batch.takeEach { _, _ in Issue.record("an event was handed out twice") }
        // A batch dropped with events still in it deinitialises them.
        let dropped = EventBatch(Array(events.prefix(10)))
        #expect(dropped.count == 10)
    }

    @Test func positionsTravelWithTheirEventsThroughABatchIntoTheWindow() throws {
        var simulator = Simulator(seed: 6)
        let events = (0..<70).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0)) }
        let batch = EventBatch(capacity: 1)   // grows several times on the way
        for (i, event) in events.enumerated() {
            batch.append(event, from: i == 5 ? nil : KafkaPosition(partition: Int32(i % 3), offset: Int64(500 + i)))
        }
        let live = LiveWindow(capacity: 100, hub: SSEHub(maxPendingBytes: 1024))
        live.ingest(batches: [batch])
        for (i, event) in events.enumerated() {
            let stored = try #require(live.window.event(withID: event.eventID))
            let expected = i == 5 ? nil : KafkaPosition(partition: Int32(i % 3), offset: Int64(500 + i))
            #expect(stored.position == expected, "event \(i)")
        }
    }

    @Test func liveWindowEvictsOldestAndKeepsFacetsExact() {
        let live = LiveWindow(capacity: 10, hub: SSEHub(maxPendingBytes: 1024))
        var simulator = Simulator(seed: 3)
        let events = (0..<25).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0)) }
        live.ingest(batches: [EventBatch(events)])
        #expect(live.window.count == 10)
        #expect(live.window.newestFirst().map(\.event.eventID) == events.suffix(10).reversed().map(\.eventID))
        var recount = FacetCounts()
        for event in events.suffix(10) { recount.add(event) }
        for facet in Facet.allCases { #expect(live.window.facets.entries(facet) == recount.entries(facet)) }
    }

    @Test func batchesAreFiledInOrderWithDuplicatesSkippedAndTheCallersCopiesIntact() {
        let live = LiveWindow(capacity: 100, hub: SSEHub(maxPendingBytes: 1024))
        var simulator = Simulator(seed: 4)
        let first = (0..<5).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0)) }
        let second = (0..<4).map { simulator.next(timestamp: 1_764_000_001_000 + Int64($0)) }
        live.ingest(batches: [EventBatch(first), EventBatch(second + [first[2]])])
        #expect(live.window.count == 9)
        #expect(live.duplicatesSkipped == 1)
        #expect(live.window.events(after: 0).map(\.event) == first + second)
        // The events are moved out of the batches' own storage; arrays shared with the caller
        // are copied first, so the caller's values are untouched.
        #expect(first.allSatisfy { !$0.eventID.isEmpty })
        #expect(live.window.newestFirst().allSatisfy { $0.event.canonicalJSON().count > 100 })
    }

    @Test func ingestStatsCountByReason() {
        let stats = IngestStats()
        stats.recordAccepted(5)
        stats.recordRejected(.notJSON)
        stats.recordRejected(.notJSON)
        stats.recordRejected(.outOfRange)
        #expect(stats.consumed == 5)
        #expect(stats.rejected == 3)
        #expect(stats.rejectedByReasonSnapshot == [.notJSON: 2, .outOfRange: 1])
    }

    @Test func responseCacheHoldsAnswersOnlyForOneWindowVersion() throws {
        let cache = ResponseCache(maxEntries: 2, maxBytes: 1 << 10)
        var computed = 0
        func ok(_ text: String) -> () throws(ProblemDetails) -> HTTPResponse {
            { () throws(ProblemDetails) in computed += 1; return .json(Array(text.utf8)) }
        }
        #expect(try cache.response(for: "/a?x", version: 1, compute: ok("one")).body == Array("one".utf8))
        #expect(try cache.response(for: "/a?x", version: 1, compute: ok("other")).body == Array("one".utf8))
        #expect(computed == 1)
        #expect(try cache.response(for: "/a?x", version: 2, compute: ok("two")).body == Array("two".utf8))
        #expect(computed == 2)
        // Errors are answered but not kept.
        for _ in 0..<2 {
            #expect(throws: ProblemDetails.self) {
                try cache.response(for: "/bad", version: 2) { () throws(ProblemDetails) -> HTTPResponse in
                    computed += 1
                    throw .badParameter("x", "nope")
                }
            }
        }
        #expect(computed == 4)
        // Bounded: a third key (maxEntries 2) or one past maxBytes is computed every time.
        _ = try cache.response(for: "/b", version: 2, compute: ok("b"))
        _ = try cache.response(for: "/c", version: 2, compute: ok("c"))
        _ = try cache.response(for: "/c", version: 2, compute: ok("c"))
        #expect(computed == 7)
        let big = String(repeating: "x", count: 2 << 10)
        _ = try cache.response(for: "/big", version: 3, compute: ok(big))
        _ = try cache.response(for: "/big", version: 3, compute: ok(big))
        #expect(computed == 9)
        #expect(cache.hits == 1)
    }
}
