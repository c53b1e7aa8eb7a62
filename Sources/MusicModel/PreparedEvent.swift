/// An event made ready for the window away from the thread that owns it: serialised once and
/// its id packed, so the loop thread's share of ingest is bookkeeping only. The ingest thread
/// builds these for every record; `EventWindow.append(_:)` takes them.
public struct PreparedEvent: Sendable {
    public let event: ListenEvent
    /// Canonical JSON (`ListenEvent.canonicalJSON()`).
    public let json: [UInt8]
    let id: EventIDKey

    public init(_ event: ListenEvent) {
        self.json = event.canonicalJSON()
        self.id = EventIDKey(event.eventID)
        self.event = event   // last use: moved, not copied
    }
}
