/// A route path with parameter segments, such as `/api/events/{event_id}`: spelled as OpenAPI
/// spells it, so the route table and the API description name a route the same way (and the
/// metrics label is the template, never the id a client sent). A `{name}` segment matches one
/// whole, non-empty segment of the decoded path; every other segment matches exactly.
struct PathTemplate {
    let text: String
    private let segments: [Segment]

    private enum Segment {
        case literal(Substring)
        case parameter(String)
    }

    /// Nil when `path` has no `{name}` segment: an exact route.
    init?(_ path: String) {
        var segments: [Segment] = []
        var hasParameter = false
        for piece in path.split(separator: "/", omittingEmptySubsequences: false) {
            if piece.count > 2, piece.first == "{", piece.last == "}" {
                segments.append(.parameter(String(piece.dropFirst().dropLast())))
                hasParameter = true
            } else {
                segments.append(.literal(piece))
            }
        }
        guard hasParameter else { return nil }
        self.text = path
        self.segments = segments
    }

    /// The parameters by name, in path order, when `path` matches; nil otherwise.
    func match(_ path: String) -> [(name: String, value: String)]? {
        var parameters: [(name: String, value: String)] = []
        var index = 0
        for piece in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard index < segments.count else { return nil }
            switch segments[index] {
            case .literal(let literal):
                guard piece == literal else { return nil }
            case .parameter(let name):
                guard !piece.isEmpty else { return nil }
                parameters.append((name: name, value: String(piece)))
            }
            index += 1
        }
        return index == segments.count ? parameters : nil
    }
}
