import Testing
@testable import MusicModel

@Suite struct PagerTests {
    // MARK: Oracle

    /// -1/0/1 for the field alone, written independently of the pager: full lowercasing and
    /// byte comparison for strings, exact arithmetic for numbers.
    func referenceOrder(_ field: SortField, _ a: ListenEvent, _ b: ListenEvent) -> Int {
        func bytes(_ x: String, _ y: String) -> Int {
            if Array(x.utf8) == Array(y.utf8) { return 0 }
            return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
        }
        func text(_ x: String, _ y: String) -> Int {
            let folded = bytes(x.lowercased(), y.lowercased())
            return folded != 0 ? folded : bytes(x, y)
        }
        func number<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        switch field {
        case .timestamp: return number(a.timestamp, b.timestamp)
        case .username: return text(a.username, b.username)
        case .title: return text(a.title, b.title)
        case .artist: return text(a.artist, b.artist)
        case .genre: return text(a.genre, b.genre)
        case .platform: return text(a.platform, b.platform)
        case .city: return text(a.city, b.city)
        case .country: return text(a.country, b.country)
        case .mood: return text(a.mood, b.mood)
        case .duration: return number(a.duration, b.duration)
        case .listen_position: return number(a.listenPosition, b.listenPosition)
        case .rating: return number(a.rating, b.rating)
        case .percent_listened:
            // Cross-multiplied: exact, no division.
            return number(a.listenPosition * b.duration, b.listenPosition * a.duration)
        }
    }

    func bruteForce(_ stored: [StoredEvent], _ request: PageRequest, bound: UInt64 = .max) -> [UInt64] {
        stored.filter { $0.sequence <= bound && referenceMatches(request.filter, $0.event) }
            .sorted { x, y in
                var c = referenceOrder(request.sortBy, x.event, y.event)
                if c == 0 { c = x.sequence < y.sequence ? -1 : 1 }
                return request.order == .asc ? c < 0 : c > 0
            }
            .map(\.sequence)
    }

    /// Follows `next` to the end; `between` runs before every page after the first.
    func walk(
        _ w: inout EventWindow, _ request: PageRequest, rankTexts: Bool? = nil, between: (inout EventWindow) -> Void = { _ in }
    ) throws -> (sequences: [UInt64], pages: [EventPage]) {
        var request = request
        var pages: [EventPage] = []
        var sequences: [UInt64] = []
        while true {
            if !pages.isEmpty { between(&w) }
            let page = try Pager.page(w, request, rankTexts: rankTexts)
            pages.append(page)
            sequences += page.events.map(\.sequence)
            guard let next = page.next else { break }
            #expect(page.events.count == request.limit)
            request.cursor = next
            if pages.count > 10_000 { break }
        }
        return (sequences, pages)
    }

    func cursorError(_ w: EventWindow, _ request: PageRequest) -> QueryError? {
        do {
            _ = try Pager.page(w, request)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Order

    @Test func defaultIsNewestTimestampFirst() throws {
        let events = simulatedEvents(300, seed: 3)
        let w = window(events)
        let page = try Pager.page(w, PageRequest())
        #expect(page.events.count == 50 && page.matching == 300 && page.next != nil)
        #expect(page.events.map(\.sequence) == Array(bruteForce(Array(w.events(after: 0)), PageRequest()).prefix(50)))
        let timestamps = page.events.map(\.event.timestamp)
        #expect(timestamps == timestamps.sorted(by: >))
        let request = PageRequest()
        #expect(request.sortBy == .timestamp && request.order == .desc && request.limit == 50 && request.cursor == nil)
    }

    /// Text fields both ways: by the values' ranks (`TextRanking`) and by the strings.
    @Test(arguments: SortField.allCases, [false, true])
    func everyFieldBothDirectionsMatchesBruteForce(field: SortField, rankTexts: Bool) throws {
        let events = simulatedEvents(400, seed: 17)
        var w = window(events)
        let all = Array(w.events(after: 0))
        for order in [SortOrder.asc, .desc] {
            let request = PageRequest(sortBy: field, order: order, limit: 7)
            let expected = bruteForce(all, request)
            let walked = try walk(&w, request, rankTexts: rankTexts)
            #expect(walked.sequences == expected, "\(field) \(order)")
            #expect(walked.pages.allSatisfy { $0.matching == 400 })
            #expect(walked.pages.last?.next == nil)
            // One big page gives the same order.
            let single = try Pager.page(w, PageRequest(sortBy: field, order: order, limit: 1_000), rankTexts: rankTexts)
            #expect(single.events.map(\.sequence) == expected && single.next == nil)
        }
    }

    @Test(arguments: [false, true])
    func filteredWalkMatchesBruteForce(rankTexts: Bool) throws {
        let events = simulatedEvents(600, seed: 23)
        var w = window(events)
        let all = Array(w.events(after: 0))
        var rng = SplitMix64(seed: 77)
        for i in 0..<30 {
            let field = SortField.allCases[i % SortField.allCases.count]
            let request = PageRequest(
                filter: randomFilter(&rng, events), sortBy: field, order: i % 2 == 0 ? .asc : .desc, limit: 1 + i % 9)
            let expected = bruteForce(all, request)
            let walked = try walk(&w, request, rankTexts: rankTexts)
            #expect(walked.sequences == expected, "\(request.filter) \(field)")
            #expect(walked.pages.allSatisfy { $0.matching == expected.count })
        }
    }

    @Test func emptyWindowAndNoMatches() throws {
        let empty = EventWindow(capacity: 10)
        let page = try Pager.page(empty, PageRequest())
        #expect(page.events.isEmpty && page.matching == 0 && page.next == nil)
        let w = window(simulatedEvents(20, seed: 1))
        let none = try Pager.page(w, PageRequest(filter: EventFilter(userID: "nobody")))
        #expect(none.events.isEmpty && none.matching == 0 && none.next == nil)
    }

    @Test func exactMultipleOfLimitEndsWithoutAnEmptyPage() throws {
        var w = window(simulatedEvents(21, seed: 2))
        let walked = try walk(&w, PageRequest(limit: 7))
        #expect(walked.pages.count == 3 && walked.sequences.count == 21)
    }

    @Test func limitIsClamped() throws {
        let w = window(simulatedEvents(1_200, seed: 4))
        #expect(try Pager.page(w, PageRequest(limit: 0)).events.count == 1)
        #expect(try Pager.page(w, PageRequest(limit: -3)).events.count == 1)
        #expect(try Pager.page(w, PageRequest(limit: 5_000)).events.count == Pager.maxLimit)
    }

    // MARK: Stability while the window changes

    @Test(arguments: [SortField.timestamp, .title, .percent_listened, .rating], [false, true])
    func noDuplicatesOrGapsWhileEventsArrive(field: SortField, rankTexts: Bool) throws {
        let events = simulatedEvents(500, seed: 31)
        var w = window(Array(events.prefix(200)), capacity: 1_000)
        var feed = events.dropFirst(200).makeIterator()
        for order in [SortOrder.desc, .asc] {
            // Each walk's snapshot is the window when its first page is fetched.
            let snapshot = Array(w.events(after: 0))
            let request = PageRequest(sortBy: field, order: order, limit: 7)
            let expected = bruteForce(snapshot, request)
            let walked = try walk(&w, request, rankTexts: rankTexts) { w in
                for _ in 0..<3 { if let e = feed.next() { w.append(e) } }
            }
            #expect(walked.sequences == expected)
            #expect(Set(walked.sequences).count == walked.sequences.count)
            #expect(walked.pages.allSatisfy { $0.matching == snapshot.count })
            #expect(w.lastSequence > snapshot.count)
        }
    }

    /// Also the case of a cursor whose text no held event carries any more (ranked: it falls
    /// between two values).
    @Test(arguments: [SortField.timestamp, .title, .city], [false, true])
    func evictedEventsAreSkippedAndNothingElse(field: SortField, rankTexts: Bool) throws {
        let events = simulatedEvents(2_000, seed: 37)
        var w = window(Array(events.prefix(100)), capacity: 100)
        let snapshot = Array(w.events(after: 0))
        var feed = events.dropFirst(100).makeIterator()
        // Descending: the oldest events, which eviction takes first, come last in the walk.
        let request = PageRequest(sortBy: field, order: .desc, limit: 7)
        let expected = bruteForce(snapshot, request)
        let walked = try walk(&w, request, rankTexts: rankTexts) { w in
            for _ in 0..<5 { if let e = feed.next() { w.append(e) } }
        }
        // A subsequence of the snapshot order, without repeats …
        var remaining = expected[...]
        for s in walked.sequences {
            guard let i = remaining.firstIndex(of: s) else {
                Issue.record("\(s) out of order or repeated")
                break
            }
            remaining = remaining[(i + 1)...]
        }
        // … missing only events that were evicted.
        let missing = Set(expected).subtracting(walked.sequences)
        #expect(!missing.isEmpty)
        #expect(missing.allSatisfy { !w.contains(sequence: $0) })
        #expect(walked.sequences.allSatisfy { $0 <= 100 })
    }

    /// Every title distinct and in the walk's order by arrival, so eviction (oldest first) takes
    /// each page's last event, and its title leaves the window's table with it: the next page
    /// must start between the values still held (ranked: an odd rank), neither repeating an
    /// event nor skipping one still there.
    @Test(arguments: [SortOrder.asc, .desc], [false, true])
    func aCursorWhoseTextLeftTheWindowContinuesInPlace(order: SortOrder, rankTexts: Bool) throws {
        var events = simulatedEvents(200, seed: 53)
        for i in events.indices { events[i].title = "title \(order == .asc ? 1000 + i : 2000 - i)" }
        var w = window(Array(events.prefix(40)), capacity: 40)
        let snapshot = Array(w.events(after: 0))
        var feed = events.dropFirst(40).makeIterator()
        var request = PageRequest(sortBy: .title, order: order, limit: 4)
        let expected = bruteForce(snapshot, request)
        var walked: [UInt64] = []
        var cursorTitlesGone = 0
        for _ in 0..<100 {
            let page = try Pager.page(w, request, rankTexts: rankTexts)
            walked += page.events.map(\.sequence)
            guard let next = page.next, let last = page.events.last else { break }
            for _ in 0..<5 { if let e = feed.next() { w.append(e) } }
            if !w.events(after: 0).contains(where: { $0.event.title == last.event.title }) { cursorTitlesGone += 1 }
            request.cursor = next
        }
        #expect(cursorTitlesGone > 3)
        #expect(Set(walked).count == walked.count)
        // In the snapshot's order, missing only what was evicted.
        #expect(walked == expected.filter { walked.contains($0) })
        #expect(Set(expected).subtracting(walked).allSatisfy { !w.contains(sequence: $0) })
    }

    @Test func cursorSurvivesEvictionOfItsLastEvent() throws {
        var w = window(simulatedEvents(50, seed: 41), capacity: 50)
        // Ascending by sequence: the first page's last event is the oldest-but-nine, evicted next.
        let first = try Pager.page(w, PageRequest(sortBy: .timestamp, order: .asc, limit: 10))
        let lastReturned = try #require(first.events.last?.sequence)
        for e in simulatedEvents(30, seed: 42) { w.append(e) }
        #expect(!w.contains(sequence: lastReturned))
        let second = try Pager.page(w, PageRequest(sortBy: .timestamp, order: .asc, limit: 10, cursor: first.next))
        let firstKey = try #require(first.events.last?.event.timestamp)
        #expect(second.events.allSatisfy { $0.event.timestamp >= firstKey && $0.sequence <= 50 })
        #expect(second.matching == 20)  // the 20 snapshot events still present
    }

    // MARK: Cursor validation

    @Test func tamperedOrMismatchedCursorsAreRefused() throws {
        let w = window(simulatedEvents(100, seed: 43))
        let request = PageRequest(filter: EventFilter(minRating: 1), sortBy: .title, order: .asc, limit: 5)
        let next = try #require(try Pager.page(w, request).next)
        var ok = request
        ok.cursor = next
        #expect(cursorError(w, ok) == nil)

        func refused(_ change: (inout PageRequest) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            var r = ok
            change(&r)
            #expect(cursorError(w, r)?.parameter == "cursor", sourceLocation: sourceLocation)
        }
        refused { $0.sortBy = .artist }
        refused { $0.order = .desc }
        refused { $0.filter = EventFilter(minRating: 2) }
        refused { $0.filter = EventFilter() }
        refused { $0.cursor = "garbage" }
        refused { $0.cursor = "!!!!" }
        refused { $0.cursor = "A" }
        refused { $0.cursor = String(repeating: "A", count: 5_000) }
        refused { $0.cursor = next + "A" }
        refused { $0.cursor = String(next.dropLast()) }
        // Every single-character change is caught.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var chars = Array(next)
        for i in stride(from: 0, to: chars.count, by: 3) {
            let original = chars[i]
            chars[i] = alphabet[(alphabet.firstIndex(of: original).map { $0 + 1 } ?? 0) % alphabet.count]
            refused { $0.cursor = String(chars) }
            chars[i] = original
        }
        // A well-formed cursor for a position this window has not reached, or of another log.
        let future = PageCursor(
            field: .title, order: .asc, bound: StreamPosition(log: 0, offsets: [1_000]), boundSequence: 3,
            filterHash: ok.filter.canonicalHash, lastPartition: 0, lastOffset: 3, lastSequence: 3, key: .text("a"))
        #expect(cursorError(w, { var r = ok; r.cursor = future.encoded(); return r }())?.detail.contains("ahead") == true)
        let otherLog = PageCursor(
            field: .title, order: .asc, bound: StreamPosition(log: 7, offsets: []), boundSequence: 50,
            filterHash: ok.filter.canonicalHash, lastPartition: -1, lastOffset: -1, lastSequence: 40, key: .text("a"))
        #expect(cursorError(w, { var r = ok; r.cursor = otherLog.encoded(); return r }())?.detail.contains("another topic") == true)
        // Empty means "first page".
        var empty = ok
        empty.cursor = ""
        #expect(cursorError(w, empty) == nil)
    }

    @Test func cursorAcceptsAnEquivalentFilterSpelling() throws {
        let w = window(simulatedEvents(200, seed: 44))
        let first = try Pager.page(w, PageRequest(filter: EventFilter(genres: ["Pop", "Rock"]), limit: 3))
        let next = try #require(first.next)
        let again = PageRequest(filter: EventFilter(genres: ["rock", "POP"]), limit: 3, cursor: next)
        #expect(cursorError(w, again) == nil)
    }

    @Test func cursorRoundTripsEveryKeyKind() throws {
        for key in [SortKey.integer(-5), .integer(.max), .real(0.8), .real(0), .text(""), .text("a|b|c ü"), .text(String(repeating: "é", count: 128))] {
            let field: SortField = switch key {
            case .integer: .rating
            case .real: .percent_listened
            case .text: .title
            }
            let c = PageCursor(
                field: field, order: .desc, bound: StreamPosition(log: 9, offsets: [4, -1, 1 << 40]), boundSequence: 9,
                filterHash: 0xDEAD_BEEF, lastPartition: 2, lastOffset: 1 << 40, lastSequence: 7, key: key)
            let token = c.encoded()
            #expect(PageCursor.decode(token) == c)
            #expect(token.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") })
        }
        // A key of the wrong kind for its field is not a cursor.
        let bound = StreamPosition(log: 9, offsets: [3])
        let mixed = PageCursor(field: .rating, order: .asc, bound: bound, boundSequence: 9, filterHash: 1,
                               lastPartition: 0, lastOffset: 2, lastSequence: 7, key: .text("x"))
        #expect(PageCursor.decode(mixed.encoded()) == nil)
        let nan = PageCursor(field: .percent_listened, order: .asc, bound: bound, boundSequence: 9, filterHash: 1,
                             lastPartition: 0, lastOffset: 2, lastSequence: 7, key: .real(.nan))
        #expect(PageCursor.decode(nan.encoded()) == nil)
    }

    /// Two replicas read the same three partitions but interleave them differently: a walk that
    /// alternates between them (a load balancer) returns what one alone returns, once each. One
    /// of them orders text by rank, the other by string: a cursor means the same to both.
    @Test(arguments: [SortField.timestamp, .rating, .genre, .title])
    func aWalkContinuesOnAnotherReplica(field: SortField) throws {
        let events = simulatedEvents(300, seed: 47)
        let placed = events.enumerated().map { (event: $1, partition: Int32($0 % 3), offset: Int64($0 / 3)) }
        func replica(_ order: [Int]) -> EventWindow {
            var w = EventWindow(capacity: 1_000, startingAbove: UInt64(order.first ?? 0) * 1_000_000)
            w.log = 5
            for partition in 0..<3 { w.noteStart(partition: Int32(partition), offset: 0) }
            for index in order { w.append(placed[index].event, from: KafkaPosition(partition: placed[index].partition, offset: placed[index].offset)) }
            return w
        }
        let a = replica(Array(0..<300))
        // Partition by partition: a different arrival order and other sequence numbers.
        let b = replica((0..<3).flatMap { p in stride(from: p, to: 300, by: 3).map { $0 } })
        let request = PageRequest(filter: EventFilter(minRating: 2), sortBy: field, order: .desc, limit: 7)
        var expected = a
        let alone = try walk(&expected, request).pages.flatMap { $0.events.map(\.event.eventID) }
        var mixed: [String] = []
        var next: PageRequest? = request
        var turn = 0
        while let current = next, turn < 1_000 {
            let page = try Pager.page(turn % 2 == 0 ? a : b, current, rankTexts: turn % 2 == 0)
            mixed += page.events.map(\.event.eventID)
            next = page.next.map { var r = request; r.cursor = $0; return r }
            turn += 1
        }
        #expect(mixed == alone)
        #expect(Set(mixed).count == mixed.count)
        #expect(mixed.count == events.filter { $0.rating >= 2 }.count)
    }

    @Test func textRankingOrdersValuesAndPlacesOtherText() {
        let values = ["beta", "", "Alpha", "alpha", "gamma", "", "Beta"]
        let ranking = TextRanking(values)
        // Ascending by String.order: "", "Alpha", "alpha", "Beta", "beta", "gamma"; both "" one rank.
        #expect(ranking.rankByID == [8, 0, 2, 4, 10, 0, 6])
        for (id, value) in values.enumerated() {
            #expect(ranking.rank(of: value) == ranking.rankByID[id])
            #expect(ranking.text(ofRank: ranking.rankByID[id]) == value)
        }
        #expect(ranking.rank(of: "ALPHA") == 1)    // after "" (0), before "Alpha" (2)
        #expect(ranking.rank(of: "b") == 5)        // between "alpha" and "Beta"
        #expect(ranking.rank(of: "zeta") == 11)    // after every value
        #expect(TextRanking([]).rank(of: "x") == -1)
        // Ranking pays while the values are few against the events scanned.
        #expect(TextRanking.pays(distinct: 500, scanned: 10_000))
        #expect(!TextRanking.pays(distinct: 200_000, scanned: 1_000_000))
    }

    @Test func base64URL() {
        for n in 0..<10 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 77 + 250) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.encode(Array("hello?>".utf8)) == "aGVsbG8_Pg")
        #expect(Base64URL.decode("aGVsbG8_Pg") == Array("hello?>".utf8))
        #expect(Base64URL.decode("aGVsbG8_Ph") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("aGVsbG8/Pg") == nil)
        #expect(Base64URL.decode("aGVsbG8_Pg==") == nil)
        #expect(Base64URL.decode("a") == nil)
    }

    // MARK: String order

    @Test func stringOrderIsCaseInsensitiveThenBytes() {
        let words = ["abc", "ABC", "Abc", "abd", "ábc", "Ábc", "ab", "abc ", "", "Zürich", "zurich", "ZÜRICH", "b", "ß", "Straße"]
        for x in words {
            for y in words {
                let folded = Array(x.lowercased().utf8).lexicographicallyPrecedes(Array(y.lowercased().utf8)) ? -1
                    : (Array(x.lowercased().utf8) == Array(y.lowercased().utf8) ? 0 : 1)
                let raw = Array(x.utf8) == Array(y.utf8) ? 0 : (x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1)
                let expected = folded != 0 ? folded : raw
                #expect(String.order(x, y) == expected, "\(x) vs \(y)")
            }
        }
        // Canonically equivalent but different bytes are not equal.
        #expect(String.order("\u{E9}", "e\u{301}") != 0)
    }

    // MARK: Sort parameters

    func sortError(_ pairs: [(String, String)]) -> QueryError? {
        do {
            _ = try Pager.parseSort(pairs.map { (name: $0.0, value: $0.1) })
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesSortParameters() throws {
        func parse(_ pairs: [(String, String)]) throws -> (SortField, SortOrder) {
            try Pager.parseSort(pairs.map { (name: $0.0, value: $0.1) })
        }
        #expect(try parse([]) == (.timestamp, .desc))
        #expect(try parse([("sort_by", ""), ("sort_order", " ")]) == (.timestamp, .desc))
        #expect(try parse([("sort_by", "title"), ("sort_order", "asc"), ("genre", "Pop")]) == (.title, .asc))
        #expect(try parse([("sort_by", " Percent_Listened "), ("sort_order", "DESC")]) == (.percent_listened, .desc))
        for field in SortField.allCases { #expect(try parse([("sort_by", field.rawValue)]).0 == field) }
        #expect(Pager.parameterNames == ["sort_by", "sort_order"])
    }

    @Test func sortParameterErrorsNameTheParameter() {
        #expect(sortError([("sort_by", "bogus")])?.parameter == "sort_by")
        #expect(sortError([("sort_by", "bogus")])?.detail.contains("percent_listened") == true)
        #expect(sortError([("sort_order", "up")]) == QueryError(parameter: "sort_order", detail: "sort_order must be asc or desc"))
        #expect(sortError([("sort_by", "title"), ("sort_by", "title")]) == QueryError(parameter: "sort_by", detail: "sort_by is given more than once"))
        #expect(sortError([("sort_order", ""), ("sort_order", "asc")])?.parameter == "sort_order")
    }
}
