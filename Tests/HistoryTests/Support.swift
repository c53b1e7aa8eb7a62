import Foundation
import MusicModel
@testable import History

/// A fresh directory for one test's store, removed with everything in it afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "history-tests-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A store in a fresh directory.
func withStore<T>(_ body: (SQLiteHistoryStore) throws -> T) throws -> T {
    try withTemporaryDirectory { path in try body(try SQLiteHistoryStore(directory: path)) }
}

let baseTime: Int64 = 1_700_000_000_000

/// Simulated listens, written in a scrambled order, about `perTimestamp` sharing each
/// millisecond (so the event_id tie-break decides much of the order), with genres in mixed case.
func listens(_ count: Int, seed: UInt64 = 7, perTimestamp: Int = 6) -> [ListenEvent] {
    var simulator = Simulator(seed: seed)
    let distinct = max(1, count / perTimestamp)
    var events: [ListenEvent] = []
    events.reserveCapacity(count)
    for i in 0..<count {
        // 7919 is prime, so i * 7919 walks the timestamps out of order.
        var event = simulator.next(timestamp: baseTime + Int64((i * 7919) % distinct) * 1_000)
        if i % 7 == 0 { event.genre = event.genre.uppercased() }
        if i % 11 == 0 { event.genre = event.genre.lowercased() }
        events.append(event)
    }
    return events
}

/// Listens as the sink would write them: spread over three partitions.
func records(_ events: [ListenEvent], firstOffset: Int64 = 0) -> [HistoryRecord] {
    events.enumerated().map { i, event in
        HistoryRecord(event: event, partition: Int32(i % 3), offset: firstOffset + Int64(i / 3))
    }
}

/// The store's order: timestamp, then event_id by bytes (SQLite's BINARY collation).
func sorted(_ events: [ListenEvent], _ order: HistoryOrder) -> [ListenEvent] {
    let ascending = events.sorted { a, b in
        a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.eventID.utf8.lexicographicallyPrecedes(b.eventID.utf8)
    }
    return order == .oldestFirst ? ascending : ascending.reversed()
}

struct Walk {
    var listens: [ListenEvent] = []
    var pages: [HistoryPage] = []
}

/// Every page from the start to the end, following `next`.
func walk(
    _ reader: any HistoryReader, _ order: HistoryOrder, filter: EventFilter = EventFilter(), limit: Int,
    scanLimit: Int = 10_000
) throws -> Walk {
    var result = Walk()
    var cursor: HistoryCursor?
    repeat {
        let page = try reader.listens(matching: filter, order: order, after: cursor, limit: limit, scanLimit: scanLimit)
        result.pages.append(page)
        result.listens += page.listens
        cursor = page.next
        if result.pages.count > 100_000 { throw HistoryError("the walk does not end") }
    } while cursor != nil
    return result
}

/// The writer's connection type, for tests that look under the protocol.
func rawConnection(_ store: SQLiteHistoryStore, readOnly: Bool = false) throws -> SQLiteConnection {
    try SQLiteConnection(path: store.path, readOnly: readOnly, busyTimeout: 1_000)
}
