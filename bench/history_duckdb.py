"""DuckDB, the reference for the history section's queries: what an analytical engine does on
this machine with the same listens. The rows come from the history's CSV export (`musicstream
export`) into one table of a DuckDB file, with no index (DuckDB keeps min/max per row group, and
the export is in time order); each history query is its SQL equivalent, run in-process and
timed from sending the SQL to holding every row of the answer.
"""
import time

import duckdb

# The CSV export's header, with the types the stores give each field.
COLUMNS = {
    "event_id": "VARCHAR", "user_id": "VARCHAR", "username": "VARCHAR", "email": "VARCHAR",
    "track_id": "VARCHAR", "title": "VARCHAR", "artist": "VARCHAR", "genre": "VARCHAR",
    "platform": "VARCHAR", "mood": "VARCHAR", "city": "VARCHAR", "country": "VARCHAR",
    "duration": "BIGINT", "listen_position": "BIGINT", "completed": "BOOLEAN", "skipped": "BOOLEAN",
    "rating": "INTEGER", "timestamp": "BIGINT",
}
# The facets /api/facets counts, each under every filter but its own.
FACETS = ["genre", "platform", "mood", "country", "artist", "rating", "skipped", "completed"]


def literal(text):
    return "'" + text.replace("'", "''") + "'"


class DuckDBReference:
    """A DuckDB file holding the listens, and the history queries in SQL."""

    def __init__(self, path):
        self.path = path
        self.connection = duckdb.connect(path)

    def load(self, csv_path):
        """Loads the CSV export; returns (rows, seconds)."""
        columns = "{" + ", ".join("%s: %s" % (literal(name), literal(kind)) for name, kind in COLUMNS.items()) + "}"
        started = time.perf_counter()
        self.connection.execute("CREATE TABLE listens AS SELECT * FROM read_csv(%s, header = true, columns = %s)"
                                % (literal(csv_path), columns))
        self.connection.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        rows = self.connection.execute("SELECT count(*) FROM listens").fetchone()[0]
        return rows, seconds

    def timed(self, sql, parameters=None):
        """(seconds, rows): the query's execution and every row fetched."""
        started = time.perf_counter()
        rows = self.connection.execute(sql, parameters or []).fetchall()
        return time.perf_counter() - started, rows

    def user_page(self, user_id):
        """A listener's newest 50 listens, as /api/users/{id}/listens?limit=50."""
        return self.timed('SELECT * FROM listens WHERE user_id = ? ORDER BY "timestamp" DESC, event_id DESC LIMIT 50',
                          [user_id])

    def facets(self, since, filters):
        """/api/facets?since=…&<filters> in one pass: GROUPING SETS over the facets, each set
        counting under the filters but its own (text filters compare case-insensitively, as the
        server's do). With filters, each is decided once per row in a subquery (in the
        aggregates' FILTER clauses DuckDB would decide it once per aggregate: twice as slow
        here). Returns (seconds, {"total", "matching", "facets": {facet: {value: count}}})."""
        matches = {name: "lower(%s) = %s" % (name, literal(value.lower())) for name, value in filters.items()}

        def count_where(names):
            return "count(*) FILTER (WHERE %s)" % " AND ".join("f_" + name for name in names) if names else "count(*)"
        keys = ", ".join("CAST(%s AS VARCHAR) AS %s" % (facet, facet) for facet in FACETS)
        counts = ", ".join("%s AS n_%s" % (count_where([name for name in matches if name != facet]), facet)
                           for facet in FACETS)
        sets = ", ".join("(%s)" % facet for facet in FACETS) + ", ()"
        source = "listens"
        if matches:
            flags = ", ".join("%s AS f_%s" % (condition, name) for name, condition in matches.items())
            source = '(SELECT %s, %s, "timestamp" FROM listens)' % (", ".join(FACETS), flags)
        sql = ('SELECT %s, %s, count(*) AS total, %s AS matching FROM %s WHERE "timestamp" >= %d '
               "GROUP BY GROUPING SETS (%s)" % (keys, counts, count_where(list(matches)), source, since, sets))
        seconds, rows = self.timed(sql)
        answer = {"total": 0, "matching": 0, "facets": {facet: {} for facet in FACETS}}
        width = len(FACETS)
        for row in rows:
            values, tallies = row[:width], row[width:2 * width]
            grouped = [index for index, value in enumerate(values) if value is not None]
            if not grouped:
                answer["total"], answer["matching"] = row[2 * width], row[2 * width + 1]
                continue
            index = grouped[0]
            if tallies[index]:
                answer["facets"][FACETS[index]][values[index].lower()] = tallies[index]
        return seconds, answer

    def timeline(self, since, bucket_ms):
        """/api/timeline?since=…&bucket=…: listens and skips per bucket. Returns (seconds, [(t, count, skipped)])."""
        return self.timed('SELECT "timestamp" // %d * %d AS t, count(*), count(*) FILTER (WHERE skipped) '
                          'FROM listens WHERE "timestamp" >= %d GROUP BY t ORDER BY t' % (bucket_ms, bucket_ms, since))

    def close(self):
        self.connection.close()
