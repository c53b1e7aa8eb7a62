import MusicModel

/// How a `ListenEvent` maps onto a `listens` row (schema 3: text as `texts` ids), in one place
/// for the writer's insert and the readers' selects, so the column order cannot drift.
enum SQLiteListenRow {
    /// The event's columns in `ListenEvent`'s order: the select list, and the insert's first
    /// parameters (then completed, kafka_partition, kafka_offset).
    static let eventColumns = """
        event_id, user_id, username, email, track_id, title, artist, genre, platform, mood, city, country, \
        duration, listen_position, rating, timestamp
        """

    /// Every column, in the insert's order.
    static let columns = eventColumns + ", completed, kafka_partition, kafka_offset"

    /// Each column's value list position: the text columns in `ListenTextColumn`'s order.
    private static let textColumns = ListenTextColumn.allCases

    /// A conflict on `listens_by_time (timestamp, event_id)` is a listen stored before: skipped.
    static let insert = """
        INSERT INTO listens (\(columns))
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
        ON CONFLICT DO NOTHING
        """

    /// Binds one record to `insert`'s parameters, its texts as ids: from `known` (one per
    /// `ListenTextColumn`, 0 where not known) or else from `dictionary`. Returns what
    /// `facet_blocks` keeps of it, with the ids just bound.
    static func bind(
        _ record: HistoryRecord, known: ArraySlice<Int64>? = nil, to statement: SQLiteStatement,
        dictionary: SQLiteTextDictionary
    ) throws(HistoryError) -> SQLiteFacetRow {
        let event = record.event
        try statement.bind(event.eventID, at: 1)
        // On the stack: a listen's eleven ids, indexed by `rawValue - 1`.
        let facet = try withUnsafeTemporaryAllocation(of: Int64.self, capacity: textColumns.count) {
            ids throws(HistoryError) -> SQLiteFacetRow in
            var index = known?.startIndex ?? 0
            for (slot, column) in textColumns.enumerated() {
                var id = known?[index] ?? 0
                index += 1
                if id == 0 { id = try dictionary.id(of: column.value(in: event), in: column) }
                try statement.bind(id, at: Int32(column.rawValue + 1))
                ids[slot] = id
            }
            func id(_ column: ListenTextColumn) -> Int64 { ids[Int(column.rawValue) - 1] }
            return SQLiteFacetRow(
                timestamp: event.timestamp, genre: id(.genre), platform: id(.platform), mood: id(.mood),
                country: id(.country), artist: id(.artist), rating: event.rating, completed: event.completed)
        }
        try statement.bind(event.duration, at: 13)
        try statement.bind(event.listenPosition, at: 14)
        try statement.bind(event.rating, at: 15)
        try statement.bind(event.timestamp, at: 16)
        // The model's own rule, so the stored flag and `ListenEvent.completed` always agree.
        try statement.bind(event.completed ? 1 : 0, at: 17)
        try statement.bind(Int64(record.partition), at: 18)
        try statement.bind(record.offset, at: 19)
        return facet
    }

    /// The event in the current row of a statement that selected `eventColumns` starting at
    /// column `firstColumn`, its texts looked up in `lookup`.
    static func event(
        from statement: SQLiteStatement, firstColumn c: Int32 = 0, lookup: SQLiteTextLookup
    ) throws(HistoryError) -> ListenEvent {
        func text(_ offset: Int32) throws(HistoryError) -> String { try lookup.text(statement.int64(at: c + offset)) }
        return ListenEvent(
            eventID: statement.text(at: c), userID: try text(1), username: try text(2), email: try text(3),
            trackID: try text(4), title: try text(5), artist: try text(6), genre: try text(7), platform: try text(8),
            mood: try text(9), city: try text(10), country: try text(11),
            duration: statement.int(at: c + 12), listenPosition: statement.int(at: c + 13),
            rating: statement.int(at: c + 14), timestamp: statement.int64(at: c + 15))
    }

    /// What `facet_blocks` holds of the listen in the current row of a statement that selected
    /// `eventColumns` from column `firstColumn` (`event` read from the same row).
    static func facetRow(from statement: SQLiteStatement, firstColumn c: Int32 = 0, event: ListenEvent) -> SQLiteFacetRow {
        func id(_ column: ListenTextColumn) -> Int64 { statement.int64(at: c + Int32(column.rawValue)) }
        return SQLiteFacetRow(
            timestamp: event.timestamp, genre: id(.genre), platform: id(.platform), mood: id(.mood),
            country: id(.country), artist: id(.artist), rating: event.rating, completed: event.completed)
    }
}
