// SQLite for Swift (Debian's libsqlite3-dev): the history store's embedded default.
#include <sqlite3.h>

/// sqlite3_config is variadic, which Swift cannot call: this sets one option. Must run before
/// SQLite initialises (before any connection opens); SQLITE_MISUSE after that.
static inline int musicstream_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
