import MusicModel
import Testing
@testable import History

@Suite struct SQLiteReaderTests {
    /// 1,200 listens (about 6 per millisecond), each listener's name varying per listen so
    /// "the name on the newest listen" is tested.
    static let events: [ListenEvent] = {
        var events = listens(1_200)
        for i in events.indices { events[i].username += "-\(i % 4)" }
        return events
    }()

    /// A store holding `events`, and a reader on it.
    private func withFilledStore(_ body: (SQLiteHistoryStore, any HistoryReader) throws -> Void) throws {
        try withStore { store in
            let writer = try store.openWriter()
            #expect(try writer.write(records(Self.events), topic: "t", nextOffsets: [:]) == Self.events.count)
            try body(store, try store.openReader())
        }
    }

    @Test(arguments: [HistoryOrder.newestFirst, .oldestFirst])
    func pagingWalksEveryRowOnceInOrder(order: HistoryOrder) throws {
        try withFilledStore { _, reader in
            let result = try walk(reader, order, limit: 7)
            let expected = sorted(Self.events, order)
            #expect(result.listens.count == expected.count)
            #expect(result.listens.map(\.eventID) == expected.map(\.eventID))
            #expect(result.listens == expected)
            #expect(result.pages.count == (expected.count + 6) / 7)
            #expect(result.pages.dropLast().allSatisfy { $0.listens.count == 7 && $0.next != nil })
            #expect(result.pages.last?.next == nil)
        }
    }

    @Test func aFullPageSaysWhetherMoreFollow() throws {
        try withFilledStore { _, reader in
            let count = Self.events.count
            let all = try reader.listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: count, scanLimit: count)
            #expect(all.listens.count == count && all.next == nil)
            let most = try reader.listens(
                matching: EventFilter(), order: .newestFirst, after: nil, limit: count - 1, scanLimit: count)
            let last = sorted(Self.events, .newestFirst)[count - 2]
            #expect(most.next == HistoryCursor(timestamp: last.timestamp, eventID: last.eventID))
            let rest = try reader.listens(matching: EventFilter(), order: .newestFirst, after: most.next, limit: 5, scanLimit: 5)
            #expect(rest.listens == [sorted(Self.events, .newestFirst)[count - 1]] && rest.next == nil)
        }
    }

    /// Filters whose criteria are decided in Swift, in SQL, or both.
    static var filters: [EventFilter] {
        let e = events
        return [
            EventFilter(genres: [e[0].genre.uppercased(), e[1].genre.lowercased()]),
            EventFilter(q: String(e[10].title.lowercased().prefix(3))),
            EventFilter(q: String(e[20].username.uppercased().dropFirst(2).prefix(4))),
            EventFilter(artist: String(e[30].artist.uppercased().suffix(4)), minRating: 3),
            EventFilter(platforms: [e[40].platform.lowercased()], skipped: true),
            EventFilter(countries: [String(e[50].country.lowercased().prefix(2))], completed: true),
            EventFilter(moods: [e[60].mood]),
            EventFilter(trackID: e[70].trackID),
            EventFilter(userID: e[80].userID),
            EventFilter(userID: e[90].userID, genres: [e[90].genre]),
            EventFilter(since: baseTime + 30_000, until: baseTime + 150_000),
            EventFilter(genres: [e[100].genre], since: baseTime + 10_000, until: baseTime + 120_000),
            EventFilter(userID: e[110].userID, since: baseTime + 20_000, until: baseTime + 180_000),
            EventFilter(since: baseTime + 150_000, until: baseTime + 150_001),
        ]
    }

    @Test(arguments: [HistoryOrder.newestFirst, .oldestFirst])
    func criteriaAgreeWithEventFilterMatches(order: HistoryOrder) throws {
        try withFilledStore { _, reader in
            for filter in Self.filters {
                let expected = sorted(Self.events.filter { filter.matches($0) }, order)
                #expect(!expected.isEmpty, "\(filter)")
                let small = try walk(reader, order, filter: filter, limit: 13, scanLimit: 40)
                #expect(small.listens == expected, "\(filter)")
                let large = try walk(reader, order, filter: filter, limit: 500)
                #expect(large.listens == expected, "\(filter)")
            }
        }
    }

    @Test(arguments: [HistoryOrder.newestFirst, .oldestFirst])
    func scanLimitGivesPartialPagesThatStillWalkEverything(order: HistoryOrder) throws {
        try withFilledStore { _, reader in
            // A track's listens, decided in Swift: sparse among the rows scanned.
            let filter = EventFilter(trackID: Self.events[3].trackID)
            let expected = sorted(Self.events.filter { filter.matches($0) }, order)
            let all = sorted(Self.events, order)
            let position = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.eventID, $0) })
            #expect(expected.count > 1 && expected.count < 100)

            let result = try walk(reader, order, filter: filter, limit: 4, scanLimit: 50)
            #expect(result.listens == expected)
            // Every call examined at most 50 rows: the cursors advance by at most that much.
            var previous = -1
            for page in result.pages {
                let reached = page.next.map { position[$0.eventID]! } ?? all.count - 1
                #expect(reached - previous <= 50)
                previous = reached
            }
            #expect(result.pages.count >= all.count / 50)
            #expect(result.pages.contains { $0.listens.isEmpty && $0.next != nil })

            // A filter nothing matches still ends, after a bounded number of empty pages.
            let none = try walk(reader, order, filter: EventFilter(trackID: "no such track"), limit: 4, scanLimit: 100)
            #expect(none.listens.isEmpty && none.pages.count == 12)
        }
    }

    @Test func timeBoundsAndTheCursorTogether() throws {
        try withFilledStore { _, reader in
            // A cursor outside the filter's range, on either side, in both orders.
            let filter = EventFilter(since: baseTime + 40_000, until: baseTime + 90_000)
            let cursors = [
                HistoryCursor(timestamp: baseTime + 10_000, eventID: "m"),
                HistoryCursor(timestamp: baseTime + 60_000, eventID: "8"),
                HistoryCursor(timestamp: baseTime + 90_000, eventID: "0"),
                HistoryCursor(timestamp: baseTime + 150_000, eventID: "f"),
            ]
            for order in [HistoryOrder.newestFirst, .oldestFirst] {
                for cursor in cursors {
                    let expected = sorted(Self.events, order).filter { event in
                        guard filter.matches(event) else { return false }
                        let after = event.timestamp != cursor.timestamp
                            ? event.timestamp > cursor.timestamp
                            : cursor.eventID.utf8.lexicographicallyPrecedes(event.eventID.utf8)
                        return order == .oldestFirst ? after : !after && event.eventID != cursor.eventID
                    }
                    var got: [ListenEvent] = []
                    var next: HistoryCursor? = cursor
                    repeat {
                        let page = try reader.listens(matching: filter, order: order, after: next, limit: 9, scanLimit: 30)
                        got += page.listens
                        next = page.next
                    } while next != nil
                    #expect(got == expected, "\(order) after \(cursor)")
                }
            }
        }
    }

    @Test func queryPlansSeekOnAnIndexAndNeverSort() throws {
        try withFilledStore { store, _ in
            let connection = try rawConnection(store, readOnly: true)
            let cursor = HistoryCursor(timestamp: baseTime + 50_000, eventID: "8")
            let user = Self.events[0].userID
            let cases: [(EventFilter, HistoryCursor?, String)] = [
                (EventFilter(), nil, "SCAN listens USING INDEX listens_by_time"),
                (EventFilter(), cursor, "SEARCH listens USING INDEX listens_by_time ((timestamp,event_id)"),
                (EventFilter(genres: ["Pop"]), cursor, "SEARCH listens USING INDEX listens_by_time ((timestamp,event_id)"),
                (EventFilter(since: baseTime, until: baseTime + 90_000), nil, "USING INDEX listens_by_time (timestamp>? AND timestamp<?)"),
                (EventFilter(since: baseTime, until: baseTime + 90_000), cursor, "(timestamp,event_id)"),
                (EventFilter(userID: user), nil, "SEARCH listens USING INDEX listens_by_user (user_id=?)"),
                (EventFilter(userID: user), cursor, "USING INDEX listens_by_user (user_id=? AND timestamp"),
                (EventFilter(userID: user, since: baseTime, until: baseTime + 90_000), cursor, "listens_by_user (user_id=? AND"),
            ]
            for order in [HistoryOrder.newestFirst, .oldestFirst] {
                for (filter, cursor, expected) in cases {
                    let id = try filter.userID.flatMap { try SQLiteTextLookup(connection).id(of: $0, in: .userID) }
                    let query = SQLiteListenQuery(filter: filter, user: id, order: order, after: cursor, rowLimit: 10)
                    let explain = try connection.prepare("EXPLAIN QUERY PLAN " + query.sql, doing: "explaining")
                    try query.bind(to: explain)
                    var plan: [String] = []
                    while try explain.step() { plan.append(explain.text(at: 3)) }
                    let text = plan.joined(separator: " | ")
                    #expect(text.contains(expected), "\(order) \(query.sql): \(text)")
                    // A user's index orders by time; the ties of one millisecond (a handful of
                    // rows at most) are put in event_id order as they are met, never the whole range.
                    if filter.userID == nil {
                        #expect(!text.contains("TEMP B-TREE"), "\(order) \(query.sql): \(text)")
                    } else {
                        #expect(!text.contains("TEMP B-TREE FOR ORDER BY"), "\(order) \(query.sql): \(text)")
                    }
                    // Both bounds of the range are in the index search, none tested row by row.
                    if cursor != nil && filter.since != nil {
                        #expect(text.contains("timestamp>?") && text.contains("timestamp<?")
                            || text.contains("(timestamp,event_id)>") && text.contains("timestamp<?")
                            || text.contains("timestamp>?") && text.contains("(timestamp,event_id)<"), "\(text)")
                    }
                }
            }
        }
    }

    @Test func userSummaryAgreesWithTheEvents() throws {
        try withFilledStore { _, reader in
            let counts = Dictionary(grouping: Self.events, by: \.userID).mapValues(\.count)
            let busiest = counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!.key
            let ranges: [(Int64?, Int64?)] = [(nil, nil), (baseTime + 50_000, nil), (nil, baseTime + 100_000),
                                              (baseTime + 30_000, baseTime + 160_000)]
            for (since, until) in ranges {
                let mine = Self.events.filter {
                    $0.userID == busiest && $0.timestamp >= (since ?? .min) && $0.timestamp < (until ?? .max)
                }
                #expect(mine.count > 3)
                let summary = try #require(try reader.userSummary(userID: busiest, since: since, until: until, top: 3))
                #expect(summary.userID == busiest)
                #expect(summary.listens == mine.count)
                #expect(summary.firstSeen == mine.map(\.timestamp).min())
                #expect(summary.lastSeen == mine.map(\.timestamp).max())
                #expect(summary.username == sorted(mine, .newestFirst)[0].username)
                let skipRate = Double(mine.filter(\.skipped).count) / Double(mine.count)
                let rating = Double(mine.map(\.rating).reduce(0, +)) / Double(mine.count)
                #expect(abs(summary.skipRate - skipRate) < 1e-12)
                #expect(abs(summary.averageRating - rating) < 1e-12)
                #expect(summary.topArtists == top(mine.map(\.artist), 3))
                #expect(summary.topGenres == top(mine.map(\.genre), 3))
                #expect(summary.topPlatforms == top(mine.map(\.platform), 3))
            }
            let none = try reader.userSummary(userID: busiest, since: nil, until: nil, top: 0)
            #expect(none?.topArtists == [] && none?.topGenres == [] && none?.topPlatforms == [])
            #expect(try reader.userSummary(userID: "nobody", since: nil, until: nil, top: 3) == nil)
            #expect(try reader.userSummary(userID: busiest, since: baseTime + 900_000, until: nil, top: 3) == nil)
            #expect(try reader.userSummary(userID: busiest, since: baseTime + 5, until: baseTime + 5, top: 3) == nil)
        }
    }

    /// Most frequent first, ties by value in byte order (as SQLite's BINARY collation).
    private func top(_ values: [String], _ count: Int) -> [UserSummary.Entry] {
        Dictionary(grouping: values, by: { $0 }).map { UserSummary.Entry(value: $0.key, count: $0.value.count) }
            .sorted { a, b in a.count != b.count ? a.count > b.count : a.value.utf8.lexicographicallyPrecedes(b.value.utf8) }
            .prefix(count).map { $0 }
    }

    @Test func extentCountsAndBounds() throws {
        try withFilledStore { _, reader in
            let timestamps = Self.events.map(\.timestamp)
            let extent = try reader.extent()
            #expect(extent == HistoryExtent(listens: Self.events.count, oldest: timestamps.min(), newest: timestamps.max()))
        }
    }
}

/// A `/stream` subscriber the window no longer holds is replayed from the store by Kafka
/// position: exactly the listens in each partition's range, in offset order, or nothing when
/// the store has not stored that far.
@Suite struct SQLiteReplayTests {
    @Test func listensByPositionAreExactlyTheRangesAndOnlyWhenStored() throws {
        let events = listens(300, seed: 77)
        try withStore { store in
            let writer = try store.openWriter()
            // Offsets 0...99 of three partitions; the store has read up to 100 in each.
            _ = try writer.write(records(events), topic: "c/t", nextOffsets: [0: 100, 1: 100, 2: 100])
            let reader = try store.openReader()
            let got = try #require(try reader.listens(of: "c/t", in: [0: 10...12, 2: 98...99], limit: 100))
            #expect(got.map { [$0.partition: $0.offset] } == [[0: 10], [0: 11], [0: 12], [2: 98], [2: 99]])
            #expect(got.map(\.event) == [events[30], events[33], events[36], events[296], events[299]])
            // Past what the store has read in a partition: no replay (it would have a gap).
            #expect(try reader.listens(of: "c/t", in: [1: 95...100], limit: 100) == nil)
            // Another log's offsets are not this one's.
            #expect(try reader.listens(of: "other/t", in: [0: 0...1], limit: 100) == nil)
            // More than the limit: none.
            #expect(try reader.listens(of: "c/t", in: [0: 0...99], limit: 50) == nil)
            #expect(try reader.listens(of: "c/t", in: [0: 0...99], limit: 100)?.count == 100)
        }
    }
}
