/*
 * SSE fan-out load client for bench/run: opens N concurrent /stream subscribers on one epoll loop,
 * parses each stream (HTTP/1.1 chunked transfer coding, then Server-Sent Events framing) and, for
 * every `listen` event, records now - the event's `timestamp` field (milliseconds since the epoch,
 * stamped by the producer just before it sends). C so that 5,000 streams x 20 events/s are parsed
 * without the client becoming the bottleneck on a 2-core machine.
 *
 *   sse_fanout HOST PORT PATH CONNECTIONS SECONDS [CONNECT_TIMEOUT_SECONDS]
 *
 * Prints "ready <subscribed>" once every connection has its response head (or the connect phase
 * timed out, default 120 s), then measures for SECONDS and prints one JSON object. Events stamped before "ready"
 * are not counted. Loopback only; bounded in time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase { CONNECTING, HEAD, STREAMING, CLOSED };
enum chunk_state { CHUNK_SIZE, CHUNK_EXT, CHUNK_SIZE_LF, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF, CHUNK_END };

struct buffer {
    char *bytes;
    size_t length, capacity;
};

struct connection {
    int fd;
    enum phase phase;
    int chunked;
    enum chunk_state chunk;
    size_t chunk_left;
    struct buffer head;   /* response head until the blank line */
    struct buffer line;   /* current SSE line */
    struct buffer data;   /* data field of the event being built */
    int is_listen;        /* event: listen seen for the event being built */
    int after_cr;         /* last byte was CR: a following LF belongs to the same line end */
    long events;          /* listen events counted during the measurement */
};

static struct connection *connections;
static int connection_count;
static const char *request_text;
static size_t request_length;

static double *samples;
static size_t sample_count, sample_capacity;
static double measure_from_ms, measure_until_ms;
static int measuring;
static long dropped, failed, subscribed, malformed;

static double wall_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec * 1000.0 + now.tv_nsec / 1e6;
}

static double mono_s(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static void append(struct buffer *buffer, const char *bytes, size_t length) {
    if (buffer->length + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 512;
        while (capacity < buffer->length + length) capacity *= 2;
        buffer->bytes = realloc(buffer->bytes, capacity);
        if (!buffer->bytes) { perror("realloc"); exit(2); }
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->length, bytes, length);
    buffer->length += length;
}

static void record(double latency) {
    if (sample_count == sample_capacity) {
        sample_capacity = sample_capacity ? sample_capacity * 2 : 1 << 16;
        samples = realloc(samples, sample_capacity * sizeof *samples);
        if (!samples) { perror("realloc"); exit(2); }
    }
    samples[sample_count++] = latency;
}

/* An event is complete (blank line): a listen event's timestamp gives its latency. */
static void dispatch(struct connection *c) {
    if (c->is_listen && c->data.length) {
        double now = wall_ms();
        append(&c->data, "", 1);
        const char *field = strstr(c->data.bytes, "\"timestamp\":");
        if (!field) {
            malformed++;
        } else {
            double stamped = (double)strtoll(field + 12, NULL, 10);
            if (measuring && stamped >= measure_from_ms && now <= measure_until_ms) {
                record(now - stamped);
                c->events++;
            }
        }
    }
    c->is_listen = 0;
    c->data.length = 0;
}

/* One complete SSE line: a field, a comment, or the blank line that ends an event. */
static void sse_line(struct connection *c) {
    const char *text = c->line.bytes;
    size_t length = c->line.length;
    if (length == 0) { dispatch(c); return; }
    if (text[0] == ':') return;
    const char *colon = memchr(text, ':', length);
    size_t name_length = colon ? (size_t)(colon - text) : length;
    const char *value = colon ? colon + 1 : text + length;
    size_t value_length = colon ? length - name_length - 1 : 0;
    if (value_length && *value == ' ') { value++; value_length--; }
    if (name_length == 5 && memcmp(text, "event", 5) == 0) {
        c->is_listen = value_length == 6 && memcmp(value, "listen", 6) == 0;
    } else if (name_length == 4 && memcmp(text, "data", 4) == 0) {
        if (c->data.length) append(&c->data, "\n", 1);
        append(&c->data, value, value_length);
    }
}

/* Stream body bytes (after de-chunking) into the SSE line splitter: CR, LF or CRLF end a line. */
static void sse_bytes(struct connection *c, const char *bytes, size_t length) {
    for (size_t i = 0; i < length; i++) {
        char byte = bytes[i];
        if (c->after_cr) {
            c->after_cr = 0;
            if (byte == '\n') continue;
        }
        if (byte == '\r' || byte == '\n') {
            c->after_cr = byte == '\r';
            sse_line(c);
            c->line.length = 0;
        } else {
            size_t run = 1;
            while (i + run < length && bytes[i + run] != '\r' && bytes[i + run] != '\n') run++;
            append(&c->line, bytes + i, run);
            i += run - 1;
        }
    }
}

/* Removes HTTP/1.1 chunked framing; returns 0 when the stream ended or is malformed. */
static int body_bytes(struct connection *c, const char *bytes, size_t length) {
    if (!c->chunked) { sse_bytes(c, bytes, length); return 1; }
    size_t i = 0;
    while (i < length) {
        char byte = bytes[i];
        switch (c->chunk) {
        case CHUNK_SIZE:
            if (byte >= '0' && byte <= '9') c->chunk_left = c->chunk_left * 16 + (size_t)(byte - '0');
            else if ((byte | 0x20) >= 'a' && (byte | 0x20) <= 'f') c->chunk_left = c->chunk_left * 16 + (size_t)((byte | 0x20) - 'a' + 10);
            else if (byte == ';') c->chunk = CHUNK_EXT;
            else if (byte == '\r') c->chunk = CHUNK_SIZE_LF;
            else return 0;
            i++;
            break;
        case CHUNK_EXT:
            if (byte == '\r') c->chunk = CHUNK_SIZE_LF;
            i++;
            break;
        case CHUNK_SIZE_LF:
            if (byte != '\n') return 0;
            if (c->chunk_left == 0) { c->chunk = CHUNK_END; return 0; }
            c->chunk = CHUNK_DATA;
            i++;
            break;
        case CHUNK_DATA: {
            size_t take = length - i < c->chunk_left ? length - i : c->chunk_left;
            sse_bytes(c, bytes + i, take);
            c->chunk_left -= take;
            i += take;
            if (c->chunk_left == 0) c->chunk = CHUNK_DATA_CR;
            break;
        }
        case CHUNK_DATA_CR:
            if (byte != '\r') return 0;
            c->chunk = CHUNK_DATA_LF;
            i++;
            break;
        case CHUNK_DATA_LF:
            if (byte != '\n') return 0;
            c->chunk = CHUNK_SIZE;
            c->chunk_left = 0;
            i++;
            break;
        case CHUNK_END:
            return 0;
        }
    }
    return 1;
}

/* Collects the response head; on the blank line checks the status and the transfer coding. */
static int head_bytes(struct connection *c, const char *bytes, size_t length) {
    append(&c->head, bytes, length);
    char *end = memmem(c->head.bytes, c->head.length, "\r\n\r\n", 4);
    if (!end) return c->head.length < 16384;
    size_t head_length = (size_t)(end - c->head.bytes) + 4;
    if (c->head.length < 12 || memcmp(c->head.bytes + 9, "200", 3) != 0) return 0;
    char saved = c->head.bytes[head_length - 1];
    c->head.bytes[head_length - 1] = 0;
    c->chunked = strcasestr(c->head.bytes, "\r\ntransfer-encoding: chunked") != NULL;
    c->head.bytes[head_length - 1] = saved;
    c->phase = STREAMING;
    subscribed++;
    size_t rest = c->head.length - head_length;
    int ok = rest ? body_bytes(c, c->head.bytes + head_length, rest) : 1;
    free(c->head.bytes);
    c->head = (struct buffer){0};
    return ok;
}

static void close_connection(int epoll, struct connection *c, int was_error) {
    if (c->phase == CLOSED) return;
    if (c->phase == STREAMING) dropped++;
    else if (was_error) failed++;
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->phase = CLOSED;
}

static int start_connect(int epoll, struct sockaddr_in *address, struct connection *c) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->phase = CONNECTING;
    if (connect(fd, (struct sockaddr *)address, sizeof *address) < 0 && errno != EINPROGRESS) {
        close(fd);
        c->phase = CLOSED;
        failed++;
        return 0;
    }
    struct epoll_event interest = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &interest);
    return 0;
}

static void on_ready(int epoll, struct connection *c, uint32_t events) {
    static char input[1 << 16];
    if (c->phase == CONNECTING) {
        int error = 0;
        socklen_t size = sizeof error;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &size);
        if (error || (events & (EPOLLERR | EPOLLHUP))) { close_connection(epoll, c, 1); return; }
        /* The request is tiny: one write fits a fresh socket's send buffer. */
        if (write(c->fd, request_text, request_length) != (ssize_t)request_length) { close_connection(epoll, c, 1); return; }
        c->phase = HEAD;
        struct epoll_event interest = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &interest);
        return;
    }
    for (;;) {
        ssize_t got = read(c->fd, input, sizeof input);
        if (got > 0) {
            int ok = c->phase == HEAD ? head_bytes(c, input, (size_t)got) : body_bytes(c, input, (size_t)got);
            if (!ok) { close_connection(epoll, c, 1); return; }
            if ((size_t)got < sizeof input) return;
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close_connection(epoll, c, 1);
        return;
    }
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double p) {
    if (!sample_count) return -1;
    size_t index = (size_t)(p / 100.0 * (double)(sample_count - 1) + 0.5);
    return samples[index];
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT PATH CONNECTIONS SECONDS [CONNECT_TIMEOUT_SECONDS]\n", argv[0]);
        return 64;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    const char *path = argv[3];
    connection_count = atoi(argv[4]);
    double seconds = atof(argv[5]);
    double connect_timeout = argc == 7 ? atof(argv[6]) : 120.0;
    if (connection_count <= 0 || seconds <= 0 || port <= 0 || connect_timeout <= 0) { fprintf(stderr, "bad arguments\n"); return 64; }

    char *request = NULL;
    if (asprintf(&request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n", path, host, port) < 0) return 2;
    request_text = request;
    request_length = strlen(request);

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "host must be an IPv4 address\n"); return 64; }

    connections = calloc((size_t)connection_count, sizeof *connections);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ready[1024];

    /* Connect phase: at most 200 handshakes in flight, so the listen backlog never overflows. */
    int started = 0;
    double connect_started = mono_s();
    double connect_deadline = connect_started + connect_timeout;
    while (mono_s() < connect_deadline) {
        long pending = started - subscribed - failed - dropped;
        while (started < connection_count && pending < 200) {
            if (start_connect(epoll, &address, &connections[started]) < 0) return 2;
            started++;
            pending++;
        }
        if (started == connection_count && subscribed + failed + dropped >= connection_count) break;
        int n = epoll_wait(epoll, ready, 1024, 100);
        for (int i = 0; i < n; i++) on_ready(epoll, ready[i].data.ptr, ready[i].events);
    }
    for (int i = 0; i < started; i++) {
        if (connections[i].phase == CONNECTING || connections[i].phase == HEAD) {
            close_connection(epoll, &connections[i], 1);
        }
    }
    failed += connection_count - started;
    long subscribed_at_start = subscribed - dropped;
    double connect_seconds = mono_s() - connect_started;
    printf("ready %ld\n", subscribed_at_start);
    fflush(stdout);

    struct rusage usage_before, usage_after;
    getrusage(RUSAGE_SELF, &usage_before);
    measure_from_ms = wall_ms();
    measure_until_ms = measure_from_ms + seconds * 1000.0;
    measuring = 1;
    while (wall_ms() < measure_until_ms) {
        int timeout = (int)(measure_until_ms - wall_ms()) + 1;
        int n = epoll_wait(epoll, ready, 1024, timeout < 100 ? timeout : 100);
        for (int i = 0; i < n; i++) on_ready(epoll, ready[i].data.ptr, ready[i].events);
    }
    measuring = 0;
    getrusage(RUSAGE_SELF, &usage_after);
    double client_cpu = (usage_after.ru_utime.tv_sec - usage_before.ru_utime.tv_sec)
        + (usage_after.ru_utime.tv_usec - usage_before.ru_utime.tv_usec) / 1e6
        + (usage_after.ru_stime.tv_sec - usage_before.ru_stime.tv_sec)
        + (usage_after.ru_stime.tv_usec - usage_before.ru_stime.tv_usec) / 1e6;

    long least = -1, most = 0, open = 0;
    for (int i = 0; i < connection_count; i++) {
        struct connection *c = &connections[i];
        if (c->phase != STREAMING) continue;
        open++;
        if (least < 0 || c->events < least) least = c->events;
        if (c->events > most) most = c->events;
    }
    qsort(samples, sample_count, sizeof *samples, compare);
    printf("{\"connections\": %d, \"subscribed\": %ld, \"failed\": %ld, \"dropped\": %ld, \"open_at_end\": %ld, "
           "\"connect_seconds\": %.1f, \"seconds\": %.1f, \"samples\": %zu, \"malformed\": %ld, \"events_per_connection_min\": %ld, "
           "\"events_per_connection_max\": %ld, \"client_cpu_percent\": %.1f, \"p50_ms\": %.2f, "
           "\"p99_ms\": %.2f, \"max_ms\": %.2f}\n",
           connection_count, subscribed_at_start, failed, dropped, open, connect_seconds, seconds, sample_count, malformed,
           least < 0 ? 0 : least, most, 100.0 * client_cpu / seconds, percentile(50), percentile(99), percentile(100));
    for (int i = 0; i < connection_count; i++) {
        if (connections[i].phase != CLOSED) close(connections[i].fd);
    }
    return 0;
}
