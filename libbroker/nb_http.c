/*
 * The monitoring port. Until the monitoring endpoints exist it answers /healthz like nats-server
 * ({"status":"ok"}) and every other path with 501, so that tools probing the port get a clear,
 * honest answer instead of a refused connection.
 *
 * Each HTTP connection reads one request head (at most 4 KiB), answers and closes.
 *
 * libuv runs close callbacks in no order a stop can rely on (newest first, in practice), so the
 * listener's object is freed by whichever close callback comes last: the listener's own or that
 * of the last open connection.
 */
#include "nb_http.h"
#include "nb_srv.h"

#include <stdlib.h>
#include <string.h>

#define HTTP_HEAD_MAX 4096

struct http_conn {
    uv_tcp_t tcp;
    uv_write_t wreq;
    struct nb_http *owner;
    struct http_conn *next, *prev;
    size_t len;
    char head[HTTP_HEAD_MAX];
};

/* The listener and its open connections, so a stop can close them all. */
struct nb_http {
    uv_tcp_t listener;
    struct nb_server *srv;
    struct http_conn *conns;
    bool stopping;
    bool listener_closed;
};

static const char healthz[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"ok\"}";
static const char not_impl[] = "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 32\r\nConnection: close\r\n\r\n"
                               "monitoring is not available yet\n";
static const char bad_req[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";

/* The last close callback of a stopping monitoring port frees it and tells the server. */
static void
maybe_free(struct nb_http *http)
{
    if (!http->listener_closed || http->conns) return;
    struct nb_server *srv = http->srv;
    free(http);
    srv->http = NULL;
    nb__server_handle_closed(srv);
}

static void
on_http_closed(uv_handle_t *h)
{
    struct http_conn *hc = h->data;
    struct nb_http *http = hc->owner;
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        http->conns = hc->next;
    if (hc->next) hc->next->prev = hc->prev;
    free(hc);
    maybe_free(http);
}

static void
on_http_written(uv_write_t *req, int status)
{
    (void)status;
    uv_close((uv_handle_t *)req->handle, on_http_closed);
}

static void
respond(struct http_conn *hc, const char *text, size_t len)
{
    uv_read_stop((uv_stream_t *)&hc->tcp);
    uv_buf_t buf = uv_buf_init((char *)text, (unsigned)len);
    if (uv_write(&hc->wreq, (uv_stream_t *)&hc->tcp, &buf, 1, on_http_written) != 0)
        uv_close((uv_handle_t *)&hc->tcp, on_http_closed);
}

static void
on_http_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *hc = h->data;
    (void)suggested;
    *buf = uv_buf_init(hc->head + hc->len, (unsigned)(HTTP_HEAD_MAX - hc->len));
}

static bool
path_is(const struct http_conn *hc, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(hc->head, "GET ", 4) != 0 || strncmp(hc->head + 4, path, n) != 0) return false;
    char next = hc->head[4 + n];
    return next == ' ' || next == '?';
}

/* Looks for the blank line that ends the request head, from where the last read ended. */
static bool
head_complete(const struct http_conn *hc, size_t from)
{
    for (size_t i = from; i + 4 <= hc->len; i++) {
        if (memcmp(hc->head + i, "\r\n\r\n", 4) == 0) return true;
    }
    return false;
}

static void
on_http_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *hc = stream->data;
    (void)buf;
    if (nread < 0) {
        uv_close((uv_handle_t *)stream, on_http_closed);
        return;
    }
    size_t scan_from = hc->len > 3 ? hc->len - 3 : 0;
    hc->len += (size_t)nread;
    bool full = hc->len == HTTP_HEAD_MAX;
    if (!head_complete(hc, scan_from) && !full) return;
    if (full)
        respond(hc, bad_req, sizeof bad_req - 1);
    else if (path_is(hc, "/healthz"))
        respond(hc, healthz, sizeof healthz - 1);
    else
        respond(hc, not_impl, sizeof not_impl - 1);
}

static void
on_http_connection(uv_stream_t *listener, int status)
{
    struct nb_http *http = listener->data;
    if (status < 0 || http->stopping) return;
    struct http_conn *hc = calloc(1, sizeof *hc);
    if (!hc) return;
    hc->owner = http;
    hc->next = http->conns;
    if (hc->next) hc->next->prev = hc;
    http->conns = hc;
    uv_tcp_init(http->srv->loop, &hc->tcp);
    hc->tcp.data = hc;
    if (uv_accept(listener, (uv_stream_t *)&hc->tcp) != 0) {
        uv_close((uv_handle_t *)&hc->tcp, on_http_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&hc->tcp, on_http_alloc, on_http_read);
}

static void
on_listener_closed(uv_handle_t *h)
{
    struct nb_http *http = h->data;
    http->listener_closed = true;
    maybe_free(http);
}

int
nb__http_start(struct nb_server *srv, const struct sockaddr *addr)
{
    struct nb_http *http = calloc(1, sizeof *http);
    if (!http) return NB_ENOMEM;
    http->srv = srv;
    uv_tcp_init(srv->loop, &http->listener);
    http->listener.data = http;
    srv->http = http;
    srv->open_handles++;
    int rc = uv_tcp_bind(&http->listener, addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&http->listener, 128, on_http_connection);
    return rc;
}

void
nb__http_stop(struct nb_http *http)
{
    if (http->stopping) return;
    http->stopping = true;
    for (struct http_conn *hc = http->conns; hc; hc = hc->next) {
        if (!uv_is_closing((uv_handle_t *)&hc->tcp))
            uv_close((uv_handle_t *)&hc->tcp, on_http_closed);
    }
    uv_close((uv_handle_t *)&http->listener, on_listener_closed);
}
