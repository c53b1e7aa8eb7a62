import MusicModel

/// How a listen maps to a `listens` row and back: the parameters of one inserted row (in
/// `PostgresSchema.insertColumns` order) and the event read from `PostgresSchema.selectColumns`.
enum ListenRow {
    static var columnCount: Int { PostgresSchema.insertColumns.count }

    static func append(_ record: HistoryRecord, to parameters: inout PostgresParameters) {
        let event = record.event
        parameters.append(event.eventID)
        parameters.append(event.userID)
        parameters.append(event.username)
        parameters.append(event.email)
        parameters.append(event.trackID)
        parameters.append(event.title)
        parameters.append(event.artist)
        parameters.append(event.genre)
        parameters.append(event.platform)
        parameters.append(event.mood)
        parameters.append(event.city)
        parameters.append(event.country)
        parameters.append(event.duration)
        parameters.append(event.listenPosition)
        parameters.append(event.rating)
        parameters.append(event.timestamp)
        parameters.append(event.completed)
        parameters.append(record.partition)
        parameters.append(record.offset)
    }

    /// `INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING` for `rows` rows: one round trip
    /// for a whole chunk, and a listen already stored is skipped rather than failing the batch.
    static func insertStatement(rows: Int) -> String {
        var sql = "INSERT INTO listens (" + PostgresSchema.insertColumns.joined(separator: ", ") + ") VALUES "
        sql.reserveCapacity(sql.utf8.count + rows * columnCount * 7)
        var parameter = 1
        for row in 0..<rows {
            sql += row == 0 ? "(" : ", ("
            for column in 0..<columnCount {
                if column > 0 { sql += "," }
                sql += "$" + String(parameter)
                parameter += 1
            }
            sql += ")"
        }
        return sql + " ON CONFLICT DO NOTHING"
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
