// librdkafka for Swift: the client API and the mock cluster used as the embedded broker.
// _GNU_SOURCE keeps <sys/select.h> consistent with CLibEvent's view of it when both are visible.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
