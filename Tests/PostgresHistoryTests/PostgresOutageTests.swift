import Testing
@testable import History
import MusicModel

/// The database goes away and comes back. This test stops its server, so it starts its own
/// rather than the shared one the other tests use.
@Suite struct PostgresOutageTests {
    @Test func aStoppedServerIsUnavailableAndTheSameObjectsWorkOnceItIsBack() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let url = try server.createDatabase()
        let store = try PostgresHistoryStore(url: url)
        let writer = try store.openWriter()
        let reader = try store.openReader()
        let before = Fixtures.records(count: 600, days: 2, seed: 20)
        #expect(try writer.write(before, topic: Fixtures.topic, nextOffsets: [0: 200]) == 600)

        try server.stop()
        let after = Fixtures.records(count: 300, days: 3, seed: 21, startDay: 1, offsetBase: 200)
        func expectUnavailable(_ what: String, _ call: () throws -> Void) {
            do {
                try call()
                Issue.record("\(what) should fail while the server is down")
            } catch let error as HistoryError {
                #expect(error.isUnavailable, "\(what): \(error)")
                #expect(!error.message.isEmpty)
            } catch {
                Issue.record("\(what): not a HistoryError: \(error)")
            }
        }
        expectUnavailable("write") { _ = try writer.write(after, topic: Fixtures.topic, nextOffsets: [0: 300]) }
        expectUnavailable("write again") { _ = try writer.write(after, topic: Fixtures.topic, nextOffsets: [0: 300]) }
        expectUnavailable("nextOffsets") { _ = try writer.nextOffsets(topic: Fixtures.topic) }
        expectUnavailable("deleteListens") { _ = try writer.deleteListens(before: 0, limit: 10) }
        expectUnavailable("listens") {
            _ = try reader.listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 5, scanLimit: 50)
        }
        expectUnavailable("userSummary") { _ = try reader.userSummary(userID: "u", since: nil, until: nil, top: 3) }
        expectUnavailable("extent") { _ = try reader.extent() }
        expectUnavailable("openWriter") { _ = try store.openWriter() }
        expectUnavailable("openReader") { _ = try store.openReader() }

        try server.start()
        #expect(try writer.write(after, topic: Fixtures.topic, nextOffsets: [0: 300]) == 300)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 300])
        #expect(try reader.extent().listens == 900)

        // Restarted while both sat idle: their connections are dead but look fine until used;
        // the first call finds out on its first statement and reconnects instead of failing.
        try server.stop()
        try server.start()
        #expect(try reader.extent().listens == 900)
        let newest = try reader.listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 3, scanLimit: 10)
        #expect(newest.listens == Array(Fixtures.sorted((before + after).map(\.event), .newestFirst).prefix(3)))
        #expect(try writer.write(Fixtures.records(count: 5, days: 1, seed: 22), topic: Fixtures.topic, nextOffsets: [1: 9]) == 5)
        #expect(try writer.nextOffsets(topic: Fixtures.topic) == [0: 300, 1: 9])
    }
}
