/// Schema 3: every text field of a listen stored once per distinct value, in `texts`, and
/// referred to by id; two indexes on `listens` instead of three.
///
/// Why: the sink must keep up with a topic read at a few hundred thousand listens a second.
/// With text columns a row took ~470 bytes on disk, and each batch rewrote pages all over three
/// indexes (the event_id index alone is random in UUID order): 22,000 rows a second from C in
/// batches of 2,000 (a throwaway program, 300,000 rows, this machine, 2026-12-04). With integer
/// columns and these indexes: ~135 bytes a listen and 5-7x the rate. Filters compare integers.
///
/// - `texts (id, kind, value)`: `kind` is the column (`ListenTextColumn`), so each column
///   has its own set of values; unique per (kind, value).
/// - `listens`: `event_id` as text (cursors and answers carry it), the text columns as ids.
/// - `listens_by_time (timestamp, event_id)`, UNIQUE: ranges, pages, exports, retention; and
///   the second guard that stores each listen once. A listen keeps its timestamp, so a record
///   read twice meets its first copy here (the PostgreSQL store's constraint is the same).
///   New listens arrive near the end of it, so inserts touch few of its pages.
/// - `listens_by_user (user_id, timestamp)`: a user's history and summary. Ties of one user's
///   millisecond are put in event_id order by SQLite's sort of the (few) rows concerned.
/// - `listens_facets (timestamp, genre, platform, mood, country, artist, rating, completed)`:
///   covers what facets, timelines and counts read, so a range is aggregated from the index
///   alone (~25 bytes a listen) instead of the rows. New listens land near its end.
extension SQLiteSchema {
    static let version3 = """
        CREATE TABLE IF NOT EXISTS texts (
            id INTEGER PRIMARY KEY,
            kind INTEGER NOT NULL,
            value TEXT NOT NULL
        ) STRICT;
        CREATE UNIQUE INDEX IF NOT EXISTS texts_by_value ON texts (kind, value);
        CREATE TABLE IF NOT EXISTS listens (
            event_id TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            username INTEGER NOT NULL,
            email INTEGER NOT NULL,
            track_id INTEGER NOT NULL,
            title INTEGER NOT NULL,
            artist INTEGER NOT NULL,
            genre INTEGER NOT NULL,
            platform INTEGER NOT NULL,
            mood INTEGER NOT NULL,
            city INTEGER NOT NULL,
            country INTEGER NOT NULL,
            duration INTEGER NOT NULL CHECK (duration > 0),
            listen_position INTEGER NOT NULL CHECK (listen_position BETWEEN 0 AND duration),
            rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 5),
            timestamp INTEGER NOT NULL,
            completed INTEGER NOT NULL CHECK (completed IN (0, 1)),
            kafka_partition INTEGER NOT NULL,
            kafka_offset INTEGER NOT NULL
        ) STRICT;
        CREATE UNIQUE INDEX IF NOT EXISTS listens_by_time ON listens (timestamp, event_id);
        CREATE INDEX IF NOT EXISTS listens_by_user ON listens (user_id, timestamp);
        CREATE INDEX IF NOT EXISTS listens_facets
            ON listens (timestamp, genre, platform, mood, country, artist, rating, completed);
        CREATE TABLE IF NOT EXISTS sink_offsets (
            topic TEXT NOT NULL,
            kafka_partition INTEGER NOT NULL,
            next_offset INTEGER NOT NULL,
            PRIMARY KEY (topic, kafka_partition)
        ) STRICT;
        """

    /// A file of schema 1 or 2 (text columns) rebuilt in place: the texts collected, the rows
    /// copied in their order with ids for text, the old table dropped. The roll-ups and the
    /// stored offsets stay as they are (they hold text and numbers, unchanged).
    static func upgradeTo3(_ connection: SQLiteConnection) throws(HistoryError) {
        try connection.exec(
            """
            ALTER TABLE listens RENAME TO listens_text;
            DROP INDEX IF EXISTS listens_by_user;
            DROP INDEX IF EXISTS listens_by_time;
            DROP INDEX IF EXISTS listens_facets;
            """, doing: "setting the text columns' table aside (schema 3)")
        try connection.exec(version3, doing: "creating the tables of schema 3")
        for column in ListenTextColumn.allCases {
            try connection.exec(
                """
                INSERT OR IGNORE INTO texts (kind, value)
                SELECT DISTINCT \(column.rawValue), \(column.name) FROM listens_text
                """, doing: "collecting the \(column.name) values (schema 3)")
        }
        let ids = ListenTextColumn.allCases.map { column in
            "(SELECT id FROM texts WHERE kind = \(column.rawValue) AND value = old.\(column.name))"
        }.joined(separator: ", ")
        try connection.exec(
            """
            INSERT OR IGNORE INTO listens (\(SQLiteListenRow.columns))
            SELECT old.event_id, \(ids), old.duration, old.listen_position, old.rating, old.timestamp, old.completed,
                old.kafka_partition, old.kafka_offset
            FROM listens_text AS old ORDER BY old.rowid;
            DROP TABLE listens_text;
            """, doing: "copying the listens into schema 3")
    }
}
