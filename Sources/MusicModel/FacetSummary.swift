/// Facet counts under a filter, where each facet ignores its own constraint: with genre=Pop
/// chosen, the genre facet still lists Rock, Jazz, … with the counts they would have, so the
/// dashboard can offer them; every other facet is narrowed to Pop.
public struct FacetSummary: Sendable {
    /// Events matching the whole filter.
    public var matching: Int
    /// One table per facet: `counts.entries(f)` are facet `f`'s values over the events that
    /// match every constraint except `f`'s own. (`counts.total` equals `matching`.)
    public var counts: FacetCounts

    public init(matching: Int, counts: FacetCounts) {
        self.matching = matching
        self.counts = counts
    }

    /// Facet `facet`'s values over the events matching the filter without `facet`'s own
    /// constraint; count descending, then value ascending.
    public func entries(_ facet: Facet) -> [FacetEntry] {
        counts.entries(facet)
    }

    /// One pass, each constraint evaluated once per event: an event that passes everything
    /// counts for every facet; one that fails exactly one facet's constraint counts only for
    /// that facet; anything else (two failures, or a failed q/user_id/since/until) is skipped.
    public static func compute(over events: some Sequence<StoredEvent>, filter: EventFilter) -> FacetSummary {
        var counts = FacetCounts()
        var matching = 0
        if filter.isEmpty {
            for stored in events {
                counts.add(stored.event)
                matching += 1
            }
            return FacetSummary(matching: matching, counts: counts)
        }
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

    /// The same over the whole window, reading events in place (see
    /// `EventWindow.forEachStored`): the request path's way, several times cheaper than
    /// going through a sequence of copies.
    public static func compute(over window: EventWindow, filter: EventFilter) -> FacetSummary {
        // Unfiltered, every facet's table is the window's own, which it keeps up to date as
        // events enter and leave: no scan at all.
        if filter.isEmpty { return FacetSummary(matching: window.count, counts: window.facets) }
        var counts = FacetCounts()
        var matching = 0
        window.forEachStored(through: window.lastSequence) { _, event in
            switch filter.verdict(at: event) {
            case .matches:
                counts.add(at: event)
                matching += 1
            case .failsOnly(let facet):
                counts.add(at: event, only: facet)
            case .fails:
                break
            }
        }
        return FacetSummary(matching: matching, counts: counts)
    }
}
