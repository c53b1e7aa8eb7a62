import JSON

/// One listen. Canonical JSON is flat and snake_case, fields in this order:
/// event_id, user_id, username, email, track_id, title, artist, genre, platform, mood, city, country,
/// duration, listen_position, completed, skipped, rating, timestamp.
/// `completed`/`skipped` are derived, never stored, so they cannot disagree with the position.
public struct ListenEvent: Sendable, Equatable {
    /// UUID string, lowercase.
    public var eventID: String
    public var userID: String
    public var username: String
    public var email: String
    public var trackID: String
    public var title: String
    public var artist: String
    public var genre: String
    public var platform: String
    public var mood: String
    public var city: String
    public var country: String
    /// Whole seconds, > 0.
    public var duration: Int
    /// Seconds into the track when the listen ended, 0...duration.
    public var listenPosition: Int
    /// 0...5.
    public var rating: Int
    /// Milliseconds since the Unix epoch, UTC.
    public var timestamp: Int64

    public init(
        eventID: String, userID: String, username: String, email: String, trackID: String,
        title: String, artist: String, genre: String, platform: String, mood: String,
        city: String, country: String, duration: Int, listenPosition: Int, rating: Int, timestamp: Int64
    ) {
        self.eventID = eventID
        self.userID = userID
        self.username = username
        self.email = email
        self.trackID = trackID
        self.title = title
        self.artist = artist
        self.genre = genre
        self.platform = platform
        self.mood = mood
        self.city = city
        self.country = country
        self.duration = duration
        self.listenPosition = listenPosition
        self.rating = rating
        self.timestamp = timestamp
    }

    /// A listen counts as completed at 80 % of the track (exact integer comparison, no rounding).
    public var completed: Bool {
        Self.isCompleted(position: listenPosition, duration: duration)
    }

    /// The rule on plain integers, so window scans can apply it to fields read in place
    /// without materialising (copying) the whole event for a method call.
    @inline(__always)
    static func isCompleted(position: Int, duration: Int) -> Bool {
        guard duration > 0 else { return false }
        let (p5, o1) = position.multipliedReportingOverflow(by: 5)
        let (d4, o2) = duration.multipliedReportingOverflow(by: 4)
        if o1 || o2 { return Double(position) >= Double(duration) * 0.8 }
        return p5 >= d4
    }

    public var skipped: Bool { !completed }

    /// Share of the track heard, 0...100.
    public var percentListened: Double {
        guard duration > 0 else { return 0 }
        return min(100, max(0, Double(listenPosition) / Double(duration) * 100))
    }

    /// Canonical JSON bytes (no trailing newline).
    public func canonicalJSON() -> [UInt8] {
        EventEncoder.withEncoded(self) { Array($0) }
    }

    /// Appends the canonical JSON object, so responses are built in one buffer.
    public func write(to writer: inout JSONWriter) {
        EventEncoder.withEncoded(self) { writer.raw($0) }
    }
}
