import Testing
@testable import History
import MusicModel

/// The query side against a real PostgreSQL 15: keyset paging in both directions over ties and
/// day partitions, criteria decided in Swift exactly as the window decides them, scan limits,
/// the user summary. One database, written once, shared by these read-only tests.
@Suite struct PostgresReaderTests {
    struct Dataset: Sendable {
        var url: String
        var store: PostgresHistoryStore
        var events: [ListenEvent]
    }

    /// 1,512 listens (216 pages of 7) over four days, about 9 per timestamp.
    static let dataset = Result { () throws -> Dataset in
        let (url, store) = try Fixtures.freshStore()
        let records = Fixtures.records(count: 1_512, days: 4, seed: 42)
        _ = try store.openWriter().write(records, topic: Fixtures.topic, nextOffsets: [0: 504, 1: 504, 2: 504])
        return Dataset(url: url, store: store, events: records.map(\.event))
    }

    @Test(arguments: [HistoryOrder.newestFirst, .oldestFirst])
    func pagesOfSevenReturnEveryListenOnceInOrder(order: HistoryOrder) throws {
        let data = try Self.dataset.get()
        let (listens, pages) = try Fixtures.walk(data.store.openReader(), order: order, limit: 7)
        #expect(listens == Fixtures.sorted(data.events, order))
        // Every page full (SQL decides this filter), and the last one says nothing follows.
        #expect(pages.count == 216)
        #expect(pages.allSatisfy { $0.listens.count == 7 })
        #expect(pages.last?.next == nil)
        let ties = Dictionary(grouping: data.events, by: \.timestamp).values.map(\.count).max() ?? 0
        #expect(ties >= 7)
    }

    @Test func criteriaSQLDecides() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        let someone = data.events[100]
        let filters = [
            EventFilter(userID: someone.userID),
            EventFilter(trackID: someone.trackID),
            EventFilter(since: Fixtures.firstDay + Fixtures.day + 3_600_000, until: Fixtures.firstDay + 3 * Fixtures.day),
            EventFilter(userID: someone.userID, since: someone.timestamp),
            EventFilter(trackID: someone.trackID, until: someone.timestamp + 1),
            EventFilter(userID: "no such user"),
        ]
        for filter in filters {
            for order in [HistoryOrder.newestFirst, .oldestFirst] {
                let expected = Fixtures.sorted(data.events.filter(filter.matches), order)
                let (listens, pages) = try Fixtures.walk(reader, filter, order: order, limit: 7)
                #expect(listens == expected, "\(filter) \(order)")
                #expect(pages.count == max(1, (expected.count + 6) / 7), "\(filter) \(order)")
            }
        }
    }

    /// Case-insensitive and substring criteria are decided by `EventFilter.matches` on each row:
    /// the store's answer must be exactly the model's over the whole set.
    @Test func criteriaSwiftDecidesAgreeWithTheModel() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        let someone = data.events[7]
        let filters = [
            EventFilter(genres: ["pOP"]),
            EventFilter(genres: ["hip hop", "ROCK", "k-POP"]),
            EventFilter(q: "the"),
            EventFilter(q: "ADELE"),
            EventFilter(q: String(someone.username.prefix(5)).uppercased()),
            EventFilter(artist: "swift"),
            EventFilter(platforms: ["spotify"], moods: ["CHILL", "happy"]),
            EventFilter(countries: ["king", "STATES"]),
            EventFilter(minRating: 4, skipped: false),
            EventFilter(completed: false),
            EventFilter(userID: someone.userID, genres: [someone.genre.lowercased()]),
            EventFilter(q: "a", minRating: 3, since: Fixtures.firstDay + Fixtures.day, until: Fixtures.firstDay + 2 * Fixtures.day),
        ]
        for filter in filters {
            let matching = data.events.filter(filter.matches)
            #expect(!matching.isEmpty, "\(filter) matches nothing: a weak case")
            for order in [HistoryOrder.newestFirst, .oldestFirst] {
                let (listens, pages) = try Fixtures.walk(reader, filter, order: order, limit: 13)
                #expect(listens == Fixtures.sorted(matching, order), "\(filter) \(order)")
                #expect(pages.dropLast().allSatisfy { $0.listens.count == 13 })
            }
        }
    }

    /// A sparse filter with a small scan budget: pages come back short (some empty) with a cursor
    /// to continue, no call looks at more than `scanLimit` rows, and the walk still finds all.
    @Test(arguments: [HistoryOrder.newestFirst, .oldestFirst])
    func scanLimitGivesPartialPagesThatStillAddUp(order: HistoryOrder) throws {
        let data = try Self.dataset.get()
        let filter = EventFilter(genres: ["jazz"])
        let all = Fixtures.sorted(data.events, order)
        let expected = all.filter(filter.matches)
        #expect(expected.count > 10 && expected.count < all.count / 5)
        let (listens, pages) = try Fixtures.walk(data.store.openReader(), filter, order: order, limit: 5, scanLimit: 40)
        #expect(listens == expected)
        #expect(pages.contains { $0.listens.isEmpty && $0.next != nil })
        #expect(pages.contains { $0.listens.count < 5 && $0.next != nil })
        // Between consecutive cursors lie at most 40 rows of the whole history.
        let position = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.eventID, $0) })
        var previous = -1
        for page in pages {
            guard let next = page.next else { break }
            let index = try #require(position[next.eventID])
            #expect(index - previous <= 40 && index > previous)
            previous = index
        }
        #expect(pages.count >= all.count / 40)
    }

    @Test func aCursorIsStrictlyExclusive() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        let ordered = Fixtures.sorted(data.events, .newestFirst)
        // Start in the middle of a run of equal timestamps.
        let middle = try #require(ordered.indices.first { $0 > 500 && ordered[$0].timestamp == ordered[$0 + 1].timestamp })
        let cursor = HistoryCursor(timestamp: ordered[middle].timestamp, eventID: ordered[middle].eventID)
        let page = try reader.listens(matching: EventFilter(), order: .newestFirst, after: cursor, limit: 4, scanLimit: 100)
        #expect(page.listens == Array(ordered[middle + 1...middle + 4]))
        #expect(page.next == HistoryCursor(timestamp: ordered[middle + 4].timestamp, eventID: ordered[middle + 4].eventID))
        let back = try reader.listens(matching: EventFilter(), order: .oldestFirst, after: cursor, limit: 3, scanLimit: 100)
        #expect(back.listens == Array(ordered[middle - 3..<middle].reversed()))
        #expect(throws: HistoryError.self) {
            try reader.listens(matching: EventFilter(), order: .oldestFirst, after: nil, limit: 0, scanLimit: 10)
        }
    }

    @Test func userSummaryMatchesFiguresComputedHere() throws {
        let data = try Self.dataset.get()
        let reader = try data.store.openReader()
        let counts = Dictionary(grouping: data.events, by: \.userID).mapValues(\.count)
        let (busiest, _) = try #require(counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })
        let ranges: [(Int64?, Int64?)] = [
            (nil, nil),
            (Fixtures.firstDay + Fixtures.day, nil),
            (nil, Fixtures.firstDay + 2 * Fixtures.day + 5 * 3_600_000),
            (Fixtures.firstDay + Fixtures.day / 2, Fixtures.firstDay + 3 * Fixtures.day),
        ]
        for (since, until) in ranges {
            let mine = data.events.filter {
                $0.userID == busiest && $0.timestamp >= (since ?? .min) && $0.timestamp < (until ?? .max)
            }
            let summary = try #require(try reader.userSummary(userID: busiest, since: since, until: until, top: 3))
            let newest = try #require(Fixtures.oldestFirst(mine).last)
            #expect(summary.userID == busiest)
            #expect(summary.username == newest.username)
            #expect(summary.listens == mine.count)
            #expect(summary.firstSeen == mine.map(\.timestamp).min())
            #expect(summary.lastSeen == mine.map(\.timestamp).max())
            #expect(summary.skipRate == Double(mine.filter(\.skipped).count) / Double(mine.count))
            #expect(summary.averageRating == Double(mine.map(\.rating).reduce(0, +)) / Double(mine.count))
            #expect(summary.topArtists == Self.top(mine.map(\.artist), 3))
            #expect(summary.topGenres == Self.top(mine.map(\.genre), 3))
            #expect(summary.topPlatforms == Self.top(mine.map(\.platform), 3))
        }
        #expect(try reader.userSummary(userID: "nobody", since: nil, until: nil, top: 3) == nil)
        #expect(try reader.userSummary(userID: busiest, since: Fixtures.firstDay + 9 * Fixtures.day, until: nil, top: 3) == nil)
        let bare = try #require(try reader.userSummary(userID: busiest, since: nil, until: nil, top: 0))
        #expect(bare.topArtists.isEmpty && bare.listens == counts[busiest])
    }

    /// Most frequent first, ties by value ascending.
    static func top(_ values: [String], _ n: Int) -> [UserSummary.Entry] {
        Dictionary(grouping: values, by: { $0 }).map { UserSummary.Entry(value: $0.key, count: $0.value.count) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
            .prefix(n).map { $0 }
    }

    @Test func extentCountsAndBoundsTheHistory() throws {
        let data = try Self.dataset.get()
        let extent = try data.store.openReader().extent()
        #expect(extent == HistoryExtent(
            listens: 1_512, oldest: data.events.map(\.timestamp).min(), newest: data.events.map(\.timestamp).max()))
        let (_, empty) = try Fixtures.freshStore()
        #expect(try empty.openReader().extent() == HistoryExtent(listens: 0, oldest: nil, newest: nil))
        let page = try empty.openReader().listens(matching: EventFilter(), order: .newestFirst, after: nil, limit: 5, scanLimit: 5)
        #expect(page == HistoryPage(listens: [], next: nil))
    }
}

@Suite struct PostgresReplayTests {
    @Test func listensByPositionAreExactlyTheRangesAndOnlyWhenStored() throws {
        let data = try PostgresReaderTests.dataset.get()
        let reader = try data.store.openReader()
        // The dataset: 1,512 listens, partition i % 3, offset i / 3; stored up to 504 each.
        let got = try #require(try reader.listens(of: Fixtures.topic, in: [1: 7...9, 0: 503...503], limit: 10))
        #expect(got.map { [$0.partition: $0.offset] } == [[0: 503], [1: 7], [1: 8], [1: 9]])
        #expect(got.map(\.event) == [data.events[1_509], data.events[22], data.events[25], data.events[28]])
        #expect(try reader.listens(of: Fixtures.topic, in: [2: 500...504], limit: 10) == nil)
        #expect(try reader.listens(of: "another-log", in: [2: 0...1], limit: 10) == nil)
        #expect(try reader.listens(of: Fixtures.topic, in: [2: 0...503], limit: 100) == nil)
    }
}
