/// How a filter check decides the five text facet constraints of one event (each asked only when
/// the filter has that constraint): `EventFilter` compares strings, for any event; a
/// `ResolvedFilter` looks the event's `FacetKeys` up in masks, for events stored in a window.
/// Generic rather than a closure so each scan is specialised and the test inlined.
protocol TextConstraintTest {
    func passesGenre(_ event: UnsafePointer<ListenEvent>, _ keys: FacetKeys) -> Bool
    func passesPlatform(_ event: UnsafePointer<ListenEvent>, _ keys: FacetKeys) -> Bool
    func passesMood(_ event: UnsafePointer<ListenEvent>, _ keys: FacetKeys) -> Bool
    func passesCountry(_ event: UnsafePointer<ListenEvent>, _ keys: FacetKeys) -> Bool
    func passesArtist(_ event: UnsafePointer<ListenEvent>, _ keys: FacetKeys) -> Bool
}
