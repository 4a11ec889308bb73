/*
 * The monitoring port: HTTP/1.1 GET and HEAD on the server's loop, answered by nb_monitor.c.
 *
 * An HTTP client must never cost the broker's clients anything, however slow or hostile it is:
 * - nothing blocks: requests are parsed from what has arrived, answers are written asynchronously;
 * - every request is bounded in size (HTTP_HEAD_MAX) and in time: from the moment the server waits
 *   for it to the last byte of its answer written, at most cfg.http_timeout_ms, then the connection
 *   is closed (an idle keep-alive connection too);
 * - at most HTTP_CONNS_MAX connections are open; the ones beyond are closed at once;
 * - an idle connection holds no buffer: the head buffer exists while a request is being read (1 KiB,
 *   grown to HTTP_HEAD_MAX for a longer head) and the answer while it is being written.
 * One timer sweeps the deadlines of every connection, so a connection costs no timer of its own.
 *
 * libuv runs close callbacks in no order a stop can rely on, so the listener's object is freed by
 * whichever close callback comes last: the listener's, the sweeper's or that of the last connection.
 *
 * The https port is the same server with a TLS session (nb_tls.h) per connection: ciphertext is
 * read into the server's shared read buffer and decrypted into the head buffer, and everything the
 * session produces (handshake records, answers) goes out through one writer, one write at a time.
 */
#include "nb_http.h"
#include "nb_httpreq.h"
#include "nb_monitor.h"
#include "nb_srv.h"
#include "nb_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_HEAD_FIRST 1024 /* most requests fit; the buffer grows to HTTP_HEAD_MAX if not */
#define HTTP_HEAD_MAX   8192
#define HTTP_CONNS_MAX  1024
#define HTTP_LINGER_MS  2000 /* how long a refused request's unread bytes are drained */

struct http_conn {
    uv_tcp_t tcp;
    union {
        uv_write_t write;
        uv_shutdown_t shutdown;
    } req;
    struct nb_http *owner;
    struct http_conn *next, *prev;
    uint64_t deadline_ms;
    char *head; /* while a request is read, NULL in between */
    size_t len, cap;
    struct np_buf out;  /* the answer being written */
    bool close_after;   /* the answer is the last one */
    struct nb_tls *tls; /* NULL on the http port */
    bool writing;       /* TLS: a write of the session's records is in flight */
    bool answering;     /* TLS: the answer is among the records queued or in flight */
};

struct nb_http {
    uv_tcp_t listener;
    uv_timer_t sweeper;
    struct nb_server *srv;
    struct http_conn *conns;
    size_t nconns;
    uint64_t timeout_ms;
    int handles; /* listener and sweeper, until closed */
    bool stopping;
    struct nb_tls_ctx *tls; /* the https port's, NULL on the http port */
};

/* The last close callback of a stopping monitoring port frees it and tells the server. */
static void
maybe_free(struct nb_http *http)
{
    if (http->handles || http->conns) return;
    struct nb_server *srv = http->srv;
    nb__tls_ctx_free(http->tls);
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
    http->nconns--;
    free(hc->head);
    np_buf_release(&hc->out);
    nb__tls_free(hc->tls);
    free(hc);
    maybe_free(http);
}

static void
close_conn(struct http_conn *hc)
{
    if (!uv_is_closing((uv_handle_t *)&hc->tcp)) uv_close((uv_handle_t *)&hc->tcp, on_http_closed);
}

static const char *
status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

static void process(struct http_conn *hc);

/* Drains what a refused client still sends, so closing does not reset the answer away. */
static void
on_linger_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char sink[4096]; /* read and dropped: its content is never looked at */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(sink, sizeof sink);
}

static void
on_linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0) close_conn(stream->data);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
    struct http_conn *hc = req->handle->data;
    if (status < 0 || hc->owner->stopping ||
        uv_read_start((uv_stream_t *)&hc->tcp, on_linger_alloc, on_linger_read) != 0)
        close_conn(hc);
}

/* The answer is out: close, or wait for the next request of a kept-alive connection. */
static void
answer_done(struct http_conn *hc)
{
    struct nb_http *http = hc->owner;
    if (hc->close_after) {
        uint64_t linger = http->timeout_ms < HTTP_LINGER_MS ? http->timeout_ms : HTTP_LINGER_MS;
        hc->deadline_ms = uv_now(http->srv->loop) + linger;
        if (uv_shutdown(&hc->req.shutdown, (uv_stream_t *)&hc->tcp, on_shutdown) != 0)
            close_conn(hc);
        return;
    }
    hc->deadline_ms = uv_now(http->srv->loop) + http->timeout_ms;
    process(hc); /* a pipelined request may already be there */
}

static void
on_written(uv_write_t *req, int status)
{
    struct http_conn *hc = req->handle->data;
    np_buf_release(&hc->out);
    if (status < 0 || uv_is_closing((uv_handle_t *)&hc->tcp)) {
        close_conn(hc);
        return;
    }
    answer_done(hc);
}

static void tls_send(struct http_conn *hc);

static void
on_tls_written(uv_write_t *req, int status)
{
    struct http_conn *hc = req->handle->data;
    struct nb_outq *wire = nb__tls_wire(hc->tls);
    hc->writing = false;
    nb__outq_consume(wire, &hc->owner->srv->pool, (size_t)wire->inflight);
    wire->inflight = 0;
    if (status < 0 || uv_is_closing((uv_handle_t *)&hc->tcp)) {
        close_conn(hc);
        return;
    }
    if (wire->pending) {
        tls_send(hc);
    } else if (hc->answering) {
        hc->answering = false;
        answer_done(hc);
    }
}

/* Writes the session's queued records unless a write is in flight (its callback comes back). */
static void
tls_send(struct http_conn *hc)
{
    struct nb_outq *wire = nb__tls_wire(hc->tls);
    uv_buf_t bufs[16];
    unsigned n = hc->writing ? 0 : nb__outq_bufs(wire, bufs, 16);
    if (n == 0) return;
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    if (uv_write(&hc->req.write, (uv_stream_t *)&hc->tcp, bufs, n, on_tls_written) != 0) {
        close_conn(hc);
        return;
    }
    wire->inflight = total;
    hc->writing = true;
}

static void
write_answer(struct http_conn *hc, int status, const char *type, const struct np_buf *body,
             bool head_only)
{
    char hdr[256];
    size_t blen = body->len;
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: %s\r\n\r\n",
                     status, status_text(status), type, blen,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     hc->close_after ? "close" : "keep-alive");
    uv_read_stop((uv_stream_t *)&hc->tcp);
    if (np_buf_add(&hc->out, hdr, (size_t)n) != 0 ||
        (!head_only && blen && np_buf_add(&hc->out, body->ptr, blen) != 0)) {
        close_conn(hc);
        return;
    }
    if (hc->tls) {
        int rc = nb__tls_write(hc->tls, hc->out.ptr, hc->out.len);
        np_buf_release(&hc->out);
        if (rc != 0) {
            close_conn(hc);
            return;
        }
        hc->answering = true;
        tls_send(hc);
        return;
    }
    uv_buf_t buf = uv_buf_init(hc->out.ptr, (unsigned)hc->out.len);
    if (uv_write(&hc->req.write, (uv_stream_t *)&hc->tcp, &buf, 1, on_written) != 0) close_conn(hc);
}

static void
answer_text(struct http_conn *hc, int status, const char *text)
{
    struct np_buf body = {0};
    np_buf_adds(&body, text);
    write_answer(hc, status, "text/plain; charset=utf-8", &body, false);
    np_buf_release(&body);
}

static void
answer(struct http_conn *hc, const struct nb_httpreq *req)
{
    struct nb_mon_answer ans;
    hc->close_after = !req->keep_alive;
    if (req->method == NB_HTTP_OTHER) {
        answer_text(hc, 405, "405 method not allowed\n");
        return;
    }
    if (nb__monitor_serve(hc->owner->srv, req, &ans) != 0) {
        hc->close_after = true;
        answer_text(hc, 503, "out of memory\n");
        return;
    }
    write_answer(hc, ans.status, ans.content_type, &ans.body, req->method == NB_HTTP_HEAD);
    np_buf_release(&ans.body);
}

/* Frees the head buffer when no byte of a next request is in it: an idle connection holds none. */
static void
consume_head(struct http_conn *hc, size_t n)
{
    hc->len -= n;
    if (hc->len) {
        memmove(hc->head, hc->head + n, hc->len);
        return;
    }
    free(hc->head);
    hc->head = NULL;
    hc->cap = 0;
}

static void on_http_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_http_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* Answers the request in the head buffer, or waits for the rest of it. */
static void
process(struct http_conn *hc)
{
    struct nb_httpreq req;
    int rc = hc->len ? nb_httpreq_parse(&req, hc->head, hc->len, HTTP_HEAD_MAX) : NB_HTTPREQ_MORE;
    if (rc == NB_HTTPREQ_MORE) {
        if (uv_read_start((uv_stream_t *)&hc->tcp, on_http_alloc, on_http_read) != 0)
            close_conn(hc);
        return;
    }
    if (rc != 0) {
        hc->close_after = true;
        answer_text(hc, rc, rc == 431 ? "request head too large\n" : "bad request\n");
        return;
    }
    answer(hc, &req);
    consume_head(hc, req.head_len);
}

/* Room in the head buffer (grown to HTTP_HEAD_MAX), or false when it is full or memory is out. */
static bool
head_room(struct http_conn *hc)
{
    if (hc->len < hc->cap) return true;
    size_t cap = hc->cap ? HTTP_HEAD_MAX : HTTP_HEAD_FIRST;
    char *p = hc->cap < HTTP_HEAD_MAX ? realloc(hc->head, cap) : NULL;
    if (!p) return false;
    hc->head = p;
    hc->cap = cap;
    return true;
}

static void
on_http_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *hc = h->data;
    (void)suggested;
    if (hc->tls) {
        /* Ciphertext is decrypted into the head buffer before the next read can arrive. */
        struct nb_server *srv = hc->owner->srv;
        *buf = uv_buf_init(srv->read_buf, sizeof srv->read_buf);
        return;
    }
    if (!head_room(hc)) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS to the read callback */
        return;
    }
    *buf = uv_buf_init(hc->head + hc->len, (unsigned)(hc->cap - hc->len));
}

/*
 * Decrypts what was read into the head buffer. Returns the bytes added, or -1 when the session
 * failed. A head that fills up stops the decryption; the request is then too large anyway.
 */
static ssize_t
tls_read(struct http_conn *hc, const char *raw, size_t len)
{
    if (nb__tls_input(hc->tls, raw, len) == NB_TLS_FAIL) return -1;
    size_t added = 0;
    ssize_t r = 1;
    while (r > 0 && head_room(hc)) {
        r = nb__tls_read(hc->tls, hc->head + hc->len, hc->cap - hc->len);
        if (r > 0) {
            hc->len += (size_t)r;
            added += (size_t)r;
        }
    }
    if (r < 0) return -1;
    tls_send(hc);
    return (ssize_t)added;
}

static void
on_http_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *hc = stream->data;
    if (nread < 0) {
        close_conn(hc);
        return;
    }
    if (hc->tls && nread > 0) nread = tls_read(hc, buf->base, (size_t)nread);
    if (nread < 0) {
        close_conn(hc);
        return;
    }
    if (nread == 0) return;
    if (!hc->tls) hc->len += (size_t)nread;
    uv_read_stop(stream);
    process(hc);
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
    http->nconns++;
    uv_tcp_init(http->srv->loop, &hc->tcp);
    hc->tcp.data = hc;
    hc->deadline_ms = uv_now(http->srv->loop) + http->timeout_ms;
    if (http->tls) hc->tls = nb__tls_new(http->tls, &http->srv->pool);
    if (uv_accept(listener, (uv_stream_t *)&hc->tcp) != 0 || http->nconns > HTTP_CONNS_MAX ||
        (http->tls && !hc->tls)) {
        close_conn(hc);
        return;
    }
    process(hc);
}

static void
on_sweep(uv_timer_t *t)
{
    struct nb_http *http = t->data;
    uint64_t now = uv_now(http->srv->loop);
    for (struct http_conn *hc = http->conns; hc; hc = hc->next) {
        if (now >= hc->deadline_ms) close_conn(hc);
    }
}

static void
on_handle_closed(uv_handle_t *h)
{
    struct nb_http *http = h->data;
    http->handles--;
    maybe_free(http);
}

int
nb__http_start(struct nb_server *srv, const struct sockaddr *addr, bool secure)
{
    struct nb_http *http = calloc(1, sizeof *http);
    if (!http) return NB_ENOMEM;
    char why[256];
    int rc = secure ? nb__tls_ctx_new(&http->tls, &srv->cfg.tls, true, why, sizeof why) : 0;
    if (rc == 0 && !srv->mon && !(srv->mon = nb__monitor_new())) rc = NB_ENOMEM;
    if (rc) {
        nb__tls_ctx_free(http->tls);
        free(http);
        return rc;
    }
    http->srv = srv;
    http->timeout_ms = srv->cfg.http_timeout_ms > 0 ? (uint64_t)srv->cfg.http_timeout_ms : 10000;
    uv_tcp_init(srv->loop, &http->listener);
    uv_timer_init(srv->loop, &http->sweeper);
    http->listener.data = http->sweeper.data = http;
    http->handles = 2;
    srv->http = http;
    srv->open_handles++;
    uint64_t every = http->timeout_ms / 4;
    every = every < 10 ? 10 : every > 1000 ? 1000 : every;
    uv_timer_start(&http->sweeper, on_sweep, every, every);
    rc = uv_tcp_bind(&http->listener, addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&http->listener, 128, on_http_connection);
    if (rc == 0) srv->http_port = nb__bound_port(&http->listener);
    return rc;
}

void
nb__http_stop(struct nb_http *http)
{
    if (http->stopping) return;
    http->stopping = true;
    for (struct http_conn *hc = http->conns; hc; hc = hc->next)
        close_conn(hc);
    uv_close((uv_handle_t *)&http->listener, on_handle_closed);
    uv_close((uv_handle_t *)&http->sweeper, on_handle_closed);
}
