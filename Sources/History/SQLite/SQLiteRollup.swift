import MusicModel

/// SQLite's roll-up tables (`Rollup` says what they hold and why): their schema, filling
/// them from the listens of an older file, and applying a batch's `Rollup.Delta`.
enum SQLiteRollup {
    static let minute = Rollup.minute
    static let hour = Rollup.hour
    typealias Delta = Rollup.Delta
    typealias Plan = Rollup.Plan

    static let schema = """
        CREATE TABLE IF NOT EXISTS rollup_listens (
            unit INTEGER NOT NULL,
            start INTEGER NOT NULL,
            listens INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            PRIMARY KEY (unit, start)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_facets (
            unit INTEGER NOT NULL,
            start INTEGER NOT NULL,
            facet TEXT NOT NULL,
            value TEXT NOT NULL,
            listens INTEGER NOT NULL,
            PRIMARY KEY (unit, start, facet, value)
        ) STRICT, WITHOUT ROWID;
        """

    /// floor(timestamp / unit) * unit in SQL, right for negative timestamps too.
    static func floorSQL(_ column: String, _ unit: Int64) -> String {
        "(\(column) - (((\(column) % \(unit)) + \(unit)) % \(unit)))"
    }

    /// The roll-ups of the listens already stored (the schema 2 migration).
    static func fill(_ connection: SQLiteConnection) throws(HistoryError) {
        for unit in Rollup.units {
            let start = floorSQL("timestamp", unit)
            try connection.exec(
                """
                INSERT INTO rollup_listens (unit, start, listens, skipped)
                SELECT \(unit), \(start), COUNT(*), SUM(1 - completed) FROM listens GROUP BY \(start)
                """, doing: "filling rollup_listens")
            for facet in Facet.allCases {
                let value = switch facet {
                case .genre, .platform, .mood, .country, .artist: facet.rawValue
                case .rating: "CAST(rating AS TEXT)"
                case .skipped: "CASE completed WHEN 0 THEN 'true' ELSE 'false' END"
                case .completed: "CASE completed WHEN 1 THEN 'true' ELSE 'false' END"
                }
                try connection.exec(
                    """
                    INSERT INTO rollup_facets (unit, start, facet, value, listens)
                    SELECT \(unit), \(start), '\(facet.rawValue)', \(value), COUNT(*) FROM listens
                    GROUP BY \(start), \(value)
                    """, doing: "filling rollup_facets")
            }
        }
    }

    /// The statements that apply a `Delta`, prepared once per connection.
    final class Statements {
        let addListens: SQLiteStatement
        let addFacet: SQLiteStatement
        let dropEmpty: SQLiteStatement
        let dropEmptyFacets: SQLiteStatement

        init(_ connection: SQLiteConnection) throws(HistoryError) {
            addListens = try connection.prepare(
                """
                INSERT INTO rollup_listens (unit, start, listens, skipped) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT (unit, start) DO UPDATE
                SET listens = listens + excluded.listens, skipped = skipped + excluded.skipped
                """, doing: "rolling up listens", persistent: true)
            addFacet = try connection.prepare(
                """
                INSERT INTO rollup_facets (unit, start, facet, value, listens) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (unit, start, facet, value) DO UPDATE SET listens = listens + excluded.listens
                """, doing: "rolling up facet values", persistent: true)
            dropEmpty = try connection.prepare(
                "DELETE FROM rollup_listens WHERE listens <= 0", doing: "dropping empty roll-ups", persistent: true)
            dropEmptyFacets = try connection.prepare(
                "DELETE FROM rollup_facets WHERE listens <= 0", doing: "dropping empty roll-ups", persistent: true)
        }

        /// Applies `delta` inside the caller's transaction; after a subtraction, rows that
        /// reached zero are removed (a rolled-up value with no listen must not be listed).
        func apply(_ delta: Delta) throws(HistoryError) {
            let (listens, facets) = delta.changes()
            for change in listens {
                defer { addListens.reset() }
                try addListens.bind(change.unit, at: 1)
                try addListens.bind(change.start, at: 2)
                try addListens.bind(change.listens, at: 3)
                try addListens.bind(change.skipped, at: 4)
                try addListens.run()
            }
            for change in facets {
                defer { addFacet.reset() }
                try addFacet.bind(change.unit, at: 1)
                try addFacet.bind(change.start, at: 2)
                try addFacet.bind(change.facet.rawValue, at: 3)
                try addFacet.bind(change.value, at: 4)
                try addFacet.bind(change.listens, at: 5)
                try addFacet.run()
            }
            if listens.contains(where: { $0.listens < 0 }) || facets.contains(where: { $0.listens < 0 }) {
                defer { dropEmpty.reset(); dropEmptyFacets.reset() }
                try dropEmpty.run()
                try dropEmptyFacets.run()
            }
        }
    }
}
