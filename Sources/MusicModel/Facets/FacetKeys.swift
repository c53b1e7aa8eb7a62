/// A stored event's text facet values as ids of the window's `ValueTable`s.
struct FacetKeys: Sendable {
    var genre: UInt32 = 0
    var platform: UInt32 = 0
    var mood: UInt32 = 0
    var country: UInt32 = 0
    var artist: UInt32 = 0
}
