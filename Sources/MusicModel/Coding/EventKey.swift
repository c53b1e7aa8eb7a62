/// The object keys the decoder understands, in both the canonical and the Python producer's shape.
/// Raw values index a bitmask used for duplicate detection.
enum EventKey: UInt8 {
    case eventID, userID, username, name, email, trackID, title, artist, genre, platform, mood
    case city, country, location, duration, durationSeconds, listenPosition
    case completed, skipped, isSkipped, rating, timestamp

    @inline(__always)
    var bit: UInt32 { 1 << UInt32(rawValue) }

    var jsonName: String {
        switch self {
        case .eventID: "event_id"
        case .userID: "user_id"
        case .username: "username"
        case .name: "name"
        case .email: "email"
        case .trackID: "track_id"
        case .title: "title"
        case .artist: "artist"
        case .genre: "genre"
        case .platform: "platform"
        case .mood: "mood"
        case .city: "city"
        case .country: "country"
        case .location: "location"
        case .duration: "duration"
        case .durationSeconds: "duration_seconds"
        case .listenPosition: "listen_position"
        case .completed: "completed"
        case .skipped: "skipped"
        case .isSkipped: "is_skipped"
        case .rating: "rating"
        case .timestamp: "timestamp"
        }
    }

    /// Matches unescaped key bytes without allocating: length and first byte pick the
    /// candidate, one comparison confirms it.
    static func match(_ k: UnsafeBufferPointer<UInt8>) -> EventKey? {
        guard let first = k.first else { return nil }
        let candidate: EventKey
        let literal: StaticString
        switch (k.count, first) {
        case (4, UInt8(ascii: "n")): candidate = .name; literal = "name"
        case (4, UInt8(ascii: "m")): candidate = .mood; literal = "mood"
        case (4, UInt8(ascii: "c")): candidate = .city; literal = "city"
        case (5, UInt8(ascii: "t")): candidate = .title; literal = "title"
        case (5, UInt8(ascii: "g")): candidate = .genre; literal = "genre"
        case (5, UInt8(ascii: "e")): candidate = .email; literal = "email"
        case (6, UInt8(ascii: "a")): candidate = .artist; literal = "artist"
        case (6, UInt8(ascii: "r")): candidate = .rating; literal = "rating"
        case (7, UInt8(ascii: "u")): candidate = .userID; literal = "user_id"
        case (7, UInt8(ascii: "c")): candidate = .country; literal = "country"
        case (7, UInt8(ascii: "s")): candidate = .skipped; literal = "skipped"
        case (8, UInt8(ascii: "e")): candidate = .eventID; literal = "event_id"
        case (8, UInt8(ascii: "u")): candidate = .username; literal = "username"
        case (8, UInt8(ascii: "t")): candidate = .trackID; literal = "track_id"
        case (8, UInt8(ascii: "p")): candidate = .platform; literal = "platform"
        case (8, UInt8(ascii: "l")): candidate = .location; literal = "location"
        case (8, UInt8(ascii: "d")): candidate = .duration; literal = "duration"
        case (9, UInt8(ascii: "c")): candidate = .completed; literal = "completed"
        case (9, UInt8(ascii: "t")): candidate = .timestamp; literal = "timestamp"
        case (10, UInt8(ascii: "i")): candidate = .isSkipped; literal = "is_skipped"
        case (15, UInt8(ascii: "l")): candidate = .listenPosition; literal = "listen_position"
        case (16, UInt8(ascii: "d")): candidate = .durationSeconds; literal = "duration_seconds"
        default: return nil
        }
        let p = literal.utf8Start
        for i in 1..<k.count where k[i] != p[i] {
            return nil
        }
        return candidate
    }
}
