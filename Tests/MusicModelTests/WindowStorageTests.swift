import Testing
@testable import MusicModel

/// The window holds listens as slots (text as ids, the event_id as bits); these check that what
/// comes back out is exactly what went in, and that the id index and the tables keep up with
/// eviction.
@Suite struct WindowStorageTests {
    /// Events whose ids and numbers the slot cannot take for granted: non-UUID ids, UUIDs in
    /// upper case, numbers far beyond what the decoder admits.
    private func awkwardEvents() -> [ListenEvent] {
        var events = simulatedEvents(40, seed: 5)
        events[3].eventID = "evt-7"
        events[4].eventID = ""
        events[5].eventID = "3F2B8C1E-9D4A-4E7B-8C2D-1A2B3C4D5E6F"
        events[6].duration = Int.max
        events[6].listenPosition = Int.max - 1
        events[7].rating = 7
        events[8].title = String(repeating: "ü", count: 200)
        events[9].userID = ""
        return events
    }

    @Test func everyFieldComesBackAsItWent() {
        let events = awkwardEvents()
        var window = EventWindow(capacity: 64)
        for event in events { window.append(event) }
        #expect(window.events(after: 0).map(\.event) == events)
        #expect(window.newestFirst().map(\.event) == events.reversed())
        for event in events {
            #expect(window.event(withID: event.eventID)?.event == event)
        }
        #expect(window.event(withID: "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f")?.event == events[5],
                "a UUID matches in either case, and keeps the case it came in")
    }

    @Test func eventsSurviveTheRingWrappingManyTimes() {
        let events = simulatedEvents(5_000, seed: 11)
        var window = EventWindow(capacity: 333)
        for (index, event) in events.enumerated() {
            #expect(window.insertIfNew(event, from: KafkaPosition(partition: Int32(index % 3), offset: Int64(index))) != nil)
        }
        let held = Array(events.suffix(333))
        #expect(window.events(after: 0).map(\.event) == held)
        #expect(window.events(after: 0).map(\.position) == (4_667..<5_000).map { KafkaPosition(partition: Int32($0 % 3), offset: Int64($0)) })
        for event in held { #expect(window.contains(eventID: event.eventID)) }
        for event in events.prefix(4_667) { #expect(!window.contains(eventID: event.eventID)) }
        // Held ids are duplicates; an evicted one is new again.
        #expect(window.insertIfNew(held[17]) == nil)
        #expect(window.insertIfNew(events[0]) != nil)
        #expect(window.event(withID: events[0].eventID)?.sequence == window.lastSequence)
    }

    @Test func theNewestCopyOfARepeatedIdIsTheOneFound() {
        var window = EventWindow(capacity: 4)
        var first = sampleEvent()
        first.title = "first"
        var second = sampleEvent()
        second.title = "second"
        window.append(first)
        window.append(second)
        #expect(window.event(withID: first.eventID)?.event.title == "second")
        // Evicting the older copy leaves the newer one findable.
        for event in simulatedEvents(1, seed: 3) { window.append(event) }
        window.append(simulatedEvents(1, seed: 4)[0])
        window.append(simulatedEvents(1, seed: 6)[0])
        #expect(window.event(withID: first.eventID)?.event.title == "second")
        window.append(simulatedEvents(1, seed: 7)[0])
        #expect(window.event(withID: first.eventID) == nil)
    }

    @Test func tablesHoldOnlyTheValuesOfHeldEvents() {
        var window = EventWindow(capacity: 200)
        for event in simulatedEvents(3_000, seed: 21) { window.append(event) }
        let held = window.events(after: 0).map(\.event)
        #expect(window.details.userIDs.entries().count == Set(held.map(\.userID)).count)
        #expect(window.details.titles.entries().count == Set(held.map(\.title)).count)
        #expect(window.details.cities.entries().count == Set(held.map(\.city)).count)
        // Ids are reused, so no table grows past the most values the window ever held at once.
        #expect(window.details.usernames.idLimit <= 200)
    }

    @Test func aScanAgreesWithMatchingEachEvent() {
        let events = awkwardEvents() + simulatedEvents(2_000, seed: 9)
        var window = EventWindow(capacity: 1_500)
        for event in events { window.append(event) }
        let held = Array(events.suffix(1_500))
        let someUser = held[100].userID
        let someTrack = held[200].trackID
        let filters: [EventFilter] = [
            EventFilter(),
            EventFilter(q: "ab"),
            EventFilter(q: "ZUR"),
            EventFilter(userID: someUser),
            EventFilter(userID: "not-held"),
            EventFilter(trackID: someTrack, minRating: 2),
            EventFilter(genres: ["pop", "rock"], skipped: true),
            EventFilter(artist: "e", countries: ["an"], completed: true),
            EventFilter(moods: [held[3].mood], since: held[700].timestamp, until: held[1_200].timestamp),
        ]
        for filter in filters {
            #expect(window.count(matching: filter) == held.filter(filter.matches).count, "\(filter)")
        }
    }
}
