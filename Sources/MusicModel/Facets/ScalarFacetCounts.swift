/// The counts of the three facets that are not text: rating (0...5) and the two booleans,
/// completed and skipped. Shared by `FacetCounts` (the window's incremental counts) and
/// `FacetTally` (a filtered scan's), which differ only in how they count text values.
struct ScalarFacetCounts: Sendable {
    private var ratings = [Int](repeating: 0, count: 6)
    // Index 0 counts `false`, index 1 `true`; separate per facet because `add(at:only:)` may
    // feed one without the other.
    private var skipped = (0, 0)
    private var completed = (0, 0)

    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>) {
        add(rating: event.pointee.rating,
            completed: ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration))
    }

    @inline(__always)
    mutating func add(rating: Int, completed isCompleted: Bool) {
        ratings[Self.ratingIndex(rating)] += 1
        if isCompleted {
            completed.1 += 1
            skipped.0 += 1
        } else {
            completed.0 += 1
            skipped.1 += 1
        }
    }

    /// Counts only `facet` (rating, skipped or completed; others are ignored).
    @inline(__always)
    mutating func add(at event: UnsafePointer<ListenEvent>, only facet: Facet) {
        add(rating: event.pointee.rating,
            completed: ListenEvent.isCompleted(position: event.pointee.listenPosition, duration: event.pointee.duration),
            only: facet)
    }

    @inline(__always)
    mutating func add(rating: Int, completed done: Bool, only facet: Facet) {
        switch facet {
        case .rating: ratings[Self.ratingIndex(rating)] += 1
        case .completed: if done { completed.1 += 1 } else { completed.0 += 1 }
        case .skipped: if done { skipped.0 += 1 } else { skipped.1 += 1 }
        case .genre, .platform, .mood, .country, .artist: break
        }
    }

    /// Uncounts one event; counts never go below zero.
    @inline(__always)
    mutating func remove(rating: Int, completed isCompleted: Bool) {
        let r = Self.ratingIndex(rating)
        if ratings[r] > 0 { ratings[r] -= 1 }
        if isCompleted {
            if completed.1 > 0 { completed.1 -= 1 }
            if skipped.0 > 0 { skipped.0 -= 1 }
        } else {
            if completed.0 > 0 { completed.0 -= 1 }
            if skipped.1 > 0 { skipped.1 -= 1 }
        }
    }

    /// Ranked entries of rating, skipped or completed; empty for a text facet.
    func entries(_ facet: Facet) -> [FacetEntry] {
        switch facet {
        case .rating: FacetEntry.ranked(ratings: ratings)
        case .completed: FacetEntry.ranked(falseCount: completed.0, trueCount: completed.1)
        case .skipped: FacetEntry.ranked(falseCount: skipped.0, trueCount: skipped.1)
        case .genre, .platform, .mood, .country, .artist: []
        }
    }

    @inline(__always)
    private static func ratingIndex(_ rating: Int) -> Int {
        min(5, max(0, rating))
    }
}
