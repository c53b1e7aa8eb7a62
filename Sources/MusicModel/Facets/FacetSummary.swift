/// Facet counts under a filter, where each facet ignores its own constraint: with genre=Pop
/// chosen, the genre facet still lists Rock, Jazz, … with the counts they would have, so the
/// dashboard can offer them; every other facet is narrowed to Pop.
public struct FacetSummary: Sendable {
    /// Events matching the whole filter.
    public var matching: Int
    /// Ranked entries, in `Facet.allCases` order.
    private var lists: [[FacetEntry]]

    /// The summary of `counts` taken whole (every facet over the same events).
    public init(matching: Int, counts: FacetCounts) {
        self.matching = matching
        self.lists = Facet.allCases.map { counts.entries($0) }
    }

    /// A summary from counts by value (a store's GROUP BY results, merged): ranked here, in the
    /// order every facet list is served in. Zero counts are left out.
    public init(matching: Int, tallies: [Facet: [String: Int]]) {
        self.matching = matching
        self.lists = Facet.allCases.map { facet in
            FacetEntry.ranked((tallies[facet] ?? [:]).filter { $0.value > 0 }.map { FacetEntry(value: $0.key, count: $0.value) })
        }
    }

    /// Counts by value per facet, for merging with other counts (`init(matching:tallies:)`).
    public var tallies: [Facet: [String: Int]] {
        var result: [Facet: [String: Int]] = [:]
        for (index, facet) in Facet.allCases.enumerated() {
            result[facet] = Dictionary(lists[index].map { ($0.value, $0.count) }, uniquingKeysWith: +)
        }
        return result
    }

    /// The same over listens that are not in a window (a history store's rows), with the same
    /// verdicts as the window's scan.
    public static func compute(overListens events: some Sequence<ListenEvent>, filter: EventFilter) -> FacetSummary {
        var counts = FacetCounts()
        var matching = 0
        for event in events {
            switch filter.verdict(event) {
            case .matches:
                counts.add(event)
                matching += 1
            case .failsOnly(let facet):
                counts.add(event, only: facet)
            case .fails:
                break
            }
        }
        return FacetSummary(matching: matching, counts: counts)
    }

    private init(matching: Int, lists: [[FacetEntry]]) {
        self.matching = matching
        self.lists = lists
    }

    /// Facet `facet`'s values over the events matching the filter without `facet`'s own
    /// constraint; count descending, then value ascending.
    public func entries(_ facet: Facet) -> [FacetEntry] {
        lists[Facet.allCases.firstIndex(of: facet) ?? 0]
    }

    /// One pass, each constraint evaluated once per event: an event that passes everything
    /// counts for every facet; one that fails exactly one facet's constraint counts only for
    /// that facet; anything else (two failures, or a failed q/user_id/track_id/since/until) is skipped.
    public static func compute(over events: some Sequence<StoredEvent>, filter: EventFilter) -> FacetSummary {
        var counts = FacetCounts()
        var matching = 0
        for stored in events {
            switch filter.verdict(stored.event) {
            case .matches:
                counts.add(stored.event)
                matching += 1
            case .failsOnly(let facet):
                counts.add(stored.event, only: facet)
            case .fails:
                break
            }
        }
        return FacetSummary(matching: matching, counts: counts)
    }

    /// The same over the whole window, the request path's way: slots read in place (see
    /// `EventWindow.forEachStored`), text constraints decided by value id (`ResolvedFilter`)
    /// and counts kept by id (`FacetTally`), so the scan touches no strings at all.
    public static func compute(over window: EventWindow, filter: EventFilter) -> FacetSummary {
        // Unfiltered, every facet's table is the window's own, which it keeps up to date as
        // events enter and leave: no scan at all.
        if filter.isEmpty { return FacetSummary(matching: window.count, counts: window.facets) }
        let resolved = window.resolve(filter)
        var tally = FacetTally(sizedFor: window.facets)
        var matching = 0
        window.forEachStored(through: window.lastSequence) { _, slot in
            switch resolved.verdict(slot) {
            case .matches:
                tally.add(slot)
                matching += 1
            case .failsOnly(let facet):
                tally.add(slot, only: facet)
            case .fails:
                break
            }
        }
        return FacetSummary(matching: matching, lists: Facet.allCases.map { tally.entries($0, names: window.facets) })
    }
}
