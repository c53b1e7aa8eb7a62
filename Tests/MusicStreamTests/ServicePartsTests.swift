import Foundation
import Testing
import MusicModel
@testable import MusicStream

@Suite struct ServicePartsTests {
    @Test func sseFrameCarriesSequenceEventNameAndTheStoredJSON() {
        var window = EventWindow(capacity: 4)
        var simulator = Simulator(seed: 1)
        let stored = window.append(simulator.next(timestamp: 1_764_000_000_000))
        let frame = String(decoding: SSEHub.frame(for: stored), as: UTF8.self)
        #expect(frame == "id: \(stored.sequence)\nevent: listen\ndata: \(String(decoding: stored.json, as: UTF8.self))\n\n")
        #expect(!String(decoding: stored.json, as: UTF8.self).contains("\n"))
    }

    @Test func ingestQueueHandsOverBatchesInOrderAndAsksForOneWakeUp() {
        let queue = HandOffQueue<ListenEvent>()
        var simulator = Simulator(seed: 2)
        let first = (0..<3).map { _ in simulator.next(timestamp: 1_764_000_000_000) }
        let second = (0..<2).map { _ in simulator.next(timestamp: 1_764_000_000_000) }
        #expect(queue.push(contentsOf: first))
        #expect(!queue.push(contentsOf: second))
        #expect(queue.takeAll().map(\.eventID) == (first + second).map(\.eventID))
        #expect(queue.takeAll().isEmpty)
        #expect(queue.push(contentsOf: first))
    }

    @Test func liveWindowEvictsOldestAndKeepsFacetsExact() {
        let live = LiveWindow(capacity: 10, hub: SSEHub(maxPendingBytes: 1024))
        var simulator = Simulator(seed: 3)
        let events = (0..<25).map { simulator.next(timestamp: 1_764_000_000_000 + Int64($0)) }
        live.ingest(events)
        #expect(live.window.count == 10)
        #expect(live.window.newestFirst().map(\.event.eventID) == events.suffix(10).reversed().map(\.eventID))
        var recount = FacetCounts()
        for event in events.suffix(10) { recount.add(event) }
        for facet in Facet.allCases { #expect(live.window.facets.entries(facet) == recount.entries(facet)) }
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
}
