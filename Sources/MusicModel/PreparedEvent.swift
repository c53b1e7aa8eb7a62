/// An event made ready for the window away from the thread that owns it: its event_id packed
/// into the 128-bit key of the window's duplicate index. `EventWindow.insertIfNew(_:)` takes these.
public struct PreparedEvent: Sendable {
    public let event: ListenEvent
    let id: EventIDKey

    public init(_ event: ListenEvent) {
        self.id = EventIDKey(event.eventID)
        self.event = event   // last use: moved, not copied
    }
}
