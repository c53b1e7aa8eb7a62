/// One page of /api/events.
public struct EventPage: Sendable {
    public var events: [StoredEvent]
    /// Events matching the filter in the page's snapshot (sequence numbers up to the bound the
    /// first page fixed), not just those after the cursor.
    public var matching: Int
    /// Opaque cursor for the next page; nil when nothing more matches.
    public var next: String?

    public init(events: [StoredEvent], matching: Int, next: String?) {
        self.events = events
        self.matching = matching
        self.next = next
    }
}
