@testable import MusicModel

/// Ordered (key, raw JSON value) pairs, so tests can drop or replace one field at a time.
typealias Fields = [(key: String, value: String)]

func object(_ fields: Fields) -> String {
    "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
}

func setting(_ fields: Fields, _ key: String, _ value: String?) -> Fields {
    var result = fields
    if let i = result.firstIndex(where: { $0.key == key }) {
        if let value { result[i].value = value } else { result.remove(at: i) }
    } else if let value {
        result.append((key, value))
    }
    return result
}

let canonicalFields: Fields = [
    ("event_id", "\"3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f\""),
    ("user_id", "\"u-1\""),
    ("username", "\"maya.tanaka42\""),
    ("email", "\"maya@example.com\""),
    ("track_id", "\"t-1\""),
    ("title", "\"Glimpse of Us\""),
    ("artist", "\"Joji\""),
    ("genre", "\"Indie\""),
    ("platform", "\"Spotify\""),
    ("mood", "\"Melancholic\""),
    ("city", "\"Osaka\""),
    ("country", "\"Japan\""),
    ("duration", "233"),
    ("listen_position", "200"),
    ("completed", "true"),
    ("skipped", "false"),
    ("rating", "4"),
    ("timestamp", "1700000000123"),
]

let pythonFields: Fields = [
    ("user_id", "\"8c4f0d52-1b7e-4a8e-9a43-0c1f5e6d7a88\""),
    ("name", "\"jsmith\""),
    ("email", "\"jsmith@example.org\""),
    ("track_id", "\"a1b2c3d4-0000-4000-8000-000000000001\""),
    ("title", "\"Levels\""),
    ("artist", "\"Avicii\""),
    ("genre", "\"EDM\""),
    ("timestamp", "1700000000"),
    ("platform", "\"Spotify\""),
    ("location", "{\"city\": \"Osaka\", \"country\": \"Japan\"}"),
    ("mood", "\"Happy\""),
    ("duration_seconds", "245"),
    ("listen_position", "80"),
    ("completed", "false"),
    ("rating", "3.7"),
    ("is_skipped", "false"),
]

let testOrigin = EventOrigin(topic: "listens", partition: 2, offset: 41)

func decode(_ text: String, origin: EventOrigin? = nil) throws(EventRejection) -> ListenEvent {
    try EventDecoder.decode(Array(text.utf8), origin: origin)
}

/// The rejection for `bytes`, or nil if they decode.
func rejection(_ bytes: [UInt8], origin: EventOrigin? = nil) -> EventRejection? {
    do {
        _ = try EventDecoder.decode(bytes, origin: origin)
        return nil
    } catch {
        return error
    }
}

func rejection(_ text: String, origin: EventOrigin? = nil) -> EventRejection? {
    rejection(Array(text.utf8), origin: origin)
}

func sampleEvent() -> ListenEvent {
    ListenEvent(
        eventID: "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f", userID: "u-1", username: "maya.tanaka42",
        email: "maya@example.com", trackID: "t-1", title: "Glimpse of Us", artist: "Joji", genre: "Indie",
        platform: "Spotify", mood: "Melancholic", city: "Osaka", country: "Japan", duration: 233,
        listenPosition: 200, rating: 4, timestamp: 1_700_000_000_123)
}

func isUUID(_ s: String) -> Bool {
    UUIDText.isValid(s) && s == s.lowercased()
}
