/// A libpq failure as the Postgres folder sees it: the server's SQLSTATE travels with it, so the
/// writer can react to a specific refusal (a row with no partition) before the error leaves the
/// folder as a `HistoryError`.
struct PostgresError: Error, Sendable {
    var message: String
    /// The five-character SQLSTATE, when the server sent one (not for a lost connection).
    var sqlState: String?
    var isUnavailable: Bool

    /// Rows that fit no partition: a day's partition vanished (retention elsewhere) after this
    /// connection last created it.
    var isMissingPartition: Bool {
        sqlState == "23514" && message.contains("no partition")
    }

    var historyError: HistoryError {
        HistoryError(message, isUnavailable: isUnavailable)
    }

    /// SQLSTATEs that say the server cannot serve anyone right now rather than refusing this
    /// statement: connection exceptions (08), insufficient resources such as a full disk (53),
    /// shutdown or startup in progress (57P01-57P03), I/O and system errors (58).
    static func isUnavailable(sqlState: String) -> Bool {
        sqlState.hasPrefix("08") || sqlState.hasPrefix("53") || sqlState.hasPrefix("58")
            || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }
}
