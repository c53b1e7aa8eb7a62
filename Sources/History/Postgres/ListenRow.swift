import MusicModel

/// How a listen maps to a `listens` row and back: the COPY fields of one stored row (in
/// `PostgresSchema.insertColumns` order, binary, typed as the table's columns) and the event read
/// from `PostgresSchema.selectColumns`.
enum ListenRow {
    static var columnCount: Int { PostgresSchema.insertColumns.count }

    /// The session's staging table: batches are copied here, then moved into `listens` by one
    /// INSERT, so the unique (timestamp, event_id) skips listens already stored (COPY alone would
    /// fail the whole batch on one) and its row count says how many were new. Temporary (never
    /// WAL-logged, private to the session) and emptied at every commit; a rolled-back batch's
    /// rows go with the rollback.
    static let staging = "listens_staging"

    static let createStaging =
        "CREATE TEMP TABLE IF NOT EXISTS \(staging) (LIKE listens) ON COMMIT DELETE ROWS"

    static let copyStatement =
        "COPY \(staging) (" + PostgresSchema.insertColumns.joined(separator: ", ") + ") FROM STDIN (FORMAT binary)"

    static let insertFromStaging =
        "INSERT INTO listens (" + PostgresSchema.insertColumns.joined(separator: ", ") + ") SELECT "
        + PostgresSchema.insertColumns.joined(separator: ", ") + " FROM \(staging) ON CONFLICT DO NOTHING"

    /// One row's fields. A rating beyond integer's range (the decoder allows 0...5) is refused
    /// as the server refused it as a parameter, rather than stored cut to 32 bits.
    static func append(_ record: HistoryRecord, to buffer: inout PostgresCopyBuffer) throws(PostgresError) {
        let event = record.event
        guard let rating = Int32(exactly: event.rating) else {
            throw PostgresError(
                message: "listen \(event.eventID): rating \(event.rating) is out of range for type integer",
                sqlState: "22003", isUnavailable: false)
        }
        buffer.startRow(fields: Int16(columnCount))
        buffer.append(event.eventID)
        buffer.append(event.userID)
        buffer.append(event.username)
        buffer.append(event.email)
        buffer.append(event.trackID)
        buffer.append(event.title)
        buffer.append(event.artist)
        buffer.append(event.genre)
        buffer.append(event.platform)
        buffer.append(event.mood)
        buffer.append(event.city)
        buffer.append(event.country)
        buffer.append(Int64(event.duration))
        buffer.append(Int64(event.listenPosition))
        buffer.append(rating)
        buffer.append(event.timestamp)
        buffer.append(event.completed)
        buffer.append(record.partition)
        buffer.append(record.offset)
    }

    /// The listen in `row`, its columns in `PostgresSchema.selectColumns` order from `first`.
    static func event(in result: PostgresResult, row: Int, first: Int = 0) -> ListenEvent {
        ListenEvent(
            eventID: result.string(row, first),
            userID: result.string(row, first + 1),
            username: result.string(row, first + 2),
            email: result.string(row, first + 3),
            trackID: result.string(row, first + 4),
            title: result.string(row, first + 5),
            artist: result.string(row, first + 6),
            genre: result.string(row, first + 7),
            platform: result.string(row, first + 8),
            mood: result.string(row, first + 9),
            city: result.string(row, first + 10),
            country: result.string(row, first + 11),
            duration: result.int(row, first + 12) ?? 0,
            listenPosition: result.int(row, first + 13) ?? 0,
            rating: result.int(row, first + 14) ?? 0,
            timestamp: result.int64(row, first + 15) ?? 0)
    }
}
