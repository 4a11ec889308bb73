/*
 * Client connections: accept, read and parse, the protocol operations, output and closing.
 *
 * A client is one allocation holding its libuv handle, parser and outbound queue. Reads land in the
 * server's shared read buffer and are parsed at once, so an idle connection owns no input buffer.
 * Closing is two-step: nb__client_close() marks the client (it stops reading, takes no more output,
 * and may still flush an -ERR); nb__client_teardown(), run later from the server's check or tick,
 * removes its subscriptions and closes the handle. That keeps match results valid while a message
 * is being delivered, whoever closes meanwhile.
 */
#include "nb_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_PING_MS  2000
#define CLOSE_FLUSH_MS 2000 /* how long a closing client may take to take its last output */
#define MAX_WRITE_BUFS 64
#define MAX_STALL_MS   1000 /* the longest a publisher waits for a backed-up receiver */

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

static void on_write(uv_write_t *req, int status);

/* ---- output ------------------------------------------------------------------------------------ */

void
nb__client_send(struct nb_client *c, const char *data, size_t len)
{
    if (c->handle_closed || (c->closing && !c->flush_on_close)) return;
    if (nb__outq_append(&c->out, &c->srv->pool, data, len) != 0) {
        nb__client_close(c, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    nb__schedule_flush(c);
}

void
nb__client_send_err(struct nb_client *c, const char *text)
{
    char line[512];
    size_t n = np_enc_err(line, sizeof line, (struct np_str){text, strlen(text)});
    if (n > sizeof line) n = sizeof line;
    nb__log(c->srv, NB_LOG_TRACE, "%s - cid:%llu - ->> [-ERR %s]", c->ip,
            (unsigned long long)c->cid, text);
    nb__client_send(c, line, n);
}

static void
queue_teardown(struct nb_client *c)
{
    if (c->in_close_list) return;
    c->in_close_list = 1;
    c->close_next = c->srv->close_list;
    c->srv->close_list = c;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

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
 * A closing client's output is out. If it was told why (an -ERR), send FIN and keep reading and
 * discarding until it closes too (bounded by the close deadline): closing a socket with unread
 * input makes the kernel send a reset, which can destroy the -ERR before the client reads it.
 */
static void
last_words_sent(struct nb_client *c)
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

static void
start_write(struct nb_client *c)
{
    uv_buf_t bufs[MAX_WRITE_BUFS];
    unsigned n = nb__outq_bufs(&c->out, bufs, MAX_WRITE_BUFS);
    if (n == 0) return;
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, n, on_write);
    if (rc) {
        nb__client_close(c, NB_CLOSE_WRITE_ERROR, false);
        return;
    }
    c->writing = 1;
    c->out.inflight = total;
    c->write_started_ms = nb__now_ms(c->srv);
}

void
nb__client_flush(struct nb_client *c)
{
    if (c->writing || c->handle_closed) return;
    while (c->out.pending) {
        uv_buf_t bufs[MAX_WRITE_BUFS];
        unsigned n = nb__outq_bufs(&c->out, bufs, MAX_WRITE_BUFS);
        int rc = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (rc == UV_EAGAIN) break;
        if (rc < 0) {
            nb__client_close(c, NB_CLOSE_WRITE_ERROR, false);
            return;
        }
        size_t want = 0;
        for (unsigned i = 0; i < n; i++)
            want += bufs[i].len;
        nb__outq_consume(&c->out, &c->srv->pool, (size_t)rc);
        if ((size_t)rc < want) break;
    }
    if (c->out.pending)
        start_write(c);
    else if (c->closing)
        last_words_sent(c);
    if (c->srv->stall_list && c->out.pending <= (uint64_t)c->srv->cfg.max_pending / 2)
        nb__resume_stalled(c->srv);
}

static void
on_write(uv_write_t *req, int status)
{
    struct nb_client *c = req->handle->data;
    c->writing = 0;
    if (status < 0) {
        c->out.inflight = 0;
        if (status != UV_ECANCELED) nb__client_close(c, NB_CLOSE_WRITE_ERROR, false);
        return;
    }
    size_t done = (size_t)c->out.inflight;
    c->out.inflight = 0;
    nb__outq_consume(&c->out, &c->srv->pool, done);
    nb__client_flush(c);
}

/* ---- fast-producer stall ----------------------------------------------------------------------- */

void
nb__client_stall(struct nb_client *c)
{
    if (c->stalled || c->closing) return;
    c->stalled = 1;
    c->stall_until_ms = nb__now_ms(c->srv) + MAX_STALL_MS;
    c->stall_next = c->srv->stall_list;
    c->srv->stall_list = c;
    uv_read_stop((uv_stream_t *)&c->tcp);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

void
nb__resume_stalled(struct nb_server *srv)
{
    struct nb_client *c = srv->stall_list;
    srv->stall_list = NULL;
    while (c) {
        struct nb_client *next = c->stall_next;
        c->stalled = 0;
        c->stall_next = NULL;
        if (!c->closing) uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c = next;
    }
}

/* ---- closing ------------------------------------------------------------------------------------- */

void
nb__client_close(struct nb_client *c, enum nb_close_reason reason, bool flush)
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
    nb__log(c->srv, NB_LOG_DEBUG, "%s - cid:%llu - Client connection closed: %s", c->ip,
            (unsigned long long)c->cid, nb__close_reason_text(reason));
    if (flush && c->out.pending) {
        nb__schedule_flush(c);
        return;
    }
    queue_teardown(c);
}

static void
free_sub(struct nb_client *c, struct nb_sub *sub, bool in_sublist)
{
    if (in_sublist) nb_sublist_remove(c->srv->sublist, sub);
    free(sub);
}

void
nb__sub_remove(struct nb_client *c, struct nb_sub *sub)
{
    nb_map_del(&c->subs, sub->sid, sub->sid_len);
    free_sub(c, sub, true);
}

static void
on_closed(uv_handle_t *h)
{
    struct nb_client *c = h->data;
    struct nb_server *srv = c->srv;
    nb__outq_release(&c->out, &srv->pool);
    np_parser_release(&c->parser);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    free(c->name);
    free(c);
    nb__server_client_gone(srv);
}

static void
unstall(struct nb_client *c)
{
    struct nb_client **pp = &c->srv->stall_list;
    while (*pp && *pp != c)
        pp = &(*pp)->stall_next;
    if (*pp) *pp = c->stall_next;
    c->stalled = 0;
}

void
nb__client_teardown(struct nb_client *c)
{
    if (c->handle_closed) return;
    c->handle_closed = 1;
    if (c->stalled) unstall(c);
    size_t it = 0;
    const char *key;
    size_t klen;
    void *val;
    while (nb_map_next(&c->subs, &it, &key, &klen, &val))
        free_sub(c, val, true);
    nb_map_release(&c->subs);
    /* A pending write request is cancelled by the close; its callback sees UV_ECANCELED. */
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* ---- timers -------------------------------------------------------------------------------------- */

static void
ping_check(struct nb_client *c, uint64_t now)
{
    const struct nb_config *cfg = &c->srv->cfg;
    bool quiet = !c->activity && !c->client_pinged;
    c->next_ping_ms = now + (uint64_t)cfg->ping_interval_ms;
    c->activity = c->client_pinged = 0;
    /* Skip the PING while traffic shows the client is alive, as nats-server does. */
    if (c->rtt_known && !quiet) return;
    if ((int64_t)c->pings_out + 1 > cfg->ping_max) {
        nb__client_send_err(c, "Stale Connection");
        nb__log(c->srv, NB_LOG_DEBUG, "%s - cid:%llu - Stale Client Connection - Closing", c->ip,
                (unsigned long long)c->cid);
        nb__client_close(c, NB_CLOSE_STALE, true);
        return;
    }
    c->pings_out++;
    nb__client_send(c, NP_PING, sizeof NP_PING - 1);
}

void
nb__client_tick(struct nb_client *c, uint64_t now)
{
    struct nb_server *srv = c->srv;
    if (c->closing) {
        if (now >= c->close_deadline_ms) nb__client_close(c, c->close_reason, false);
        return;
    }
    if (c->writing && now - c->write_started_ms > (uint64_t)srv->cfg.write_deadline_ms) {
        nb__log(srv, NB_LOG_INFO,
                "%s - cid:%llu - Slow Consumer Detected: WriteDeadline of %lldms exceeded with "
                "%llu total bytes",
                c->ip, (unsigned long long)c->cid, (long long)srv->cfg.write_deadline_ms,
                (unsigned long long)c->out.pending);
        srv->stats.slow_consumers++;
        nb__client_close(c, NB_CLOSE_SLOW_DEADLINE, false);
        return;
    }
    if (c->auth_deadline_ms && now >= c->auth_deadline_ms) {
        nb__client_send_err(c, "Authentication Timeout");
        nb__client_close(c, NB_CLOSE_AUTH_TIMEOUT, true);
        return;
    }
    if (now >= c->next_ping_ms) ping_check(c, now);
}

/* ---- operations ---------------------------------------------------------------------------------- */

static bool
auth_required(const struct nb_server *srv)
{
    return srv->cfg.auth_token || srv->cfg.auth_user;
}

static bool
str_equal(const char *a, const char *b)
{
    if (!a || !b) return false;
    size_t la = strlen(a), lb = strlen(b);
    /* Compare every byte whatever the length, so timing says little about the secret. */
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++)
        diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return diff == 0;
}

static bool
authenticate(const struct nb_server *srv, const struct np_connect *cc)
{
    const struct nb_config *cfg = &srv->cfg;
    if (cfg->auth_user)
        return str_equal(cc->user, cfg->auth_user) && str_equal(cc->pass, cfg->auth_pass);
    return str_equal(cc->auth_token, cfg->auth_token);
}

static void
ok(struct nb_client *c)
{
    if (c->verbose) nb__client_send(c, NP_OK_LINE, sizeof NP_OK_LINE - 1);
}

static void
auth_violation(struct nb_client *c)
{
    nb__log(c->srv, NB_LOG_ERROR, "%s - cid:%llu - authentication error", c->ip,
            (unsigned long long)c->cid);
    nb__client_send_err(c, "Authorization Violation");
    nb__client_close(c, NB_CLOSE_AUTH_FAILURE, true);
}

static void
op_connect(struct nb_client *c, const struct np_op *op)
{
    struct nb_server *srv = c->srv;
    struct np_connect cc;
    np_connect_init(&cc);
    c->auth_deadline_ms = 0;
    uint64_t first = (uint64_t)srv->cfg.ping_interval_ms;
    if (first > FIRST_PING_MS) first = FIRST_PING_MS;
    c->next_ping_ms = nb__now_ms(srv) + first + nb__rand(srv) % (first / 5 + 1);
    if (np_connect_parse(&cc, op->arg.ptr, op->arg.len) != 0) {
        nb__client_close(c, NB_CLOSE_PROTOCOL, false);
    } else if ((auth_required(srv) && !authenticate(srv, &cc)) || cc.has_account) {
        auth_violation(c);
    } else if (cc.protocol < 0 || cc.protocol > 1) {
        nb__client_send_err(c, "invalid client protocol");
        nb__client_close(c, NB_CLOSE_BAD_PROTOCOL, true);
    } else if (cc.no_responders && !cc.headers) {
        nb__client_send_err(c, "no responders requires headers support");
        nb__client_close(c, NB_CLOSE_NO_RESPONDERS_HDR, true);
    } else {
        c->connected = 1;
        c->verbose = cc.verbose;
        c->pedantic = cc.pedantic;
        c->echo = cc.echo;
        c->headers = cc.headers;
        c->no_responders = cc.no_responders;
        c->protocol = cc.protocol == 1;
        free(c->name);
        c->name = cc.name;
        cc.name = NULL;
        ok(c);
    }
    np_connect_release(&cc);
}

static bool
has_prefix(struct np_str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len > n && memcmp(s.ptr, prefix, n) == 0;
}

/* Reply subjects that only the server may create (spec 4.5). */
static bool
reserved_reply(struct np_str reply)
{
    return has_prefix(reply, "_R_.") || has_prefix(reply, "$JS.ACK.") || has_prefix(reply, "_GR_.");
}

static void
permission_error(struct nb_client *c, const char *what, struct np_str s)
{
    char text[400];
    int n = (int)(s.len > 300 ? 300 : s.len);
    snprintf(text, sizeof text, "Permissions Violation for %s \"%.*s\"", what, n, s.ptr);
    nb__client_send_err(c, text);
}

static void
op_pub(struct nb_client *c, const struct np_op *op)
{
    struct nb_server *srv = c->srv;
    if (op->type == NP_OP_HPUB && !c->headers) {
        nb__log(srv, NB_LOG_DEBUG, "%s - cid:%llu - message headers not supported", c->ip,
                (unsigned long long)c->cid);
        nb__client_close(c, NB_CLOSE_PROTOCOL, false);
        return;
    }
    c->activity = 1;
    c->in_msgs++;
    c->in_bytes += op->payload.len;
    srv->stats.in_msgs++;
    srv->stats.in_bytes += op->payload.len;
    if (c->pedantic && !np_subject_valid_literal(op->subject.ptr, op->subject.len))
        nb__client_send_err(c, "Invalid Publish Subject");
    if (has_prefix(op->subject, "_GR_.")) {
        permission_error(c, "Publish to", op->subject);
        return;
    }
    if (reserved_reply(op->reply)) {
        permission_error(c, "Publish with Reply of", op->reply);
        return;
    }
    ok(c);
    nb__deliver(c, op);
}

static struct nb_sub *
sub_new(struct nb_client *c, const struct np_op *op)
{
    struct nb_sub *sub = malloc(sizeof *sub + op->subject.len + op->queue.len + op->sid.len + 3);
    if (!sub) return NULL;
    char *p = (char *)(sub + 1);
    sub->client = c;
    sub->delivered = sub->max = 0;
    sub->subject = p;
    sub->subject_len = (uint32_t)op->subject.len;
    memcpy(p, op->subject.ptr, op->subject.len);
    p += op->subject.len;
    *p++ = '\0';
    sub->queue = op->queue.len ? p : NULL;
    sub->queue_len = (uint32_t)op->queue.len;
    if (op->queue.len) memcpy(p, op->queue.ptr, op->queue.len);
    p += op->queue.len;
    *p++ = '\0';
    sub->sid = p;
    sub->sid_len = (uint32_t)op->sid.len;
    memcpy(p, op->sid.ptr, op->sid.len);
    p[op->sid.len] = '\0';
    return sub;
}

static void
op_sub(struct nb_client *c, const struct np_op *op)
{
    struct nb_server *srv = c->srv;
    c->activity = 1;
    if (!np_subject_valid(op->subject.ptr, op->subject.len)) {
        nb__client_send_err(c, "Invalid Subject");
        return;
    }
    if (nb_map_get(&c->subs, op->sid.ptr, op->sid.len)) {
        ok(c);
        return;
    }
    if (srv->cfg.max_subscriptions > 0 &&
        nb_map_count(&c->subs) >= (size_t)srv->cfg.max_subscriptions) {
        nb__client_send_err(c, "maximum subscriptions exceeded");
        return;
    }
    struct nb_sub *sub = sub_new(c, op);
    if (!sub || nb_map_put(&c->subs, sub->sid, sub->sid_len, sub) != 0) {
        free(sub);
        nb__client_close(c, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    if (nb_sublist_insert(srv->sublist, sub) != 0) {
        nb_map_del(&c->subs, sub->sid, sub->sid_len);
        free(sub);
        nb__client_send_err(c, "Invalid Subject");
        return;
    }
    ok(c);
}

static void
op_unsub(struct nb_client *c, const struct np_op *op)
{
    c->activity = 1;
    struct nb_sub *sub = nb_map_get(&c->subs, op->sid.ptr, op->sid.len);
    if (sub) {
        if (op->max_msgs > 0 && (uint64_t)op->max_msgs > sub->delivered)
            sub->max = (uint64_t)op->max_msgs;
        else
            nb__sub_remove(c, sub);
    }
    ok(c);
}

static void
trace_op(struct nb_client *c, const struct np_op *op)
{
    static const char *const names[] = {"",    "INFO", "CONNECT", "PUB",  "HPUB", "SUB", "UNSUB",
                                        "MSG", "HMSG", "PING",    "PONG", "+OK",  "-ERR"};
    nb__log(c->srv, NB_LOG_TRACE, "%s - cid:%llu - <<- [%s %.*s%s%.*s%s%.*s]", c->ip,
            (unsigned long long)c->cid, names[op->type], (int)op->subject.len, op->subject.ptr,
            op->reply.len ? " " : "", (int)op->reply.len, op->reply.ptr, op->sid.len ? " " : "",
            (int)op->sid.len, op->sid.ptr);
}

static void
dispatch(struct nb_client *c, const struct np_op *op)
{
    if (c->srv->cfg.trace) trace_op(c, op);
    if (!c->connected && op->type != NP_OP_CONNECT && auth_required(c->srv)) {
        auth_violation(c);
        return;
    }
    switch (op->type) {
    case NP_OP_CONNECT:
        op_connect(c, op);
        break;
    case NP_OP_PUB:
    case NP_OP_HPUB:
        op_pub(c, op);
        break;
    case NP_OP_SUB:
        op_sub(c, op);
        break;
    case NP_OP_UNSUB:
        op_unsub(c, op);
        break;
    case NP_OP_PING:
        c->client_pinged = 1;
        nb__client_send(c, NP_PONG, sizeof NP_PONG - 1);
        break;
    case NP_OP_PONG:
        c->pings_out = 0;
        c->rtt_known = 1;
        break;
    case NP_OP_ERR:
        nb__client_close(c, NB_CLOSE_PARSE_ERROR, false);
        break;
    default:
        break; /* INFO and +OK from a client are ignored, as nats-server does */
    }
}

/* The one place parser errors become wire errors (spec 1.8). */
static void
protocol_error(struct nb_client *c, int err)
{
    switch (err) {
    case NP_EUNKNOWN_OP:
    case NP_EPAYLOAD_END:
        nb__client_send_err(c, "Unknown Protocol Operation");
        nb__client_close(c, NB_CLOSE_PROTOCOL, true);
        break;
    case NP_ECONTROL_LINE:
        nb__client_send_err(c, "maximum control line exceeded");
        nb__client_close(c, NB_CLOSE_MAX_CONTROL_LINE, true);
        break;
    case NP_EPAYLOAD:
        nb__client_send_err(c, "Maximum Payload Violation");
        nb__client_close(c, NB_CLOSE_MAX_PAYLOAD, true);
        break;
    default:
        nb__client_close(c, NB_CLOSE_PROTOCOL, false);
        break;
    }
    nb__log(c->srv, NB_LOG_DEBUG, "%s - cid:%llu - protocol error: %s", c->ip,
            (unsigned long long)c->cid, np_strerror(err));
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct nb_client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->srv->read_buf, sizeof c->srv->read_buf);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct nb_client *c = stream->data;
    if (nread < 0) {
        nb__client_close(c, nread == UV_EOF ? NB_CLOSE_CLIENT_CLOSED : NB_CLOSE_READ_ERROR, false);
        return;
    }
    size_t off = 0, len = (size_t)nread;
    while (off < len && !c->closing) {
        struct np_op op;
        ssize_t n = np_parse(&c->parser, buf->base + off, len - off, &op);
        if (n < 0) {
            protocol_error(c, (int)n);
            break;
        }
        off += (size_t)n;
        if (op.type != NP_OP_NONE) dispatch(c, &op);
    }
}

/* ---- accept -------------------------------------------------------------------------------------- */

static void
peer_ip(struct nb_client *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    strcpy(c->ip, "unknown");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->ip, sizeof c->ip);
    else
        uv_ip4_name((struct sockaddr_in *)&ss, c->ip, sizeof c->ip);
}

static void
client_init(struct nb_server *srv, struct nb_client *c)
{
    const struct nb_config *cfg = &srv->cfg;
    c->srv = srv;
    c->tcp.data = c;
    c->cid = srv->next_cid++;
    c->verbose = c->pedantic = c->echo = 1;
    np_parser_init(&c->parser, NP_MODE_SERVER, (uint32_t)cfg->max_control_line,
                   (uint32_t)cfg->max_payload);
    nb_map_init(&c->subs);
    uint64_t now = nb__now_ms(srv);
    c->next_ping_ms = now + (uint64_t)cfg->ping_interval_ms;
    if (auth_required(srv)) c->auth_deadline_ms = now + (uint64_t)cfg->auth_timeout_ms;
    c->next = &srv->clients_head;
    c->prev = srv->clients_head.prev;
    c->prev->next = c;
    srv->clients_head.prev = c;
    srv->stats.connections++;
    srv->stats.total_connections++;
}

void
nb__client_accept(struct nb_server *srv, uv_stream_t *listener)
{
    struct nb_client *c = calloc(1, sizeof *c);
    if (!c) return;
    uv_tcp_init(srv->loop, &c->tcp);
    client_init(srv, c);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        nb__client_close(c, NB_CLOSE_READ_ERROR, false);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    peer_ip(c);
    char *info = nb__server_info(srv, c);
    if (!info) {
        nb__client_close(c, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    char line[4096];
    size_t n = np_enc_info(line, sizeof line, (struct np_str){info, strlen(info)});
    free(info);
    nb__client_send(c, line, n < sizeof line ? n : sizeof line);
    nb__log(srv, NB_LOG_DEBUG, "%s - cid:%llu - Client connection created", c->ip,
            (unsigned long long)c->cid);
    if ((int64_t)srv->stats.connections > srv->cfg.max_connections) {
        nb__client_send_err(c, "maximum connections exceeded");
        nb__client_close(c, NB_CLOSE_MAX_CONNECTIONS, true);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
