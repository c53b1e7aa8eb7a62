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
    ] + Rollup.units.flatMap { unit in
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

    /// Rows per upsert statement (at most five parameters each, well under libpq's 65,535).
    private static let rowsPerStatement = 5_000

    /// Applies `delta` in the caller's transaction: one upsert per table, rows in key order (so
    /// replicas writing the same minutes wait for each other rather than deadlock); after a
    /// subtraction, rows that reached zero go (a value no listen has must not be listed).
    static func apply(_ delta: Rollup.Delta, on connection: PostgresConnection) throws(PostgresError) {
        guard !delta.isEmpty else { return }
        let (listens, facets) = delta.changes()
        try upsert(
            "INSERT INTO rollup_listens (unit, start, listens, skipped)", types: ["bigint", "bigint", "bigint", "bigint"],
            "ON CONFLICT (unit, start) DO UPDATE SET listens = rollup_listens.listens + EXCLUDED.listens, "
                + "skipped = rollup_listens.skipped + EXCLUDED.skipped",
            rows: listens.count, on: connection
        ) { index, parameters in
            let change = listens[index]
            parameters.append(change.unit)
            parameters.append(change.start)
            parameters.append(change.listens)
            parameters.append(change.skipped)
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
        try upsert(
            "INSERT INTO rollup_facets (unit, start, facet, value, listens)", types: ["bigint", "bigint", "text", "text", "bigint"],
            "ON CONFLICT (unit, start, facet, value) DO UPDATE SET listens = rollup_facets.listens + EXCLUDED.listens",
            rows: merged.count, on: connection
        ) { index, parameters in
            let (key, listens) = merged[index]
            parameters.append(key.unit)
            parameters.append(key.start)
            parameters.append(key.facet)
            parameters.append(key.value.text)
            parameters.append(listens)
        }
        if listens.contains(where: { $0.listens < 0 }) || merged.contains(where: { $0.listens < 0 }) {
            try connection.execute("DELETE FROM rollup_listens WHERE listens <= 0")
            try connection.execute("DELETE FROM rollup_facets WHERE listens <= 0")
        }
    }

    /// `insert` VALUES (one tuple per row, typed `types`, filled by `fill`) `conflict`, in
    /// statements of at most `rowsPerStatement` rows, in the rows' order.
    private static func upsert(
        _ insert: String, types: [String], _ conflict: String, rows: Int, on connection: PostgresConnection,
        fill: (Int, inout PostgresParameters) -> Void
    ) throws(PostgresError) {
        for first in stride(from: 0, to: rows, by: rowsPerStatement) {
            let last = min(first + rowsPerStatement, rows)
            var parameters = PostgresParameters(capacity: (last - first) * types.count)
            var tuples: [String] = []
            for index in first..<last {
                let base = (index - first) * types.count
                tuples.append("(" + types.enumerated().map { "$\(base + $0.offset + 1)::\($0.element)" }.joined(separator: ", ") + ")")
                fill(index, &parameters)
            }
            try connection.execute("\(insert) VALUES \(tuples.joined(separator: ", ")) \(conflict)", parameters)
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
