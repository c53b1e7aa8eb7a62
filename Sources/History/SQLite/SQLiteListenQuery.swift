import MusicModel

/// The SQL of one page of listens: only the criteria SQL decides exactly as `EventFilter`
/// does, with an index to serve them, plus the keyset condition and the order. Everything
/// else is left to `EventFilter.matches` on each row read, the code the window uses, so the
/// history and the window cannot disagree about what a filter means.
///
/// Pushed into SQL: `userID` (its `texts` id, the `listens_by_user` index), `since` and `until`
/// (a range on either index). Not pushed: the other criteria. In SQL they would make SQLite
/// scan any number of rows inside one call, where decided in Swift each row counts against the
/// caller's `scanLimit`, which bounds the work of a page.
struct SQLiteListenQuery {
    /// A parameter's value, bound by position (`?1`, `?2`, ... in `sql`).
    enum Value {
        case integer(Int64)
        case text(String)
    }

    /// Same text for the same shape of query, so it doubles as the prepared statement's key.
    let sql: String
    let values: [Value]

    /// At most `rowLimit` rows in `order`, strictly after `cursor`.
    /// `user` is the `texts` id of `filter.userID` (the caller looks it up).
    init(filter: EventFilter, user: Int64?, order: HistoryOrder, after cursor: HistoryCursor?, rowLimit: Int) {
        var conditions: [String] = []
        var values: [Value] = []
        func parameter(_ value: Value) -> String {
            values.append(value)
            return "?\(values.count)"
        }
        // One bound on each side of the range. Given `until` and a cursor (newest first),
        // SQLite would seek on `until` and test the cursor row by row, so each later page
        // would cost more than the last; the tighter of the two alone says the same.
        var since = filter.since
        var until = filter.until
        var cursor = cursor
        if let after = cursor {
            switch order {
            case .newestFirst:
                if let bound = until, bound <= after.timestamp { cursor = nil } else { until = nil }
            case .oldestFirst:
                if let bound = since, bound > after.timestamp { cursor = nil } else { since = nil }
            }
        }
        if let user {
            conditions.append("user_id = \(parameter(.integer(user)))")
        }
        if let since {
            conditions.append("timestamp >= \(parameter(.integer(since)))")
        }
        if let until {
            conditions.append("timestamp < \(parameter(.integer(until)))")
        }
        let direction = order == .newestFirst ? "DESC" : "ASC"
        if let cursor {
            // A row value: SQLite turns it into a range on `listens_by_time`'s (timestamp,
            // event_id), or on `listens_by_user`'s timestamp, so a page starts with a seek,
            // never a scan of the rows before it.
            let comparison = order == .newestFirst ? "<" : ">"
            let timestamp = parameter(.integer(cursor.timestamp))
            let eventID = parameter(.text(cursor.eventID))
            conditions.append("(timestamp, event_id) \(comparison) (\(timestamp), \(eventID))")
        }
        let limit = parameter(.integer(Int64(rowLimit)))
        sql = "SELECT \(SQLiteListenRow.eventColumns) FROM listens"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY timestamp \(direction), event_id \(direction) LIMIT \(limit)"
        self.values = values
    }

    func bind(to statement: SQLiteStatement) throws(HistoryError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .integer(let number): try statement.bind(number, at: index)
            case .text(let text): try statement.bind(text, at: index)
            }
        }
    }
}
