/*
 * Connections: accept, read, output, closing and lingering, and the transport's timers.
 *
 * A connection is embedded in its protocol's object and holds the libuv handle and the outbound
 * queue. It is accepted from a listener, or dialed (a route this server solicits). Reads land in the server's shared read buffer and go to the protocol at once, so an idle
 * connection owns no input buffer.
 *
 * A TLS connection (nb_tls.h) differs only at the edges: what is read is decrypted before the
 * protocol sees it, and the flush seals the queued plaintext into records, a batch at a time, and
 * writes those. Plaintext that waits stays in the output queue, where max_pending and the
 * fast-producer stall see it as they see a plaintext connection's.
 */
#include "nb_conn.h"
#include "nb_srv.h"
#include "nb_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOSE_FLUSH_MS 2000 /* how long a closing connection may take to take its last output */
#define MAX_WRITE_BUFS 64
#define MAX_STALL_MS   1000         /* the longest a publisher waits for a backed-up receiver */
#define SEAL_BATCH     (128 * 1024) /* plaintext sealed into TLS records per write */

static const char *const close_texts[] = {
#define NB__CLOSE_TEXT(name, text) text,
    NB_CLOSE_MAP(NB__CLOSE_TEXT)
#undef NB__CLOSE_TEXT
};

const char *
nb__close_reason_text(enum nb_close_reason r)
{
    return close_texts[r];
}

void
nb__conn_log(const struct nb_conn *c, enum nb_log_level level, const char *fmt, ...)
{
    if (!nb__log_enabled(c->srv, level)) return;
    char prefix[384];
    snprintf(prefix, sizeof prefix, "%s - %s:%llu - %s%.256s%s", c->addr, c->proto->id_label,
             (unsigned long long)c->id, c->ident ? "\"" : "", c->ident ? c->ident : "",
             c->ident ? "\" - " : "");
    va_list ap;
    va_start(ap, fmt);
    nb__vlog(c->srv, level, prefix, fmt, ap);
    va_end(ap);
}

static void on_write(uv_write_t *req, int status);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- output ------------------------------------------------------------------------------------ */

void
nb__conn_schedule_flush(struct nb_conn *c)
{
    if (c->in_flush_list) return;
    c->in_flush_list = 1;
    c->flush_next = c->srv->flush_list;
    c->srv->flush_list = c;
}

void
nb__conn_send(struct nb_conn *c, const char *data, size_t len)
{
    if (c->handle_closed || (c->closing && !c->flush_on_close)) return;
    if (nb__outq_append(&c->out, &c->srv->pool, data, len) != 0) {
        nb__conn_close(c, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    nb__conn_schedule_flush(c);
}

void
nb__conn_send_err(struct nb_conn *c, const char *text)
{
    struct np_str t = {text, strlen(text)};
    char line[512], *p = line;
    size_t n = np_enc_err(NULL, 0, t);
    if (n > sizeof line && !(p = malloc(n))) {
        nb__conn_close(c, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    np_enc_err(p, n, t);
    nb__conn_log(c, NB_LOG_TRACE, "->> [-ERR %s]", text);
    nb__conn_send(c, p, n);
    if (p != line) free(p);
}

static void
queue_teardown(struct nb_conn *c)
{
    if (c->in_close_list) return;
    c->in_close_list = 1;
    c->close_next = c->srv->close_list;
    c->srv->close_list = c;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct nb_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->srv->read_buf, sizeof c->srv->read_buf);
}

static void
on_linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0) queue_teardown(stream->data);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

/*
 * A closing connection's output is out. If it was told why (an -ERR), send FIN and keep reading
 * and discarding until it closes too (bounded by the close deadline): closing a socket with unread
 * input makes the kernel send a reset, which can destroy the -ERR before the peer reads it.
 */
static void
last_words_sent(struct nb_conn *c)
{
    uv_stream_t *stream = (uv_stream_t *)&c->tcp;
    if (!c->flush_on_close || c->close_reason == NB_CLOSE_SHUTDOWN || c->lingering) {
        queue_teardown(c);
        return;
    }
    c->lingering = 1;
    if (uv_shutdown(&c->sreq, stream, on_shutdown) != 0 ||
        uv_read_start(stream, on_alloc, on_linger_read) != 0)
        queue_teardown(c);
}

/* The queue that goes on the socket: the output itself, or the TLS records sealed from it. */
static struct nb_outq *
wire_queue(struct nb_conn *c)
{
    return c->tls ? nb__tls_wire(c->tls) : &c->out;
}

static void
start_write(struct nb_conn *c)
{
    struct nb_outq *q = wire_queue(c);
    uv_buf_t bufs[MAX_WRITE_BUFS];
    unsigned n = nb__outq_bufs(q, bufs, MAX_WRITE_BUFS);
    if (n == 0) return;
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, n, on_write);
    if (rc) {
        nb__conn_close(c, NB_CLOSE_WRITE_ERROR, false);
        return;
    }
    c->writing = 1;
    q->inflight = total;
    c->write_started_ms = nb__now_ms(c->srv);
}

/*
 * Seals up to SEAL_BATCH bytes of queued plaintext into records, once the handshake is done; a
 * connection closing with a flush also gets its close_notify after its last bytes.
 */
static int
tls_seal(struct nb_conn *c)
{
    struct nb_tls *t = c->tls;
    struct nb_outq *wire = nb__tls_wire(t);
    if (!nb__tls_ready(t)) return 0;
    while (c->out.pending && wire->pending < SEAL_BATCH) {
        uv_buf_t bufs[MAX_WRITE_BUFS];
        unsigned n = nb__outq_bufs(&c->out, bufs, MAX_WRITE_BUFS);
        size_t done = 0;
        for (unsigned i = 0; i < n && wire->pending < SEAL_BATCH; i++) {
            if (nb__tls_write(t, bufs[i].base, bufs[i].len) != 0) {
                nb__conn_close(c, NB_CLOSE_NO_MEMORY, false);
                return -1;
            }
            done += bufs[i].len;
        }
        nb__outq_consume(&c->out, &c->srv->pool, done);
    }
    if (!c->out.pending && c->closing && c->flush_on_close) nb__tls_shutdown(t);
    return 0;
}

/*
 * Writes what the socket takes now. Returns 1 when q is empty, 0 when the rest must wait for a
 * uv_write, -1 when the write failed (c is then closing).
 */
static int
try_write(struct nb_conn *c, struct nb_outq *q)
{
    while (q->pending) {
        uv_buf_t bufs[MAX_WRITE_BUFS];
        unsigned n = nb__outq_bufs(q, bufs, MAX_WRITE_BUFS);
        int rc = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (rc == UV_EAGAIN) return 0;
        if (rc < 0) {
            nb__conn_close(c, NB_CLOSE_WRITE_ERROR, false);
            return -1;
        }
        size_t want = 0;
        for (unsigned i = 0; i < n; i++)
            want += bufs[i].len;
        nb__outq_consume(q, &c->srv->pool, (size_t)rc);
        if ((size_t)rc < want) return 0;
    }
    return 1;
}

/* Whether a TLS connection still has plaintext it can seal once the records are out. */
static bool
more_to_seal(const struct nb_conn *c)
{
    return c->tls && nb__tls_ready(c->tls) && c->out.pending;
}

void
nb__conn_flush(struct nb_conn *c)
{
    if (c->writing || c->handle_closed) return;
    struct nb_outq *q = wire_queue(c);
    int rc;
    do {
        if (c->tls && tls_seal(c) != 0) return;
        rc = try_write(c, q);
    } while (rc > 0 && more_to_seal(c));
    if (rc < 0) return;
    if (q->pending)
        start_write(c);
    else if (c->closing)
        last_words_sent(c);
    if (c->srv->stall_list && c->out.pending <= (uint64_t)c->srv->cfg.max_pending / 2)
        nb__resume_stalled(c->srv);
}

static void
on_write(uv_write_t *req, int status)
{
    struct nb_conn *c = req->handle->data;
    struct nb_outq *q = wire_queue(c);
    c->writing = 0;
    if (status < 0) {
        q->inflight = 0;
        if (status != UV_ECANCELED) nb__conn_close(c, NB_CLOSE_WRITE_ERROR, false);
        return;
    }
    size_t done = (size_t)q->inflight;
    q->inflight = 0;
    nb__outq_consume(q, &c->srv->pool, done);
    nb__conn_flush(c);
}

/* ---- fast-producer stall ----------------------------------------------------------------------- */

void
nb__conn_stall(struct nb_conn *c)
{
    if (c->stalled || c->closing) return;
    c->stalled = 1;
    c->stall_until_ms = nb__now_ms(c->srv) + MAX_STALL_MS;
    c->stall_next = c->srv->stall_list;
    c->srv->stall_list = c;
    uv_read_stop((uv_stream_t *)&c->tcp);
}

void
nb__resume_stalled(struct nb_server *srv)
{
    struct nb_conn *c = srv->stall_list;
    srv->stall_list = NULL;
    while (c) {
        struct nb_conn *next = c->stall_next;
        c->stalled = 0;
        c->stall_next = NULL;
        if (!c->closing && !c->paused) uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c = next;
    }
}

void
nb__conn_yield(struct nb_conn *c)
{
    if (c->yielded || c->stalled || c->closing) return;
    c->yielded = 1;
    c->yield_next = c->srv->yield_list;
    c->srv->yield_list = c;
    uv_read_stop((uv_stream_t *)&c->tcp);
}

void
nb__resume_yielded(struct nb_server *srv)
{
    struct nb_conn *c = srv->yield_list;
    srv->yield_list = NULL;
    while (c) {
        struct nb_conn *next = c->yield_next;
        c->yielded = 0;
        c->yield_next = NULL;
        if (!c->closing && !c->stalled && !c->paused)
            uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c = next;
    }
}

void
nb__conn_pause(struct nb_conn *c)
{
    c->paused = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
}

void
nb__conn_resume(struct nb_conn *c)
{
    c->paused = 0;
    if (!c->closing && !c->stalled && !c->yielded)
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void
unyield(struct nb_conn *c)
{
    struct nb_conn **pp = &c->srv->yield_list;
    while (*pp && *pp != c)
        pp = &(*pp)->yield_next;
    if (*pp) *pp = c->yield_next;
    c->yielded = 0;
}

static void
unstall(struct nb_conn *c)
{
    struct nb_conn **pp = &c->srv->stall_list;
    while (*pp && *pp != c)
        pp = &(*pp)->stall_next;
    if (*pp) *pp = c->stall_next;
    c->stalled = 0;
}

/* ---- closing ------------------------------------------------------------------------------------- */

void
nb__conn_close(struct nb_conn *c, enum nb_close_reason reason, bool flush)
{
    if (c->closing) {
        if (!flush) {
            c->flush_on_close = 0;
            queue_teardown(c);
        }
        return;
    }
    c->closing = 1;
    c->close_reason = reason;
    c->flush_on_close = flush;
    c->close_deadline_ms = nb__now_ms(c->srv) + CLOSE_FLUSH_MS;
    uv_read_stop((uv_stream_t *)&c->tcp);
    nb__conn_log(c, c->proto->close_level, "%s connection closed: %s", c->proto->kind_name,
                 nb__close_reason_text(reason));
    if (flush &&
        (c->out.pending || (c->tls && (nb__tls_ready(c->tls) || nb__tls_wire(c->tls)->pending)))) {
        nb__conn_schedule_flush(c);
        return;
    }
    queue_teardown(c);
}

static void
on_closed(uv_handle_t *h)
{
    struct nb_conn *c = h->data;
    struct nb_server *srv = c->srv;
    nb__outq_release(&c->out, &srv->pool);
    nb__tls_free(c->tls);
    free(c->ident);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->proto->destroy(c);
    nb__server_conn_gone(srv);
}

void
nb__conn_teardown(struct nb_conn *c)
{
    if (c->handle_closed) return;
    c->handle_closed = 1;
    if (c->stalled) unstall(c);
    if (c->yielded) unyield(c);
    c->proto->teardown(c);
    /* A pending write request is cancelled by the close; its callback sees UV_ECANCELED. */
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* ---- timers -------------------------------------------------------------------------------------- */

void
nb__conn_tick(struct nb_conn *c, uint64_t now)
{
    struct nb_server *srv = c->srv;
    if (c->closing) {
        if (now >= c->close_deadline_ms) nb__conn_close(c, c->close_reason, false);
        return;
    }
    if (c->tls_deadline_ms && now >= c->tls_deadline_ms) {
        nb__conn_log(c, NB_LOG_ERROR, "TLS handshake timeout");
        nb__conn_close(c, NB_CLOSE_TLS_HANDSHAKE, false);
        return;
    }
    if (c->writing && now - c->write_started_ms > (uint64_t)srv->cfg.write_deadline_ms) {
        nb__conn_log(c, NB_LOG_INFO,
                     "Slow Consumer Detected: WriteDeadline of %lldms exceeded with %llu total "
                     "bytes",
                     (long long)srv->cfg.write_deadline_ms, (unsigned long long)c->out.pending);
        srv->stats.slow_consumers++;
        nb__conn_close(c, NB_CLOSE_SLOW_DEADLINE, false);
        return;
    }
    c->proto->tick(c, now);
}

/* ---- input and accept ---------------------------------------------------------------------------- */

/* nats-server's line for a failed handshake: "TLS handshake error" or "TLS route handshake ...". */
static void
log_tls_error(struct nb_conn *c, const char *why)
{
    const char *kind = c->proto->tls_kind;
    nb__conn_log(c, NB_LOG_ERROR, "TLS %s%shandshake error: %s", kind ? kind : "", kind ? " " : "",
                 why);
}

/* A handshake that failed is logged as nats-server logs it; its alert goes out before the close. */
static void
tls_failed(struct nb_conn *c, const char *why)
{
    log_tls_error(c, why);
    nb__conn_close(c, NB_CLOSE_TLS_HANDSHAKE, true);
}

static void
tls_ready(struct nb_conn *c)
{
    c->tls_deadline_ms = 0;
    nb__conn_log(c, NB_LOG_DEBUG, "TLS handshake complete");
    nb__conn_log(c, NB_LOG_DEBUG, "TLS version %s, cipher suite %s", nb__tls_version(c->tls),
                 nb__tls_cipher(c->tls));
    if (c->proto->secured) c->proto->secured(c);
}

/* Ciphertext in; everything it decrypts to goes to the protocol before this returns. */
static void
tls_input(struct nb_conn *c, const char *data, size_t len)
{
    struct nb_tls *t = c->tls;
    bool was_ready = nb__tls_ready(t);
    int rc = nb__tls_input(t, data, len);
    if (rc == NB_TLS_FAIL) {
        if (was_ready)
            nb__conn_close(c, NB_CLOSE_READ_ERROR, false);
        else
            tls_failed(c, nb__tls_error(t));
        return;
    }
    if (rc == 1 && !was_ready) tls_ready(c);
    size_t cap;
    char *buf = nb__tls_scratch(t, &cap);
    ssize_t r = 1;
    while (r > 0 && !c->closing) {
        size_t n = 0;
        while (n < cap && (r = nb__tls_read(t, buf + n, cap - n)) > 0)
            n += (size_t)r;
        if (n) c->proto->input(c, buf, n);
    }
    if (r == NB_TLS_EOF) nb__conn_close(c, NB_CLOSE_CLIENT_CLOSED, false);
    if (r == NB_TLS_FAIL) nb__conn_close(c, NB_CLOSE_READ_ERROR, false);
    if (nb__tls_wire(t)->pending) nb__conn_schedule_flush(c);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct nb_conn *c = stream->data;
    if (nread < 0) {
        if (c->tls && !nb__tls_ready(c->tls)) {
            log_tls_error(c, nread == UV_EOF ? "EOF" : uv_strerror((int)nread));
            nb__conn_close(c, NB_CLOSE_TLS_HANDSHAKE, false);
            return;
        }
        nb__conn_close(c, nread == UV_EOF ? NB_CLOSE_CLIENT_CLOSED : NB_CLOSE_READ_ERROR, false);
        return;
    }
    c->last_ms = nb__now_ms(c->srv);
    if (c->tls)
        tls_input(c, buf->base, (size_t)nread);
    else
        c->proto->input(c, buf->base, (size_t)nread);
}

static void
peer_addr(struct nb_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    strcpy(c->ip, "unknown");
    strcpy(c->addr, "unknown");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, c->ip, sizeof c->ip);
        c->port = ntohs(a->sin6_port);
        snprintf(c->addr, sizeof c->addr, "[%s]:%u", c->ip, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        uv_ip4_name(a, c->ip, sizeof c->ip);
        c->port = ntohs(a->sin_port);
        snprintf(c->addr, sizeof c->addr, "%s:%u", c->ip, ntohs(a->sin_port));
    }
}

void
nb__conn_init(struct nb_conn *c, struct nb_server *srv, const struct nb_proto *proto)
{
    c->srv = srv;
    c->proto = proto;
    c->id = srv->next_id++;
    c->start_ms = c->last_ms = nb__now_ms(srv);
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    c->next = srv->conns;
    if (c->next) c->next->prev = c;
    srv->conns = c;
    strcpy(c->ip, "unknown");
    strcpy(c->addr, "unknown");
}

void
nb__conn_connected(struct nb_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    peer_addr(c);
}

void
nb__conn_drop(struct nb_conn *c)
{
    c->closing = 1;
    nb__conn_teardown(c);
}

int
nb__conn_accept(struct nb_conn *c, struct nb_server *srv, const struct nb_proto *proto,
                uv_stream_t *listener)
{
    nb__conn_init(c, srv, proto);
    int rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        nb__conn_close(c, NB_CLOSE_READ_ERROR, false);
        return rc;
    }
    nb__conn_connected(c);
    return 0;
}

int
nb__conn_start_tls(struct nb_conn *c, struct nb_tls_ctx *ctx, uint64_t timeout_ms)
{
    c->tls = nb__tls_new(ctx, &c->srv->pool);
    if (!c->tls) return NB_ENOMEM;
    uv_buf_t bufs[MAX_WRITE_BUFS];
    unsigned n = nb__outq_bufs(&c->out, bufs, MAX_WRITE_BUFS);
    size_t done = 0;
    for (unsigned i = 0; i < n; i++) {
        if (nb__tls_write_clear(c->tls, bufs[i].base, bufs[i].len) != 0) return NB_ENOMEM;
        done += bufs[i].len;
    }
    nb__outq_consume(&c->out, &c->srv->pool, done);
    c->tls_deadline_ms = nb__now_ms(c->srv) + timeout_ms;
    return 0;
}

int
nb__conn_dial_tls(struct nb_conn *c, struct nb_tls_ctx *ctx, const char *host, uint64_t timeout_ms)
{
    c->tls = nb__tls_connect(ctx, &c->srv->pool, host);
    if (!c->tls) return NB_ENOMEM;
    c->tls_deadline_ms = nb__now_ms(c->srv) + timeout_ms;
    nb__conn_schedule_flush(c);
    return 0;
}

void
nb__conn_start(struct nb_conn *c)
{
    if (!c->closing) uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
