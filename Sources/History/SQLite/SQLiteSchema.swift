/// The database's tables and their version (`PRAGMA user_version`), created by the first
/// connection that needs them. Bump `version` and add a step to `migrate` when they change.
enum SQLiteSchema {
    /// The schema this build reads and writes. 0 is SQLite's value for a new file.
    static let version: Int64 = 5

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

    /// Version 2 added the per-minute and per-hour roll-ups (`SQLiteRollup`), built here from
    /// the rows. (It also added an `ascii_mask` column, which schema 3's integer columns made
    /// unnecessary: a version 1 file goes on to version 3 without it.)
    private static func upgradeTo2(_ connection: SQLiteConnection) throws(HistoryError) {
        try connection.exec(SQLiteRollup.schema, doing: "creating the roll-ups (schema 2)")
        try SQLiteRollup.fill(connection)
    }

    /// Schema 4 adds `facet_blocks` (`SQLiteFacetBlocks`), filled from the listens stored, and
    /// drops `listens_facets`: the blocks answer what that index covered (a range and facet
    /// criteria); the queries left to the rows (q, track_id, user_id) read columns it lacks.
    /// One index fewer for the sink to keep.
    private static func upgradeTo4(_ connection: SQLiteConnection) throws(HistoryError) {
        try connection.exec(SQLiteFacetBlocks.schema, doing: "creating the facet blocks (schema 4)")
        let blocks = try SQLiteFacetBlocks(connection)
        let rows = try connection.prepare(
            """
            SELECT timestamp, genre, platform, mood, country, artist, rating, completed
            FROM listens ORDER BY timestamp
            """, doing: "reading the listens for the facet blocks (schema 4)")
        var chunk: [SQLiteFacetRow] = []
        while try rows.step() {
            chunk.append(SQLiteFacetRow(
                timestamp: rows.int64(at: 0), genre: rows.int64(at: 1), platform: rows.int64(at: 2),
                mood: rows.int64(at: 3), country: rows.int64(at: 4), artist: rows.int64(at: 5),
                rating: rows.int(at: 6), completed: rows.int(at: 7) == 1))
            if chunk.count == 100_000 {
                try blocks.append(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try blocks.append(chunk)
        rows.reset()
        try connection.exec("DROP INDEX IF EXISTS listens_facets", doing: "dropping listens_facets (schema 4)")
    }

    /// Schema 5 indexes listens by where they were read in Kafka: a `/stream` subscriber whose
    /// position the window no longer holds is replayed from here. Rows arrive in offset order
    /// per partition, so the index only ever grows at its ends (cheap for the sink).
    private static func upgradeTo5(_ connection: SQLiteConnection) throws(HistoryError) {
        try connection.exec(
            "CREATE INDEX IF NOT EXISTS listens_by_position ON listens (kafka_partition, kafka_offset)",
            doing: "indexing listens by Kafka position (schema 5)")
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
            if stored == 0 {
                // A new file: the current tables as they are, no steps through the older ones.
                try connection.exec(version3, doing: "creating the tables of schema 3")
                try connection.exec(SQLiteRollup.schema, doing: "creating the roll-ups")
                try upgradeTo4(connection)
                try upgradeTo5(connection)
            } else {
                if stored < 2 { try upgradeTo2(connection) }
                if stored < 3 { try upgradeTo3(connection) }
                if stored < 4 { try upgradeTo4(connection) }
                if stored < 5 { try upgradeTo5(connection) }
            }
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
