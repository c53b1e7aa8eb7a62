import Testing
@testable import MusicModel

@Suite struct StreamPositionTests {
    @Test func anIdRoundTripsAndIsCompact() {
        let position = StreamPosition(log: 0xDEAD_BEEF, offsets: [0, -1, 1_234_567, 9_000_000_000])
        #expect(StreamPosition.parse(position.id) == .position(position))
        #expect(position.id.hasPrefix("p"))
        #expect(position.id.utf8.count < 40, "\(position.id)")
        // Before anything was read (paging cursors of a window fed in code carry one).
        #expect(StreamPosition.parse(StreamPosition(log: 7, offsets: []).id) == .position(StreamPosition(log: 7, offsets: [])))
    }

    @Test func numbersAreOldIdsAndEverythingElseIsNotAnId() {
        #expect(StreamPosition.parse("0") == .legacy)
        #expect(StreamPosition.parse("1764000000000123") == .legacy)
        for text in ["", "abc", "p", "p1.", "p1.x!", "pzzzzzzzz.1", "p1.-2", "p1.+5", "q1.2", "p1.2.", "-1",
                     "p1." + String(repeating: "1", count: 14)] {
            #expect(StreamPosition.parse(text) == .malformed, "\(text)")
        }
        let tooMany = "p1" + String(repeating: ".0", count: StreamPosition.maxPartitions + 1)
        #expect(StreamPosition.parse(tooMany) == .malformed)
    }

    @Test func coversAndMergeComparePartitionByPartition() {
        let a = StreamPosition(log: 1, offsets: [10, 5])
        let b = StreamPosition(log: 1, offsets: [9, 6, 0])
        #expect(!a.covers(b) && !b.covers(a))
        #expect(a.merged(with: b) == StreamPosition(log: 1, offsets: [10, 6, 0]))
        #expect(a.merged(with: b).covers(a) && a.merged(with: b).covers(b))
        #expect(!StreamPosition(log: 2, offsets: [10, 5]).covers(a))   // another log
        #expect(a.isAfter(partition: 0, offset: 11) && !a.isAfter(partition: 0, offset: 10))
        #expect(a.isAfter(partition: 7, offset: 0))   // a partition it has not read from
    }

    @Test func theWindowKnowsItsPositionAndWhatItStillHolds() {
        var window = EventWindow(capacity: 4)
        window.log = 3
        var simulator = Simulator(seed: 11)
        window.noteStart(partition: 0, offset: 100)
        window.noteStart(partition: 1, offset: 50)
        #expect(window.position == StreamPosition(log: 3, offsets: [99, 49]))
        // Reading began at 100 and 50: a subscriber who saw up to there resumes from the window.
        #expect(window.holdsEverything(after: StreamPosition(log: 3, offsets: [99, 49])))
        #expect(!window.holdsEverything(after: StreamPosition(log: 3, offsets: [98, 49])))
        let placed: [(Int32, Int64)] = [(0, 100), (1, 50), (0, 101), (0, 103), (1, 51), (1, 52)]
        var events: [ListenEvent] = []
        for (partition, offset) in placed {
            let event = simulator.next(timestamp: 1_764_000_000_000)
            events.append(event)
            window.append(event, from: KafkaPosition(partition: partition, offset: offset))
        }
        // Six in a window of four: (0, 100) and (1, 50) were evicted.
        #expect(window.readThrough == [103, 52])
        #expect(window.heldAfter == [100, 50])
        let after = StreamPosition(log: 3, offsets: [100, 50])
        #expect(window.holdsEverything(after: after))
        #expect(window.events(after: after) { _ in true }.map(\.event) == Array(events.suffix(4)))
        #expect(window.events(after: StreamPosition(log: 3, offsets: [101, 51])) { _ in true }.map(\.event) == [events[3], events[5]])
        // A filter applies to the replay.
        let user = events[5].userID
        #expect(window.events(after: after) { $0.userID == user }.map(\.event.userID).allSatisfy { $0 == user })
        // A duplicate is not filed but still counts as read.
        #expect(window.appendIfNew(events[5], from: KafkaPosition(partition: 1, offset: 60)) == nil)
        #expect(window.readThrough == [103, 60])
        // A position in a partition the window has not read from yet.
        window.noteStart(partition: 2, offset: 0)
        #expect(window.holdsEverything(after: StreamPosition(log: 3, offsets: [100, 50])))
        #expect(window.position.offsets == [103, 60, -1])
    }
}
