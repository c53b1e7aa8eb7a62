/* Stock evhttp by itself: libevent's evhttp answering fixed bytes from memory, with no
 * application work at all (no routing, no headers beyond Content-Type, no metrics). bench/run
 * measures it beside nginx so the REST figures show how much of the gap to nginx is the HTTP
 * library's and how much is musicstream's own. Not a ceiling: musicstream writes its answers
 * sooner than stock evhttp does (see bench/README.md).
 *
 * usage: evhttp_static PORT PATH FILE CONTENT-TYPE [PATH FILE CONTENT-TYPE ...]
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct reply {
    const char *uri;
    const char *content_type;
    char *body;
    size_t length;
};

static struct reply replies[16];
static int reply_count;

static char *read_file(const char *path, size_t *length) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc(size > 0 ? (size_t)size : 1);
    *length = fread(data, 1, (size_t)size, file);
    fclose(file);
    return data;
}

static void answer(struct evhttp_request *request, void *unused) {
    (void)unused;
    const char *uri = evhttp_request_get_uri(request);
    for (int i = 0; i < reply_count; i++) {
        if (strcmp(uri, replies[i].uri) == 0) {
            struct evbuffer *body = evbuffer_new();
            evbuffer_add(body, replies[i].body, replies[i].length);
            evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", replies[i].content_type);
            evhttp_send_reply(request, 200, "OK", body);
            evbuffer_free(body);
            return;
        }
    }
    evhttp_send_error(request, 404, NULL);
}

/* Same as musicstream: one write per writable event may carry up to 256 KiB (libevent's default
   is 16 KiB, which splits a 23 KB answer in two writes). */
static struct bufferevent *new_connection(struct event_base *base, void *unused) {
    (void)unused;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    if (bev) bufferevent_set_max_single_write(bev, 256 * 1024);
    return bev;
}

int main(int argc, char **argv) {
    if (argc < 5 || (argc - 2) % 3 != 0) {
        fprintf(stderr, "usage: %s PORT PATH FILE CONTENT-TYPE ...\n", argv[0]);
        return 64;
    }
    for (int i = 2; i + 2 < argc && reply_count < 16; i += 3) {
        struct reply *reply = &replies[reply_count++];
        reply->uri = argv[i];
        reply->content_type = argv[i + 2];
        reply->body = read_file(argv[i + 1], &reply->length);
        if (!reply->body) {
            fprintf(stderr, "cannot read %s\n", argv[i + 1]);
            return 66;
        }
    }
    /* A client closing mid-reply must not kill the server (musicstream ignores SIGPIPE too). */
    signal(SIGPIPE, SIG_IGN);
    /* Same as musicstream: epoll's change list, so the per-request read/write interest changes
       cost one epoll_ctl each instead of two. */
    struct event_config *config = event_config_new();
    event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = event_base_new_with_config(config);
    event_config_free(config);
    struct evhttp *http = evhttp_new(base);
    evhttp_set_bevcb(http, new_connection, NULL);
    evhttp_set_gencb(http, answer, NULL);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", (unsigned short)atoi(argv[1]));
    if (!bound) {
        fprintf(stderr, "cannot bind 127.0.0.1:%s\n", argv[1]);
        return 71;
    }
    /* Same as musicstream: accepted sockets inherit TCP_NODELAY from the listener. */
    int on = 1;
    setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    event_base_dispatch(base);
    return 0;
}
