/// Sorted, cursor-paged reads of the window for /api/events.
///
/// Order is (sort key, Kafka partition, offset), all in the requested direction, so it is
/// total, stable, and the same in every replica reading the topic (events not read from Kafka,
/// appended in code, tie on sequence numbers). The first page fixes a snapshot bound (the
/// window's position in the topic then); every later page of the walk considers only events
/// read up to that bound and strictly after the last returned entry. Events arriving meanwhile
/// therefore never shift, duplicate or skip anything; they belong to a new walk. Because the
/// cursor holds only the topic's own coordinates, another replica continues the walk. Events evicted from the window meanwhile are
/// simply missing from later pages: the window no longer has them, and there is nothing to
/// fill the gap with.
///
/// Each page is one pass over the window keeping the best `limit` candidates in a bounded
/// heap: O(n log limit), no sort of the whole window. A text field is compared by its values'
/// ranks when ranking them first is cheaper than comparing strings all along (`TextRanking`).
public enum Pager {
    /// Largest page; larger limits are clamped to it, limits below 1 are raised to 1.
    public static let maxLimit = 1_000
    /// Whether `token` is a well-formed cursor of the window's pager (whatever it was made
    /// for): lets a history request say "this is a window cursor" rather than "garbage".
    public static func isWindowCursor(_ token: String) -> Bool { PageCursor.decode(token) != nil }

    /// The query parameters `parseSort` reads.
    public static let parameterNames: Set<String> = ["sort_by", "sort_order"]

    public static func page(_ window: EventWindow, _ request: PageRequest) throws(QueryError) -> EventPage {
        try page(window, request, rankTexts: nil)
    }

    /// `rankTexts` chooses how a text field is ordered (see `TextRanking`): nil decides by the
    /// sizes, as `page` does; tests walk both ways.
    static func page(_ window: EventWindow, _ request: PageRequest, rankTexts: Bool?) throws(QueryError) -> EventPage {
        let limit = min(max(request.limit, 1), maxLimit)
        let filterHash = request.filter.canonicalHash
        var bound = window.position
        var boundSequence = window.lastSequence
        var after: PageCursor?
        if let token = request.cursor, !token.isEmpty {
            guard let cursor = PageCursor.decode(token) else {
                throw QueryError(parameter: "cursor", detail: "cursor is not a valid paging cursor")
            }
            guard cursor.field == request.sortBy, cursor.order == request.order else {
                throw QueryError(
                    parameter: "cursor",
                    detail: "cursor was made for sort_by=\(cursor.field.rawValue)&sort_order=\(cursor.order.rawValue)")
            }
            guard cursor.filterHash == filterHash else {
                throw QueryError(parameter: "cursor", detail: "cursor was made for a different filter")
            }
            guard cursor.bound.log == window.log else {
                throw QueryError(parameter: "cursor", detail: "cursor was made for another topic or cluster")
            }
            guard window.position.covers(cursor.bound) else {
                // Another replica had read further when it made the first page; this one will
                // have caught up in a moment.
                throw QueryError(
                    parameter: "cursor",
                    detail: "cursor is ahead of this server's window (made where more had been read); retry shortly")
            }
            bound = cursor.bound
            boundSequence = cursor.boundSequence
            after = cursor
        }
        let context = Context(
            window: window, filter: request.filter, field: request.sortBy, order: request.order,
            ascending: request.order == .asc, limit: limit, bound: bound, boundSequence: boundSequence,
            filterHash: filterHash)
        let afterKey = after?.key
        let afterSequence = after.map { Tiebreak(partition: $0.lastPartition, offset: $0.lastOffset, sequence: $0.lastSequence) }
            ?? Tiebreak(partition: -1, offset: -1, sequence: 0)
        switch request.sortBy {
        case .timestamp: return context.select(TimestampKey.self, after: afterKey, afterSequence)
        case .duration: return context.select(DurationKey.self, after: afterKey, afterSequence)
        case .listen_position: return context.select(PositionKey.self, after: afterKey, afterSequence)
        case .rating: return context.select(RatingKey.self, after: afterKey, afterSequence)
        case .percent_listened: return context.select(PercentKey.self, after: afterKey, afterSequence)
        case .username: return context.selectText(UsernameID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .title: return context.selectText(TitleID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .artist: return context.selectText(ArtistID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .genre: return context.selectText(GenreID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .platform: return context.selectText(PlatformID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .city: return context.selectText(CityID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .country: return context.selectText(CountryID.self, after: afterKey, afterSequence, rank: rankTexts)
        case .mood: return context.selectText(MoodID.self, after: afterKey, afterSequence, rank: rankTexts)
        }
    }

    /// listen_position / duration as a fraction (0 for a non-positive duration, which the
    /// decoder never admits).
    @inline(__always)
    static func percentKey(position: Int, duration: Int) -> Double {
        duration > 0 ? Double(position) / Double(duration) : 0
    }

    enum KeyKind { case integer, real, text }

    /// What orders events with equal keys: where they were read in Kafka (the same in every
    /// replica), then the window's sequence (only for events not read from Kafka).
    struct Tiebreak {
        var partition: Int32
        var offset: Int64
        var sequence: UInt64

        @inline(__always)
        static func order(_ a: Tiebreak, _ b: Tiebreak) -> Int {
            if a.partition != b.partition { return a.partition < b.partition ? -1 : 1 }
            if a.offset != b.offset { return a.offset < b.offset ? -1 : 1 }
            // A record of the topic is the same entry in every window, whatever its sequence.
            if a.partition >= 0 { return 0 }
            return a.sequence < b.sequence ? -1 : (a.sequence > b.sequence ? 1 : 0)
        }
    }

    static func keyKind(_ field: SortField) -> KeyKind {
        switch field {
        case .timestamp, .duration, .listen_position, .rating: .integer
        case .percent_listened: .real
        case .username, .title, .artist, .genre, .platform, .city, .country, .mood: .text
        }
    }

    /// One request's parameters, so the generic selection takes few arguments.
    private struct Context {
        let window: EventWindow
        let filter: EventFilter
        let field: SortField
        let order: SortOrder
        let ascending: Bool
        let limit: Int
        let bound: StreamPosition
        let boundSequence: UInt64
        let filterHash: UInt64

        struct Entry<K: PageSortKey> {
            var key: K
            var tiebreak: Tiebreak
        }

        /// Whether `a` comes before `b` in the requested order.
        @inline(__always)
        func precedes<K: PageSortKey>(_ a: Entry<K>, _ b: Entry<K>) -> Bool {
            var c = K.order(a.key, b.key)
            if c == 0 { c = Tiebreak.order(a.tiebreak, b.tiebreak) }
            return ascending ? c < 0 : c > 0
        }

        /// A number field's page: its key read straight from the slot.
        func select<R: KeyReader>(_ reader: R.Type, after afterKey: SortKey?, _ afterEntry: Tiebreak) -> EventPage
        where R.Lookup == Never {
            select(reader, lookup: [], start: afterKey.flatMap(R.Key.init(sortKey:)), afterEntry) { $0.sortKey }
        }

        /// A text field's page: by rank when ranking the field's values pays (or `rank` says
        /// so), else by the strings themselves.
        func selectText<R: TextIDReader>(_ reader: R.Type, after afterKey: SortKey?, _ afterEntry: Tiebreak, rank: Bool?) -> EventPage {
            let values = window.sortTexts(field)
            guard rank ?? TextRanking.pays(distinct: values.count, scanned: window.count) else {
                return select(TextKey<R>.self, lookup: values, start: afterKey.flatMap(String.init(sortKey:)), afterEntry) { $0.sortKey }
            }
            let ranking = TextRanking(values)
            let start = afterKey.flatMap(String.init(sortKey:)).map(ranking.rank(of:))
            return select(RankKey<R>.self, lookup: ranking.rankByID, start: start, afterEntry) { .text(ranking.text(ofRank: $0)) }
        }

        /// The page: `lookup` is what `R` reads keys from besides the slot, `start` the cursor's
        /// key in `R`'s terms, `cursorKey` a key back in the cursor's.
        private func select<R: KeyReader>(
            _ reader: R.Type, lookup: [R.Lookup], start startKey: R.Key?, _ afterEntry: Tiebreak,
            cursorKey: (R.Key) -> SortKey
        ) -> EventPage {
            typealias K = R.Key
            let start = startKey.map { Entry(key: $0, tiebreak: afterEntry) }
            // Max-heap by `precedes`: the root is the last of the kept entries, the one a
            // better candidate replaces.
            var heap: [Entry<K>] = []
            heap.reserveCapacity(limit)
            var matching = 0
            var candidates = 0
            // Visit likely winners first so the heap fills with good entries early and later
            // events rarely displace its root: timestamps mostly follow sequence numbers, and
            // sequence is the tie-break, so descending orders walk newest first.
            let resolved = window.resolve(filter)
            lookup.withUnsafeBufferPointer { lookup in
                window.forEachStored(through: window.lastSequence, newestFirst: !ascending) { sequence, slot in
                    // The snapshot: what was read by the first page (by sequence when not from Kafka).
                    let partition = slot.pointee.partition
                    if partition >= 0 {
                        guard !bound.isAfter(partition: partition, offset: slot.pointee.offset) else { return }
                    } else {
                        guard sequence <= boundSequence else { return }
                    }
                    guard resolved.matches(slot) else { return }
                    matching += 1
                    let entry = Entry(
                        key: R.key(slot, lookup),
                        tiebreak: Tiebreak(partition: partition, offset: slot.pointee.offset, sequence: sequence))
                    if let start, !precedes(start, entry) { return }
                    candidates += 1
                    if heap.count < limit {
                        heap.append(entry)
                        siftUp(&heap, heap.count - 1)
                    } else if precedes(entry, heap[0]) {
                        heap[0] = entry
                        siftDown(&heap, 0)
                    }
                }
            }
            heap.sort { precedes($0, $1) }
            var events: [StoredEvent] = []
            events.reserveCapacity(heap.count)
            for entry in heap {
                if let stored = window.event(withSequence: entry.tiebreak.sequence) { events.append(stored) }
            }
            var next: String?
            if candidates > heap.count, let last = heap.last {
                next = PageCursor(
                    field: field, order: order, bound: bound, boundSequence: boundSequence, filterHash: filterHash,
                    lastPartition: last.tiebreak.partition, lastOffset: last.tiebreak.offset,
                    lastSequence: last.tiebreak.sequence, key: cursorKey(last.key)
                ).encoded()
            }
            return EventPage(events: events, matching: matching, next: next)
        }

        @inline(__always)
        private func siftUp<K: PageSortKey>(_ heap: inout [Entry<K>], _ index: Int) {
            var child = index
            while child > 0 {
                let parent = (child - 1) / 2
                guard precedes(heap[parent], heap[child]) else { return }
                heap.swapAt(parent, child)
                child = parent
            }
        }

        @inline(__always)
        private func siftDown<K: PageSortKey>(_ heap: inout [Entry<K>], _ index: Int) {
            var parent = index
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { return }
                var largest = left
                let right = left + 1
                if right < count && precedes(heap[left], heap[right]) { largest = right }
                guard precedes(heap[parent], heap[largest]) else { return }
                heap.swapAt(parent, largest)
                parent = largest
            }
        }
    }

    // MARK: Key readers

    /// Reads one sort field's key where the event lies in the window, with `lookup` for what the
    /// slot holds only an id of (a text field's values or ranks, by id; nothing for a number). A
    /// static function per field (rather than a closure) is specialised and inlined into the scan.
    protocol KeyReader {
        associatedtype Key: PageSortKey
        associatedtype Lookup
        static func key(_ slot: UnsafePointer<WindowSlot>, _ lookup: UnsafeBufferPointer<Lookup>) -> Key
    }

    enum TimestampKey: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ l: UnsafeBufferPointer<Never>) -> Int64 { s.pointee.timestamp }
    }
    enum DurationKey: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ l: UnsafeBufferPointer<Never>) -> Int64 { s.pointee.duration }
    }
    enum PositionKey: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ l: UnsafeBufferPointer<Never>) -> Int64 { s.pointee.listenPosition }
    }
    enum RatingKey: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ l: UnsafeBufferPointer<Never>) -> Int64 { Int64(s.pointee.rating) }
    }
    enum PercentKey: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ l: UnsafeBufferPointer<Never>) -> Double {
            Pager.percentKey(position: Int(truncatingIfNeeded: s.pointee.listenPosition), duration: Int(truncatingIfNeeded: s.pointee.duration))
        }
    }

    /// A text field's key: the string (`lookup`, the field's values by id).
    enum TextKey<Field: TextIDReader>: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ values: UnsafeBufferPointer<String>) -> String { values[Field.id(s)] }
    }

    /// A text field's key: the value's rank (`lookup`, `TextRanking.rankByID`).
    enum RankKey<Field: TextIDReader>: KeyReader {
        @inline(__always) static func key(_ s: UnsafePointer<WindowSlot>, _ ranks: UnsafeBufferPointer<Int64>) -> Int64 { ranks[Field.id(s)] }
    }

    /// Where a slot keeps a text sort field's value id.
    protocol TextIDReader {
        static func id(_ slot: UnsafePointer<WindowSlot>) -> Int
    }

    enum UsernameID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.detailKeys.username) }
    }
    enum TitleID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.detailKeys.title) }
    }
    enum ArtistID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.facetKeys.artist) }
    }
    enum GenreID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.facetKeys.genre) }
    }
    enum PlatformID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.facetKeys.platform) }
    }
    enum CityID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.detailKeys.city) }
    }
    enum CountryID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.facetKeys.country) }
    }
    enum MoodID: TextIDReader {
        @inline(__always) static func id(_ s: UnsafePointer<WindowSlot>) -> Int { Int(s.pointee.facetKeys.mood) }
    }

    // MARK: Parameters

    /// Reads `sort_by` and `sort_order` (case-insensitive, trimmed); absent or empty means the
    /// default, timestamp descending. Errors name the parameter.
    public static func parseSort(_ parameters: [(name: String, value: String)]) throws(QueryError) -> (SortField, SortOrder) {
        var field = SortField.timestamp
        var order = SortOrder.desc
        var seen: Set<String> = []
        for (name, rawValue) in parameters where parameterNames.contains(name) {
            guard seen.insert(name).inserted else {
                throw QueryError(parameter: name, detail: "\(name) is given more than once")
            }
            let value = rawValue.trimmed().lowercased()
            if value.isEmpty { continue }
            if name == "sort_by" {
                guard let parsed = SortField(rawValue: value) else {
                    throw QueryError(
                        parameter: name,
                        detail: "sort_by must be one of " + SortField.allCases.map(\.rawValue).joined(separator: ", "))
                }
                field = parsed
            } else {
                guard let parsed = SortOrder(rawValue: value) else {
                    throw QueryError(parameter: name, detail: "sort_order must be asc or desc")
                }
                order = parsed
            }
        }
        return (field, order)
    }
}
