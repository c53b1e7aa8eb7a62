/// The ids of a slot's text fields that are not facets (the facets' are `FacetKeys`), in the
/// window's `DetailTables`.
struct DetailKeys {
    var userID: UInt32 = 0
    var username: UInt32 = 0
    var email: UInt32 = 0
    var trackID: UInt32 = 0
    var title: UInt32 = 0
    var city: UInt32 = 0
}
