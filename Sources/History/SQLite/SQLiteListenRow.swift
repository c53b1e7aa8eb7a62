import MusicModel

/// How a `ListenEvent` maps onto a `listens` row, in one place for the writer's insert and the
/// reader's selects, so the column order cannot drift between them.
enum SQLiteListenRow {
    /// The event's columns in `ListenEvent`'s order: the select list, and the insert's first
    /// parameters (then completed, kafka_partition, kafka_offset, ascii_mask).
    static let eventColumns = """
        event_id, user_id, username, email, track_id, title, artist, genre, platform, mood, city, country, \
        duration, listen_position, rating, timestamp
        """

    static let insert = """
        INSERT INTO listens (\(eventColumns), completed, kafka_partition, kafka_offset, ascii_mask)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
        ON CONFLICT (event_id) DO NOTHING
        """

    /// Binds one record to `insert`'s parameters.
    static func bind(_ record: HistoryRecord, to statement: SQLiteStatement) throws(HistoryError) {
        let event = record.event
        try statement.bind(event.eventID, at: 1)
        try statement.bind(event.userID, at: 2)
        try statement.bind(event.username, at: 3)
        try statement.bind(event.email, at: 4)
        try statement.bind(event.trackID, at: 5)
        try statement.bind(event.title, at: 6)
        try statement.bind(event.artist, at: 7)
        try statement.bind(event.genre, at: 8)
        try statement.bind(event.platform, at: 9)
        try statement.bind(event.mood, at: 10)
        try statement.bind(event.city, at: 11)
        try statement.bind(event.country, at: 12)
        try statement.bind(event.duration, at: 13)
        try statement.bind(event.listenPosition, at: 14)
        try statement.bind(event.rating, at: 15)
        try statement.bind(event.timestamp, at: 16)
        // The model's own rule, so the stored flag and `ListenEvent.completed` always agree.
        try statement.bind(event.completed ? 1 : 0, at: 17)
        try statement.bind(Int64(record.partition), at: 18)
        try statement.bind(record.offset, at: 19)
        try statement.bind(SQLiteTextMask.of(event), at: 20)
    }

    /// The event in the current row of a statement that selected `eventColumns` starting at
    /// column `firstColumn`.
    static func event(from statement: SQLiteStatement, firstColumn c: Int32 = 0) -> ListenEvent {
        ListenEvent(
            eventID: statement.text(at: c), userID: statement.text(at: c + 1), username: statement.text(at: c + 2),
            email: statement.text(at: c + 3), trackID: statement.text(at: c + 4), title: statement.text(at: c + 5),
            artist: statement.text(at: c + 6), genre: statement.text(at: c + 7), platform: statement.text(at: c + 8),
            mood: statement.text(at: c + 9), city: statement.text(at: c + 10), country: statement.text(at: c + 11),
            duration: statement.int(at: c + 12), listenPosition: statement.int(at: c + 13),
            rating: statement.int(at: c + 14), timestamp: statement.int64(at: c + 15))
    }
}
