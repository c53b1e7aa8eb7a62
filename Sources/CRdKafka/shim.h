// librdkafka for Swift: the client API and the mock cluster used as the embedded broker.
// No feature macros here: they would give <sys/select.h> a different fd_set than Swift's Glibc sees.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
