/// The database's tables and their version (`PRAGMA user_version`), created by the first
/// connection that needs them. Bump `version` and add a step to `migrate` when they change.
enum SQLiteSchema {
    /// The schema this build reads and writes. 0 is SQLite's value for a new file.
    static let version: Int64 = 2

    /// Version 1. `listens` holds every field of `ListenEvent`, in its order, plus the derived
    /// `completed` (stored so aggregates need not repeat the 80 % rule) and where the record
    /// was read from Kafka. The CHECKs are `ListenEvent`'s documented invariants, which the
    /// decoder guarantees: a row breaking one is a bug, refused rather than stored. STRICT
    /// makes SQLite refuse a value of the wrong type instead of converting it.
    ///
    /// - `listens_by_user`: per-user history, newest first (the original project's proposed
    ///   `music_streams_by_user` key); the user summary's aggregates read only this index's range.
    /// - `listens_by_time`: time ranges, unfiltered pages and exports, retention's deletes.
    /// - `sink_offsets`: per partition the next offset to read, written in the same transaction
    ///   as the listens read up to it, so the sink resumes exactly where the store ends.
    static let version1 = """
        CREATE TABLE IF NOT EXISTS listens (
            event_id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL,
            username TEXT NOT NULL,
            email TEXT NOT NULL,
            track_id TEXT NOT NULL,
            title TEXT NOT NULL,
            artist TEXT NOT NULL,
            genre TEXT NOT NULL,
            platform TEXT NOT NULL,
            mood TEXT NOT NULL,
            city TEXT NOT NULL,
            country TEXT NOT NULL,
            duration INTEGER NOT NULL CHECK (duration > 0),
            listen_position INTEGER NOT NULL CHECK (listen_position BETWEEN 0 AND duration),
            rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 5),
            timestamp INTEGER NOT NULL,
            completed INTEGER NOT NULL CHECK (completed IN (0, 1)),
            kafka_partition INTEGER NOT NULL,
            kafka_offset INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX IF NOT EXISTS listens_by_user ON listens (user_id, timestamp, event_id);
        CREATE INDEX IF NOT EXISTS listens_by_time ON listens (timestamp, event_id);
        CREATE TABLE IF NOT EXISTS sink_offsets (
            topic TEXT NOT NULL,
            kafka_partition INTEGER NOT NULL,
            next_offset INTEGER NOT NULL,
            PRIMARY KEY (topic, kafka_partition)
        ) STRICT;
        """

    /// Version 2 adds `ascii_mask` (`SQLiteTextMask`): which text columns are ASCII, so
    /// aggregates decide those rows' filters in SQL exactly as `EventFilter` would; and the
    /// per-minute and per-hour roll-ups (`SQLiteRollup`). A version 1 file is migrated in
    /// place: the column is added with 0 ("decide in Swift", correct for any row) and then
    /// filled from the rows' own text, in batches by rowid; the roll-ups are built from the rows.
    private static func upgradeTo2(_ connection: SQLiteConnection) throws(HistoryError) {
        try connection.exec(
            "ALTER TABLE listens ADD COLUMN ascii_mask INTEGER NOT NULL DEFAULT 0",
            doing: "adding ascii_mask (schema 2)")
        let select = try connection.prepare(
            """
            SELECT rowid, genre, platform, mood, country, artist, title, username FROM listens
            WHERE rowid > ?1 ORDER BY rowid LIMIT 10000
            """, doing: "reading listens to fill ascii_mask")
        let update = try connection.prepare(
            "UPDATE listens SET ascii_mask = ?1 WHERE rowid = ?2", doing: "filling ascii_mask")
        var last: Int64 = Int64.min
        while true {
            // Read a batch, then update it: the select is reset before any row changes.
            var batch: [(rowid: Int64, mask: Int64)] = []
            try select.bind(last, at: 1)
            while try select.step() {
                batch.append((select.int64(at: 0), SQLiteTextMask.of(
                    genre: select.text(at: 1), platform: select.text(at: 2), mood: select.text(at: 3),
                    country: select.text(at: 4), artist: select.text(at: 5), title: select.text(at: 6),
                    username: select.text(at: 7))))
            }
            select.reset()
            guard let end = batch.last else { break }
            for row in batch where row.mask != 0 {
                defer { update.reset() }
                try update.bind(row.mask, at: 1)
                try update.bind(row.rowid, at: 2)
                try update.run()
            }
            last = end.rowid
        }
        try connection.exec(SQLiteRollup.schema, doing: "creating the roll-ups (schema 2)")
        try SQLiteRollup.fill(connection)
    }

    /// The file's schema version.
    static func storedVersion(_ connection: SQLiteConnection) throws(HistoryError) -> Int64 {
        let statement = try connection.prepare("PRAGMA user_version", doing: "reading the schema version")
        guard try statement.step() else { return 0 }
        return statement.int64(at: 0)
    }

    /// Brings the file to `version`, one step after another from what it has (a new file gets
    /// schema 1's tables, then each later step); a no-op when it is there. Refuses a file written by a
    /// newer build rather than guess at tables it does not know.
    static func migrate(_ connection: SQLiteConnection) throws(HistoryError) {
        if try storedVersion(connection) == version { return }
        try connection.transaction(immediate: true, doing: "creating the schema") {
            () throws(HistoryError) in
            // Read again under the write lock: another process may have just done it.
            let stored = try storedVersion(connection)
            if stored == version { return }
            guard stored < version else { throw newer(stored, connection) }
            if stored == 0 { try connection.exec(version1, doing: "creating the tables of schema 1") }
            if stored < 2 { try upgradeTo2(connection) }
            try connection.exec("PRAGMA user_version = \(version)", doing: "setting the schema version")
        }
    }

    /// Fails unless the file has exactly this build's schema (readers never create it).
    static func check(_ connection: SQLiteConnection) throws(HistoryError) {
        let stored = try storedVersion(connection)
        if stored == version { return }
        if stored > version { throw newer(stored, connection) }
        throw HistoryError(
            "sqlite \(connection.path): has schema \(stored), expected \(version): open it once with a writer "
                + "(start the server with this file) to migrate it", isUnavailable: true)
    }

    private static func newer(_ stored: Int64, _ connection: SQLiteConnection) -> HistoryError {
        HistoryError(
            "sqlite \(connection.path): has schema \(stored), newer than this build's \(version): "
                + "it was written by a later version", isUnavailable: true)
    }
}
