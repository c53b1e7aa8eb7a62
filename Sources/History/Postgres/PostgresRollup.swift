import MusicModel

/// PostgreSQL's roll-up tables (`Rollup` says what they hold and why): created with the other
/// tables and filled from the listens already stored, changed by the writer in the transaction
/// of the listens (`apply`), cut by retention (`removeDay`, `apply` of what it deleted).
enum PostgresRollup {
    static let tables = ["rollup_listens", "rollup_facets"]

    /// Both tables, then their rows for the listens stored so far (run once, when they are new,
    /// under the DDL lock: a store written before the roll-ups existed gets them complete).
    static let create = [
        """
        CREATE TABLE rollup_listens (
            unit bigint NOT NULL,
            start bigint NOT NULL,
            listens bigint NOT NULL,
            skipped bigint NOT NULL,
            PRIMARY KEY (unit, start)
        )
        """,
        """
        CREATE TABLE rollup_facets (
            unit bigint NOT NULL,
            start bigint NOT NULL,
            facet text NOT NULL,
            value text COLLATE "C" NOT NULL,
            listens bigint NOT NULL,
            PRIMARY KEY (unit, start, facet, value)
        )
        """,
    ] + [Rollup.minute, Rollup.hour].flatMap { unit in
        let start = floorSQL("\"timestamp\"", unit)
        return [
            """
            INSERT INTO rollup_listens (unit, start, listens, skipped)
            SELECT \(unit), \(start), count(*), count(*) FILTER (WHERE NOT completed) FROM listens GROUP BY 2
            """,
            """
            INSERT INTO rollup_facets (unit, start, facet, value, listens)
            SELECT \(unit), \(start), v.facet, v.value, count(*) FROM listens, LATERAL \(facetValuesOfRow)
            GROUP BY 2, 3, 4
            """,
        ]
    }

    /// A listen's (facet, value) pairs as /api/facets spells them.
    static let facetValuesOfRow = """
        (VALUES ('genre', genre), ('platform', platform), ('mood', mood), ('country', country), \
        ('artist', artist), ('rating', rating::text), ('skipped', CASE WHEN completed THEN 'false' ELSE 'true' END), \
        ('completed', CASE WHEN completed THEN 'true' ELSE 'false' END)) AS v(facet, value)
        """

    /// floor(column / unit) * unit in SQL, right for negative timestamps too.
    static func floorSQL(_ column: String, _ unit: Int64) -> String {
        "(\(column) - (((\(column) % \(unit)) + \(unit)) % \(unit)))"
    }

    /// Rows per upsert statement (five parameters each, well under libpq's 65,535).
    private static let rowsPerStatement = 5_000

    /// Applies `delta` in the caller's transaction: one upsert per table, rows in key order (so
    /// replicas writing the same minutes wait for each other rather than deadlock); after a
    /// subtraction, rows that reached zero go (a value no listen has must not be listed).
    static func apply(_ delta: Rollup.Delta, on connection: PostgresConnection) throws(PostgresError) {
        guard !delta.isEmpty else { return }
        let (listens, facets) = delta.changes()
        for chunk in stride(from: 0, to: listens.count, by: rowsPerStatement) {
            let rows = listens[chunk..<min(chunk + rowsPerStatement, listens.count)]
            var parameters = PostgresParameters(capacity: rows.count * 4)
            var values: [String] = []
            for (index, change) in rows.enumerated() {
                let n = index * 4
                values.append("($\(n + 1)::bigint, $\(n + 2)::bigint, $\(n + 3)::bigint, $\(n + 4)::bigint)")
                parameters.append(change.unit)
                parameters.append(change.start)
                parameters.append(change.listens)
                parameters.append(change.skipped)
            }
            try connection.execute(
                "INSERT INTO rollup_listens (unit, start, listens, skipped) VALUES " + values.joined(separator: ", ")
                    + " ON CONFLICT (unit, start) DO UPDATE SET listens = rollup_listens.listens + EXCLUDED.listens,"
                    + " skipped = rollup_listens.skipped + EXCLUDED.skipped", parameters)
        }
        // PostgreSQL text holds no NUL: the parameters send it as U+FFFD, as the listens hold it.
        // Two values that differ only there are one row: merged first (an upsert may not touch
        // a row twice).
        var merged: [(key: FacetKey, listens: Int)] = []
        var positions: [FacetKey: Int] = [:]
        for change in facets {
            let key = FacetKey(unit: change.unit, start: change.start, facet: change.facet.rawValue,
                               value: ExactText(change.value.contains("\u{0}") ? String(change.value.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }) : change.value))
            if let position = positions[key] {
                merged[position].listens += change.listens
            } else {
                positions[key] = merged.count
                merged.append((key, change.listens))
            }
        }
        for chunk in stride(from: 0, to: merged.count, by: rowsPerStatement) {
            let rows = merged[chunk..<min(chunk + rowsPerStatement, merged.count)]
            var parameters = PostgresParameters(capacity: rows.count * 5)
            var values: [String] = []
            for (index, row) in rows.enumerated() {
                let n = index * 5
                values.append("($\(n + 1)::bigint, $\(n + 2)::bigint, $\(n + 3), $\(n + 4), $\(n + 5)::bigint)")
                parameters.append(row.key.unit)
                parameters.append(row.key.start)
                parameters.append(row.key.facet)
                parameters.append(row.key.value.text)
                parameters.append(row.listens)
            }
            try connection.execute(
                "INSERT INTO rollup_facets (unit, start, facet, value, listens) VALUES " + values.joined(separator: ", ")
                    + " ON CONFLICT (unit, start, facet, value) DO UPDATE SET listens = rollup_facets.listens + EXCLUDED.listens",
                parameters)
        }
        if listens.contains(where: { $0.listens < 0 }) || merged.contains(where: { $0.listens < 0 }) {
            try connection.execute("DELETE FROM rollup_listens WHERE listens <= 0")
            try connection.execute("DELETE FROM rollup_facets WHERE listens <= 0")
        }
    }

    /// Removes the roll-ups of a day whose partition is being dropped, in that transaction (a
    /// UTC day is whole minutes and hours).
    static func removeDay(_ day: DayPartition, on connection: PostgresConnection) throws(PostgresError) {
        for table in tables {
            try connection.execute("DELETE FROM \(table) WHERE start >= $1::bigint AND start < $2::bigint") {
                $0.append(day.lowerBound)
                $0.append(day.upperBound)
            }
        }
    }

    private struct FacetKey: Hashable {
        var unit: Int64
        var start: Int64
        var facet: String
        var value: ExactText
    }
}
