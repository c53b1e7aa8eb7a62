/// The PostgreSQL store's tables, created when missing by whichever replica gets there first.
///
/// `listens` holds every field of `ListenEvent`, `completed` (decided on insert by
/// `ListenEvent.completed`, so SQL aggregates and the window agree) and where the record was read
/// from Kafka. It is partitioned by UTC day on `timestamp` (ms), so retention drops whole days
/// instead of deleting row by row. PostgreSQL wants a partitioned table's unique constraints to
/// include the partition key: UNIQUE (timestamp, event_id) still stores each event once, since an
/// event keeps its timestamp. Time first, so new listens land near the end of that index (with
/// event_id first every insert went to a random page), and it serves the keyset pages too. `event_id`, `user_id` and `track_id` compare bytewise (COLLATE "C"),
/// as the SQLite store and Swift do, so paging ties break in the same order everywhere.
enum PostgresSchema {
    /// pg_advisory_xact_lock key serialising DDL between replicas ("musicshd" in ASCII): two
    /// replicas creating the same day's partition would otherwise race in the catalogue and one
    /// fail with a duplicate-key error, even with IF NOT EXISTS.
    static let ddlLockKey: Int64 = 0x6D75_7369_6373_6864

    /// Columns of an inserted row, in parameter order.
    static let insertColumns = [
        "event_id", "user_id", "username", "email", "track_id", "title", "artist", "genre", "platform", "mood",
        "city", "country", "duration", "listen_position", "rating", "\"timestamp\"", "completed",
        "kafka_partition", "kafka_offset",
    ]

    /// Columns read back into a `ListenEvent`, in `ListenRow.event(in:row:)`'s order.
    static let selectColumns =
        "event_id, user_id, username, email, track_id, title, artist, genre, platform, mood, city, country, "
        + "duration, listen_position, rating, \"timestamp\""

    private static let objects = [
        "listens", "sink_offsets", "listens_by_user", "listens_by_track", "listen_values",
    ]

    /// The filterable columns' values as (kind, value) rows of one listen, for `listen_values`.
    static let valuesOfRow = "(VALUES " + ListenTextColumn.filterable.map { "(\($0.rawValue), \($0.name))" }
        .joined(separator: ", ") + ") AS v(kind, value)"

    private static var statements: [String] { [
        """
        CREATE TABLE IF NOT EXISTS listens (
            event_id text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            username text NOT NULL,
            email text NOT NULL,
            track_id text COLLATE "C" NOT NULL,
            title text NOT NULL,
            artist text NOT NULL,
            genre text NOT NULL,
            platform text NOT NULL,
            mood text NOT NULL,
            city text NOT NULL,
            country text NOT NULL,
            duration bigint NOT NULL,
            listen_position bigint NOT NULL,
            rating integer NOT NULL,
            "timestamp" bigint NOT NULL,
            completed boolean NOT NULL,
            kafka_partition integer NOT NULL,
            kafka_offset bigint NOT NULL,
            CONSTRAINT listens_event_once UNIQUE ("timestamp", event_id)
        ) PARTITION BY RANGE ("timestamp")
        """,
        // The original project's music_streams_by_user key: a listener's history, in time order.
        #"CREATE INDEX IF NOT EXISTS listens_by_user ON listens (user_id, "timestamp", event_id)"#,
        // track_id is decided in SQL; without this a rare track would scan the whole history.
        #"CREATE INDEX IF NOT EXISTS listens_by_track ON listens (track_id, "timestamp", event_id)"#,
        // Every value the filterable columns have held (`ListenTextColumn.filterable`), so a
        // criterion is decided once per distinct value by `EventFilter` and the aggregates
        // compare with `= ANY(values)` (`PostgresFilter`). Only grows: retention leaves values
        // no listen has any more, which match nothing. Filled from the rows when it is new.
        """
        CREATE TABLE IF NOT EXISTS listen_values (
            kind smallint NOT NULL,
            value text COLLATE "C" NOT NULL,
            PRIMARY KEY (kind, value)
        )
        """,
        """
        INSERT INTO listen_values (kind, value)
        SELECT DISTINCT v.kind, v.value FROM listens, LATERAL \(valuesOfRow)
        ON CONFLICT DO NOTHING
        """,
        """
        CREATE TABLE IF NOT EXISTS sink_offsets (
            topic text NOT NULL,
            kafka_partition integer NOT NULL,
            next_offset bigint NOT NULL,
            PRIMARY KEY (topic, kafka_partition)
        )
        """,
    ] }

    /// Creates whatever is missing. When everything exists it only looks (one round trip, no
    /// lock), so readers on a read-only role open fine.
    static func ensure(on connection: PostgresConnection) throws(PostgresError) {
        let present = try connection.execute(
            "SELECT count(*) FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL"
        ) { $0.append("{" + objects.joined(separator: ",") + "}") }
        if present.int(0, 0) != objects.count {
            try connection.transaction { () throws(PostgresError) in
                try lockDDL(on: connection)
                for statement in statements { try connection.execute(statement) }
            }
        }
        try reorderUniqueConstraint(on: connection)
        try createRollups(on: connection)
        try createPositionIndex(on: connection)
    }

    /// Listens by where they were read in Kafka, for replaying a `/stream` subscriber the
    /// window no longer holds. Added to stores made before it (under the DDL lock).
    private static func createPositionIndex(on connection: PostgresConnection) throws(PostgresError) {
        let exists = "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'listens_by_position'"
        guard try connection.execute(exists).int(0, 0) == 0 else { return }
        try connection.transaction { () throws(PostgresError) in
            try lockDDL(on: connection)
            guard try connection.execute(exists).int(0, 0) == 0 else { return }
            try connection.execute("CREATE INDEX IF NOT EXISTS listens_by_position ON listens (kafka_partition, kafka_offset)")
        }
    }

    /// The roll-up tables, made and filled from the listens when missing (a store written
    /// before they existed). One look at the catalogue when they are there.
    private static func createRollups(on connection: PostgresConnection) throws(PostgresError) {
        // The catalogue itself rather than to_regclass, whose cached answer the advisory lock
        // does not refresh: the check under the lock must see another replica's new tables.
        let query = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1::text[])"
        let names = "{" + PostgresRollup.tables.joined(separator: ",") + "}"
        guard try connection.execute(query, parameters: { $0.append(names) }).int(0, 0) != PostgresRollup.tables.count else { return }
        try connection.transaction { () throws(PostgresError) in
            try lockDDL(on: connection)
            // Again under the lock: another replica may have made them meanwhile.
            guard try connection.execute(query, parameters: { $0.append(names) }).int(0, 0) == 0 else { return }
            for statement in PostgresRollup.create { try connection.execute(statement) }
        }
    }

    /// Stores created before the unique constraint put time first: it is rebuilt as
    /// ("timestamp", event_id), which also makes the separate time index redundant (dropped).
    /// One look at the catalogue when there is nothing to do.
    private static func reorderUniqueConstraint(on connection: PostgresConnection) throws(PostgresError) {
        let definition = #"UNIQUE ("timestamp", event_id)"#
        let current = try connection.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                + "WHERE conname = 'listens_event_once' AND conrelid = 'listens'::regclass")
        guard current.rowCount == 1, current.string(0, 0) != definition else { return }
        try connection.transaction { () throws(PostgresError) in
            try lockDDL(on: connection)
            // Read again under the lock: another replica may have done it meanwhile.
            let again = try connection.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    + "WHERE conname = 'listens_event_once' AND conrelid = 'listens'::regclass")
            guard again.rowCount == 1, again.string(0, 0) != definition else { return }
            try connection.execute("ALTER TABLE listens DROP CONSTRAINT listens_event_once")
            try connection.execute("ALTER TABLE listens ADD CONSTRAINT listens_event_once \(definition)")
            try connection.execute("DROP INDEX IF EXISTS listens_by_time")
        }
    }

    /// Creates `partitions` that do not exist yet, in one short transaction of its own: creating
    /// a partition locks the parent table, which must not stay locked for a whole write.
    static func create(_ partitions: [DayPartition], on connection: PostgresConnection) throws(PostgresError) {
        guard !partitions.isEmpty else { return }
        try connection.transaction { () throws(PostgresError) in
            try lockDDL(on: connection)
            for partition in partitions {
                try connection.execute(
                    "CREATE TABLE IF NOT EXISTS \(quoted(partition.name)) PARTITION OF listens "
                        + "FOR VALUES FROM (\(partition.lowerBound)) TO (\(partition.upperBound))")
            }
        }
    }

    /// The day partitions that exist now (tables attached to `listens` under a name this store
    /// gives; others are left alone).
    static func partitions(on connection: PostgresConnection) throws(PostgresError) -> [DayPartition] {
        let result = try connection.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                + "WHERE i.inhparent = 'listens'::regclass")
        var found: [DayPartition] = []
        for row in 0..<result.rowCount {
            if let partition = DayPartition(name: result.string(row, 0)) { found.append(partition) }
        }
        return found.sorted()
    }

    /// Waits for other replicas' DDL; held until the current transaction ends.
    static func lockDDL(on connection: PostgresConnection) throws(PostgresError) {
        try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)") { $0.append(ddlLockKey) }
    }

    /// An identifier in double quotes. Our names are plain, but quoting costs nothing.
    static func quoted(_ identifier: String) -> String {
        var text = "\""
        for character in identifier {
            if character == "\"" { text.append("\"") }
            text.append(character)
        }
        return text + "\""
    }
}
