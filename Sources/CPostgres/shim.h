// libpq for Swift (Debian's libpq-dev): the PostgreSQL history store's client library.
#include <libpq-fe.h>
