import MusicModel

/// The aggregates for a store without its own: every matching listen is read through
/// `listens` (oldest first, page after page) and counted in Swift with the window's code, so
/// the answers are exactly the window's. Linear in the listens of the range, so bounded: past
/// `scanningLimit` listens read the call fails with a message saying to narrow the range,
/// rather than running for minutes while the client has long been answered 503.
extension HistoryReader {
    /// Most listens one aggregate reads this way.
    public static var scanningLimit: Int { 2_000_000 }

    public func count(matching filter: EventFilter) throws(HistoryError) -> Int {
        var count = 0
        try scan(filter) { _ in count += 1 }
        return count
    }

    public func facets(matching filter: EventFilter) throws(HistoryError) -> FacetSummary {
        var matching = 0
        var tallies: [Facet: [String: Int]] = [:]
        // Only the criteria that exclude a listen from every facet narrow the read; the facets'
        // own are decided per listen by the verdicts. Counted page by page: memory stays one page.
        try scanPages(Self.facetBase(filter)) { page in
            let summary = FacetSummary.compute(overListens: page, filter: filter)
            matching += summary.matching
            for (facet, counts) in summary.tallies { tallies[facet, default: [:]].merge(counts, uniquingKeysWith: +) }
        }
        return FacetSummary(matching: matching, tallies: tallies)
    }

    public func timeline(
        matching filter: EventFilter, bucketMilliseconds: Int64
    ) throws(HistoryError) -> [Int64: (count: Int, skipped: Int)] {
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        let size = max(1, bucketMilliseconds)
        try scan(filter) { event in
            guard let start = Timeline.bucketStart(event.timestamp, size) else { return }
            counts[start, default: (0, 0)].count += 1
            if event.skipped { counts[start, default: (0, 0)].skipped += 1 }
        }
        return counts
    }

    /// The criteria of `filter` that belong to no facet: failing one excludes a listen from
    /// every facet's counts (see `EventFilter.verdict`).
    static func facetBase(_ filter: EventFilter) -> EventFilter {
        EventFilter(q: filter.q, userID: filter.userID, trackID: filter.trackID, since: filter.since, until: filter.until)
    }

    /// Calls `body` with every listen matching `filter`, oldest first.
    private func scan(_ filter: EventFilter, _ body: (ListenEvent) -> Void) throws(HistoryError) {
        try scanPages(filter) { page in for event in page { body(event) } }
    }

    /// Calls `body` with every page of listens matching `filter`, oldest first.
    private func scanPages(_ filter: EventFilter, _ body: ([ListenEvent]) -> Void) throws(HistoryError) {
        var cursor: HistoryCursor?
        var read = 0
        repeat {
            let page = try listens(matching: filter, order: .oldestFirst, after: cursor, limit: 10_000, scanLimit: 100_000)
            read += page.listens.count
            if read > Self.scanningLimit {
                throw HistoryError(
                    "this history store aggregates by reading every matching listen, and more than "
                        + "\(Self.scanningLimit) match: narrow since/until or the filters", isUnavailable: true)
            }
            body(page.listens)
            cursor = page.next
        } while cursor != nil
    }
}
