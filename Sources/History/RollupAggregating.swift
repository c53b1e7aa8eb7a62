import MusicModel

/// A reader's count, facets and timeline written once for both stores in terms of what each
/// answers itself: exact aggregates over the rows of a filter, and the roll-ups' rows. A filter
/// of nothing but since/until is split by `Rollup.Plan` (whole hours and minutes from the
/// roll-ups, the partial minutes at the ends from the rows); any other goes to the rows whole.
/// The caller runs these in one read transaction, so every part sees the same listens.
protocol RollupAggregating {
    associatedtype Failure: Error
    func exactCount(_ filter: EventFilter) throws(Failure) -> Int
    func exactFacets(_ filter: EventFilter) throws(Failure) -> (matching: Int, tallies: [Facet: [String: Int]])
    func exactTimeline(_ filter: EventFilter, _ size: Int64) throws(Failure) -> [Int64: (count: Int, skipped: Int)]
    /// Listens and skips of the `unit` rows starting in `range`, per `bucket` (keyed 0 when nil).
    func rolledUpListens(unit: Int64, _ range: Range<Int64>, bucket: Int64?) throws(Failure) -> [Int64: (count: Int, skipped: Int)]
    /// Listens per facet value of the `unit` rows starting in `range`.
    func rolledUpFacets(unit: Int64, _ range: Range<Int64>) throws(Failure) -> [(facet: Facet, value: String, listens: Int)]
    /// The oldest and newest rolled-up minute's start; nil when there is none.
    func rolledUpMinutes() throws(Failure) -> (oldest: Int64, newest: Int64)?
}

extension RollupAggregating {
    func plannedCount(_ filter: EventFilter) throws(Failure) -> Int {
        guard let plan = try rollupPlan(filter, useHours: true) else { return try exactCount(filter) }
        var count = 0
        for range in plan.rows { count += try exactCount(Self.range(range)) }
        for (unit, ranges) in plan.rolledUp {
            for range in ranges {
                count += try rolledUpListens(unit: unit, range, bucket: nil).values.reduce(0) { $0 + $1.count }
            }
        }
        return count
    }

    func plannedFacets(_ filter: EventFilter) throws(Failure) -> FacetSummary {
        guard let plan = try rollupPlan(filter, useHours: true) else {
            let (matching, tallies) = try exactFacets(filter)
            return FacetSummary(matching: matching, tallies: tallies)
        }
        var matching = 0
        var tallies: [Facet: [String: Int]] = [:]
        for range in plan.rows {
            let (rows, counts) = try exactFacets(Self.range(range))
            matching += rows
            for (facet, values) in counts { tallies[facet, default: [:]].merge(values, uniquingKeysWith: +) }
        }
        for (unit, ranges) in plan.rolledUp {
            for range in ranges {
                matching += try rolledUpListens(unit: unit, range, bucket: nil).values.reduce(0) { $0 + $1.count }
                // Values Swift's String equates (canonically equivalent spellings) merge here,
                // as the window's tallies merge them.
                for (facet, value, listens) in try rolledUpFacets(unit: unit, range) {
                    tallies[facet, default: [:]][value, default: 0] += listens
                }
            }
        }
        return FacetSummary(matching: matching, tallies: tallies)
    }

    func plannedTimeline(_ filter: EventFilter, bucket size: Int64) throws(Failure) -> [Int64: (count: Int, skipped: Int)] {
        // Minutes serve buckets made of whole minutes, hours those made of whole hours.
        guard size % Rollup.minute == 0, let plan = try rollupPlan(filter, useHours: size % Rollup.hour == 0) else {
            return try exactTimeline(filter, size)
        }
        var counts: [Int64: (count: Int, skipped: Int)] = [:]
        func add(_ more: [Int64: (count: Int, skipped: Int)]) {
            for (t, figures) in more {
                counts[t, default: (0, 0)].count += figures.count
                counts[t, default: (0, 0)].skipped += figures.skipped
            }
        }
        for range in plan.rows { add(try exactTimeline(Self.range(range), size)) }
        for (unit, ranges) in plan.rolledUp {
            for range in ranges { add(try rolledUpListens(unit: unit, range, bucket: size)) }
        }
        return counts.filter { $0.value.count > 0 }
    }

    /// The plan for `filter`, or nil when it has criteria besides since/until. An open end is
    /// closed at the oldest or newest rolled-up minute.
    private func rollupPlan(_ filter: EventFilter, useHours: Bool) throws(Failure) -> Rollup.Plan? {
        guard filter == EventFilter(since: filter.since, until: filter.until) else { return nil }
        var since = filter.since
        var until = filter.until
        if since == nil || until == nil {
            guard let minutes = try rolledUpMinutes() else { return Rollup.Plan(0..<0, useHours: false) }
            since = since ?? minutes.oldest
            until = until ?? minutes.newest + Rollup.minute
        }
        guard let since, let until else { return nil }
        return Rollup.Plan(since..<max(since, until), useHours: useHours)
    }

    private static func range(_ range: Range<Int64>) -> EventFilter {
        EventFilter(since: range.lowerBound, until: range.upperBound)
    }
}
