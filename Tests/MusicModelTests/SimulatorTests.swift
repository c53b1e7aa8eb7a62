import Testing
@testable import MusicModel

@Suite struct SimulatorTests {
    @Test func catalogueSizes() {
        #expect(Catalogue.songs.count >= 60)
        #expect(Catalogue.platforms == ["Spotify", "Apple Music", "YouTube Music", "SoundCloud", "Amazon Music"])
        #expect(Catalogue.moods.count >= 15 && Catalogue.moods.contains("Melancholic"))
        #expect(Set(Catalogue.places.map(\.country)).count >= 40)
        #expect(Catalogue.songs.contains { $0.title == "Glimpse of Us" && $0.artist == "Joji" })
        #expect(Set(Catalogue.songs.map(\.genre)).isSuperset(of: ["Pop", "Rock", "Hip Hop", "EDM", "K-pop", "Jazz", "R&B", "Latin", "Indie", "Classical"]))
        #expect(Catalogue.songs.allSatisfy { $0.duration > 60 && $0.duration < 1_000 })
        #expect(Set(Catalogue.songs.map { $0.title + "|" + $0.artist }).count == Catalogue.songs.count)
        let perCountry = Dictionary(grouping: Catalogue.places, by: \.country)
        #expect(perCountry.values.allSatisfy { (1...3).contains($0.count) })
        #expect(Catalogue.firstNames.count >= 20 && Catalogue.lastNames.count >= 20)
        #expect((Catalogue.firstNames + Catalogue.lastNames).allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } })
    }

    @Test func deterministic() {
        var a = Simulator(seed: 7)
        var b = Simulator(seed: 7)
        var c = Simulator(seed: 8)
        var differs = false
        for i in 0..<500 {
            let t = 1_700_000_000_000 + Int64(i)
            let x = a.next(timestamp: t)
            #expect(x == b.next(timestamp: t))
            if x != c.next(timestamp: t) { differs = true }
        }
        #expect(differs)
    }

    @Test func eventsAreValidAndRealistic() throws {
        var sim = Simulator(seed: 42)
        let n = 20_000
        var completed = 0
        var platforms: [String: Int] = [:]
        var users: Set<String> = []
        var eventIDs: Set<String> = []
        var ratingSumCompleted = 0
        var ratingSumSkipped = 0
        for i in 0..<n {
            let e = sim.next(timestamp: 1_700_000_000_000 + Int64(i) * 10)
            #expect(try EventDecoder.decode(e.canonicalJSON(), origin: nil) == e)
            if e.completed {
                completed += 1
                ratingSumCompleted += e.rating
            } else {
                ratingSumSkipped += e.rating
            }
            platforms[e.platform, default: 0] += 1
            users.insert(e.userID)
            eventIDs.insert(e.eventID)
            #expect(isUUID(e.eventID) && Array(e.eventID)[14] == "4")
            #expect(isUUID(e.userID) && isUUID(e.trackID))
            #expect(e.email.hasPrefix(e.username + "@example."))
            #expect(e.trackID == Simulator.trackID(title: e.title, artist: e.artist))
        }
        let share = Double(completed) / Double(n)
        #expect(share > 0.55 && share < 0.65, "completed share \(share)")
        #expect(platforms.max { $0.value < $1.value }?.key == "Spotify")
        #expect(Set(platforms.keys) == Set(Catalogue.platforms))
        #expect(users.count <= Simulator.userCount && users.count > 400)
        #expect(eventIDs.count == n)
        let meanCompleted = Double(ratingSumCompleted) / Double(completed)
        let meanSkipped = Double(ratingSumSkipped) / Double(n - completed)
        #expect(meanCompleted > meanSkipped + 1)
    }

    @Test func trackIDsAreStableAndDistinct() {
        let ids = Catalogue.songs.map { Simulator.trackID(title: $0.title, artist: $0.artist) }
        #expect(Set(ids).count == ids.count)
        // Pinned: track ids must not change across releases.
        #expect(Simulator.trackID(title: "Levels", artist: "Avicii") == "7f4c9f01-d03d-8d3e-8e73-740d51159bf4")
        #expect(Simulator.trackID(title: "ab", artist: "c") != Simulator.trackID(title: "a", artist: "bc"))
    }
}
