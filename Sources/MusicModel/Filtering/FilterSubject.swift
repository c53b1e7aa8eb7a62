/// One event as `EventFilter` examines it. The filter's rule (`FilterRule`: what is checked, in
/// which order, which failure counts for which facet) is written once, generic over this; conformers say
/// how a field is read and how a text constraint is decided: by strings for a `ListenEvent`
/// (`ListenSubject`), by value ids and per-request masks for a slot of the window
/// (`SlotSubject`). Each `passes…` is asked only when the filter has that constraint.
protocol FilterSubject {
    var timestamp: Int64 { get }
    var rating: Int { get }
    var isCompleted: Bool { get }
    func passesUserID() -> Bool
    func passesTrackID() -> Bool
    func passesGenre() -> Bool
    func passesPlatform() -> Bool
    func passesMood() -> Bool
    func passesCountry() -> Bool
    func passesArtist() -> Bool
    /// The `q` needle in the title, the artist or the username.
    func passesQuery() -> Bool
}
