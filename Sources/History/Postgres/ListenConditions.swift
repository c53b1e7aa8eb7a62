import MusicModel

/// A WHERE clause over `listens` and its parameters, starting with the criteria SQL decides
/// exactly as `EventFilter.matches` does: the time range (since inclusive, until exclusive) and
/// the opaque ids compared byte for byte. Nothing case-insensitive or substring-based goes here.
struct ListenConditions {
    private(set) var parameters = PostgresParameters()
    private var clauses: [String] = []

    init(filter: EventFilter) {
        if let since = filter.since { add("\"timestamp\" >= $\(next)::bigint") { $0.append(since) } }
        if let until = filter.until { add("\"timestamp\" < $\(next)::bigint") { $0.append(until) } }
        if let userID = filter.userID { add("user_id = $\(next)::text") { $0.append(userID) } }
        if let trackID = filter.trackID { add("track_id = $\(next)::text") { $0.append(trackID) } }
    }

    /// The number of the next parameter ($n).
    var next: Int { parameters.count + 1 }

    /// " WHERE a AND b", or "" without conditions.
    var whereClause: String {
        clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    }

    /// Adds a condition whose parameters `fill` appends (numbered from `next`).
    mutating func add(_ clause: String, _ fill: (inout PostgresParameters) -> Void) {
        clauses.append(clause)
        fill(&parameters)
    }

    /// Adds parameters used elsewhere in the statement (a LIMIT), no condition.
    mutating func add(_ fill: (inout PostgresParameters) -> Void) {
        fill(&parameters)
    }
}
