/*
 * The client protocol: what a client's bytes mean, and what the server answers.
 *
 * A client is one allocation holding its connection (transport, nb_conn.c), its parser and its sid
 * table. Parsed operations are dispatched at once from the shared read buffer; a PUB becomes an
 * nb_msg view of that buffer and goes into the message path (nb_deliver.c) without a copy.
 */
#include "nb_client.h"
#include "nb_js.h"
#include "nb_monitor.h"
#include "nb_srv.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_PING_MS 2000
/* PubAcks produced within one read before they are written early (see client_input). */
#define EARLY_ACKS 64

static void client_input(struct nb_conn *conn, const char *data, size_t len);
static void client_tick(struct nb_conn *conn, uint64_t now);
static void client_teardown(struct nb_conn *conn);
static void client_destroy(struct nb_conn *conn);

static const struct nb_proto client_proto = {
    .id_label = "cid",
    .kind_name = "Client",
    .input = client_input,
    .tick = client_tick,
    .teardown = client_teardown,
    .destroy = client_destroy,
};

bool
nb__conn_is_client(const struct nb_conn *c)
{
    return c->proto == &client_proto;
}

static void
send_lit(struct nb_client *c, const char *line, size_t len)
{
    nb__conn_send(&c->conn, line, len);
}

/* ---- subscriptions ------------------------------------------------------------------------------- */

static void
free_sub(struct nb_client *c, struct nb_sub *sub)
{
    nb_sublist_remove(c->conn.srv->sublist, sub);
    free(sub);
}

void
nb__client_unsub(struct nb_client *c, struct nb_sub *sub)
{
    np_map_del(&c->subs, sub->sid, sub->sid_len);
    free_sub(c, sub);
}

static struct nb_sub *
sub_new(struct nb_client *c, const struct np_op *op)
{
    struct nb_sub *sub = malloc(sizeof *sub + op->subject.len + op->queue.len + op->sid.len + 3);
    if (!sub) return NULL;
    char *p = (char *)(sub + 1);
    sub->owner = c;
    sub->kind = NB_RECV_CLIENT;
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

static const char no_responders_hdr[] = "NATS/1.0 503\r\n\r\n";

void
nb__client_no_responders(struct nb_client *c, const struct nb_msg *msg)
{
    size_t it = 0;
    void *val;
    while (np_map_next(&c->subs, &it, NULL, NULL, &val)) {
        struct nb_sub *sub = val;
        if (sub->queue ||
            !np_subject_match(sub->subject, sub->subject_len, msg->reply, msg->reply_len))
            continue;
        char line[600];
        size_t n = np_enc_hmsg(line, sizeof line, (struct np_str){msg->reply, msg->reply_len},
                               (struct np_str){sub->sid, sub->sid_len}, (struct np_str){0},
                               sizeof no_responders_hdr - 1, sizeof no_responders_hdr - 1);
        if (n > sizeof line) return;
        nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [%.*s]", (int)n - 2, line);
        send_lit(c, line, n);
        send_lit(c, no_responders_hdr, sizeof no_responders_hdr - 1);
        send_lit(c, "\r\n", 2);
        return;
    }
}

/* ---- timers -------------------------------------------------------------------------------------- */

static void
ping_check(struct nb_client *c, uint64_t now)
{
    const struct nb_config *cfg = &c->conn.srv->cfg;
    bool quiet = !c->activity && !c->client_pinged;
    c->next_ping_ms = now + (uint64_t)cfg->ping_interval_ms;
    c->activity = c->client_pinged = 0;
    /* Skip the PING while traffic shows the client is alive, as nats-server does. */
    if (c->rtt_known && !quiet) return;
    if ((int64_t)c->pings_out + 1 > cfg->ping_max) {
        nb__conn_send_err(&c->conn, "Stale Connection");
        nb__conn_log(&c->conn, NB_LOG_DEBUG, "Stale Client Connection - Closing");
        nb__conn_close(&c->conn, NB_CLOSE_STALE, true);
        return;
    }
    c->pings_out++;
    c->ping_sent_ns = uv_hrtime();
    nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [PING]");
    send_lit(c, NP_PING, sizeof NP_PING - 1);
}

static void
client_tick(struct nb_conn *conn, uint64_t now)
{
    struct nb_client *c = nb__client_of(conn);
    if (c->auth_deadline_ms && now >= c->auth_deadline_ms) {
        nb__conn_send_err(conn, "Authentication Timeout");
        nb__conn_close(conn, NB_CLOSE_AUTH_TIMEOUT, true);
        return;
    }
    if (now >= c->next_ping_ms) ping_check(c, now);
}

/* ---- CONNECT ------------------------------------------------------------------------------------- */

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
    if (!c->verbose) return;
    nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [OK]");
    send_lit(c, NP_OK_LINE, sizeof NP_OK_LINE - 1);
}

static void
auth_violation(struct nb_client *c)
{
    nb__conn_log(&c->conn, NB_LOG_ERROR, "authentication error");
    nb__conn_send_err(&c->conn, "Authorization Violation");
    nb__conn_close(&c->conn, NB_CLOSE_AUTH_FAILURE, true);
}

/* nats-server's "v<version>:<lang>:<name>", each part only when the client sent it. */
static void
set_ident(struct nb_client *c, const struct np_connect *cc)
{
    const char *parts[] = {cc->version, cc->lang, cc->name};
    char ident[256];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        if (!parts[i] || !*parts[i]) continue;
        int w = snprintf(ident + n, sizeof ident - n, "%s%s%s", n ? ":" : "", i == 0 ? "v" : "",
                         parts[i]);
        if (w < 0 || (size_t)w >= sizeof ident - n) break;
        n += (size_t)w;
    }
    if (n == 0) return;
    free(c->conn.ident);
    c->conn.ident = strdup(ident);
}

/* Takes the client's name, lang and version out of cc, for /connz. */
static void
keep_names(struct nb_client *c, struct np_connect *cc)
{
    free(c->name);
    free(c->lang);
    free(c->version);
    c->name = cc->name;
    c->lang = cc->lang;
    c->version = cc->version;
    cc->name = cc->lang = cc->version = NULL;
}

static void
accept_connect(struct nb_client *c, struct np_connect *cc)
{
    c->connected = 1;
    c->verbose = cc->verbose;
    c->pedantic = cc->pedantic;
    c->echo = cc->echo;
    c->conn.headers = cc->headers;
    c->no_responders = cc->no_responders;
    c->protocol = cc->protocol == 1;
    set_ident(c, cc);
    keep_names(c, cc);
    ok(c);
}

static void
op_connect(struct nb_client *c, const struct np_op *op)
{
    struct nb_server *srv = c->conn.srv;
    struct np_connect cc;
    np_connect_init(&cc);
    c->auth_deadline_ms = 0;
    uint64_t first = (uint64_t)srv->cfg.ping_interval_ms;
    if (first > FIRST_PING_MS) first = FIRST_PING_MS;
    c->next_ping_ms = nb__now_ms(srv) + first + nb__rand(srv) % (first / 5 + 1);
    if (np_connect_parse(&cc, op->arg.ptr, op->arg.len) != 0) {
        nb__conn_close(&c->conn, NB_CLOSE_PROTOCOL, false);
    } else if ((auth_required(srv) && !authenticate(srv, &cc)) || cc.has_account) {
        auth_violation(c);
    } else if (cc.protocol < 0 || cc.protocol > 1) {
        nb__conn_send_err(&c->conn, "invalid client protocol");
        nb__conn_close(&c->conn, NB_CLOSE_BAD_PROTOCOL, true);
    } else if (cc.no_responders && !cc.headers) {
        nb__conn_send_err(&c->conn, "no responders requires headers support");
        nb__conn_close(&c->conn, NB_CLOSE_NO_RESPONDERS_HDR, true);
    } else {
        accept_connect(c, &cc);
    }
    np_connect_release(&cc);
}

/* ---- PUB, SUB, UNSUB ----------------------------------------------------------------------------- */

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
    nb__conn_send_err(&c->conn, text);
}

static void
op_pub(struct nb_client *c, const struct np_op *op)
{
    struct nb_conn *conn = &c->conn;
    struct nb_server *srv = conn->srv;
    if (op->type == NP_OP_HPUB && !conn->headers) {
        nb__conn_log(conn, NB_LOG_DEBUG, "message headers not supported");
        nb__conn_close(conn, NB_CLOSE_PROTOCOL, false);
        return;
    }
    c->activity = 1;
    conn->in_msgs++;
    conn->in_bytes += op->payload.len;
    srv->stats.in_msgs++;
    srv->stats.in_bytes += op->payload.len;
    if (c->pedantic && !np_subject_valid_literal(op->subject.ptr, op->subject.len))
        nb__conn_send_err(conn, "Invalid Publish Subject");
    if (has_prefix(op->subject, "_GR_.")) {
        permission_error(c, "Publish to", op->subject);
        return;
    }
    if (reserved_reply(op->reply)) {
        permission_error(c, "Publish with Reply of", op->reply);
        return;
    }
    ok(c);
    struct nb_msg msg = {
        .subject = op->subject.ptr,
        .subject_len = op->subject.len,
        .reply = op->reply.ptr,
        .reply_len = op->reply.len,
        .data = op->payload.ptr,
        .hdr_len = op->hdr_len,
        .len = op->payload.len,
    };
    nb__publish(srv, conn, &msg);
}

static void
op_sub(struct nb_client *c, const struct np_op *op)
{
    struct nb_server *srv = c->conn.srv;
    c->activity = 1;
    if (!np_subject_valid(op->subject.ptr, op->subject.len)) {
        nb__conn_send_err(&c->conn, "Invalid Subject");
        return;
    }
    if (np_map_get(&c->subs, op->sid.ptr, op->sid.len)) {
        ok(c);
        return;
    }
    if (srv->cfg.max_subscriptions > 0 &&
        np_map_count(&c->subs) >= (size_t)srv->cfg.max_subscriptions) {
        nb__conn_send_err(&c->conn, "maximum subscriptions exceeded");
        return;
    }
    struct nb_sub *sub = sub_new(c, op);
    if (!sub || np_map_put(&c->subs, sub->sid, sub->sid_len, sub) != 0) {
        free(sub);
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    if (nb_sublist_insert(srv->sublist, sub) != 0) {
        np_map_del(&c->subs, sub->sid, sub->sid_len);
        free(sub);
        nb__conn_send_err(&c->conn, "Invalid Subject");
        return;
    }
    ok(c);
}

static void
op_unsub(struct nb_client *c, const struct np_op *op)
{
    c->activity = 1;
    struct nb_sub *sub = np_map_get(&c->subs, op->sid.ptr, op->sid.len);
    if (sub) {
        if (op->max_msgs > 0 && (uint64_t)op->max_msgs > sub->delivered)
            sub->max = (uint64_t)op->max_msgs;
        else
            nb__client_unsub(c, sub);
    }
    ok(c);
}

/* ---- tracing ------------------------------------------------------------------------------------- */

/* The CONNECT JSON with its secrets replaced, as nats-server traces it; NULL when not JSON. */
static char *
redacted_connect(struct np_str json)
{
    static const char *const secrets[] = {"pass", "auth_token"};
    cJSON *doc = cJSON_ParseWithLength(json.ptr, json.len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(doc, secrets[i]))
            cJSON_ReplaceItemInObjectCaseSensitive(doc, secrets[i],
                                                   cJSON_CreateString("[REDACTED]"));
    }
    char *out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return out;
}

static void
trace_connect(struct nb_client *c, const struct np_op *op)
{
    char *json = redacted_connect(op->arg);
    if (json)
        nb__conn_log(&c->conn, NB_LOG_TRACE, "<<- [CONNECT %s]", json);
    else
        nb__conn_log(&c->conn, NB_LOG_TRACE, "<<- [CONNECT (malformed, %zu bytes)]", op->arg.len);
    free(json);
}

/* s as a quoted string with control bytes, quotes and backslashes escaped, cut to fit out. */
static void
quote(char *out, size_t cap, struct np_str s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = '"';
    size_t i;
    for (i = 0; i < s.len && n + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char)ch;
        } else if (ch == '\r' || ch == '\n') {
            out[n++] = '\\';
            out[n++] = ch == '\r' ? 'r' : 'n';
        } else if (ch < 0x20 || ch >= 0x7f) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        } else {
            out[n++] = (char)ch;
        }
    }
    if (i < s.len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* " a b c" from the fields that are present, for a trace of an operation's arguments. */
static void
args_text(char *out, size_t cap, const struct np_str *parts, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        if (!parts[i].len) continue;
        int w = snprintf(out + len, cap - len, " %.*s", (int)parts[i].len, parts[i].ptr);
        if (w < 0) return;
        len += (size_t)w;
    }
}

static void
trace_op(struct nb_client *c, const struct np_op *op)
{
    static const char *const names[] = {"",    "INFO", "CONNECT", "PUB",  "HPUB", "SUB", "UNSUB",
                                        "MSG", "HMSG", "PING",    "PONG", "+OK",  "-ERR"};
    if (op->type == NP_OP_CONNECT) {
        trace_connect(c, op);
        return;
    }
    char hdr[24] = "", max[24] = "", args[1024];
    if (op->type == NP_OP_HPUB) snprintf(hdr, sizeof hdr, "%zu", op->hdr_len);
    if (op->type == NP_OP_UNSUB && op->max_msgs >= 0)
        snprintf(max, sizeof max, "%lld", (long long)op->max_msgs);
    struct np_str parts[] = {op->subject,        op->reply, op->queue,         op->sid,
                             {hdr, strlen(hdr)}, op->size,  {max, strlen(max)}};
    args_text(args, sizeof args, parts, sizeof parts / sizeof parts[0]);
    nb__conn_log(&c->conn, NB_LOG_TRACE, "<<- [%s%s]", names[op->type], args);
    if (op->type == NP_OP_PUB || op->type == NP_OP_HPUB) {
        char quoted[600];
        quote(quoted, sizeof quoted, op->payload);
        nb__conn_log(&c->conn, NB_LOG_TRACE, "<<- MSG_PAYLOAD: [%s]", quoted);
    }
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

static void
dispatch(struct nb_client *c, const struct np_op *op)
{
    if (c->conn.srv->cfg.trace) trace_op(c, op);
    if (!c->connected && op->type != NP_OP_CONNECT && auth_required(c->conn.srv)) {
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
        nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [PONG]");
        send_lit(c, NP_PONG, sizeof NP_PONG - 1);
        break;
    case NP_OP_PONG:
        if (c->pings_out) c->rtt_ns = (int64_t)(uv_hrtime() - c->ping_sent_ns);
        c->pings_out = 0;
        c->rtt_known = 1;
        break;
    case NP_OP_ERR:
        nb__conn_close(&c->conn, NB_CLOSE_PARSE_ERROR, false);
        break;
    default:
        break; /* INFO and +OK from a client are ignored, as nats-server does */
    }
}

/* The one place parser errors become wire errors (spec 1.8). */
static void
protocol_error(struct nb_client *c, int err)
{
    struct nb_conn *conn = &c->conn;
    switch (err) {
    case NP_EUNKNOWN_OP:
    case NP_EPAYLOAD_END:
        nb__conn_send_err(conn, "Unknown Protocol Operation");
        nb__conn_close(conn, NB_CLOSE_PROTOCOL, true);
        break;
    case NP_ECONTROL_LINE:
        nb__conn_send_err(conn, "maximum control line exceeded");
        nb__conn_close(conn, NB_CLOSE_MAX_CONTROL_LINE, true);
        break;
    case NP_EPAYLOAD:
        nb__conn_send_err(conn, "Maximum Payload Violation");
        nb__conn_close(conn, NB_CLOSE_MAX_PAYLOAD, true);
        break;
    default:
        nb__conn_close(conn, NB_CLOSE_PROTOCOL, false);
        break;
    }
    nb__conn_log(conn, NB_LOG_DEBUG, "protocol error: %s", np_strerror(err));
}

static void
client_input(struct nb_conn *conn, const char *data, size_t len)
{
    struct nb_client *c = nb__client_of(conn);
    size_t off = 0;
    uint64_t acks_before = nb__js_acks_produced(conn->srv->js);
    while (off < len && !conn->closing) {
        struct np_op op;
        ssize_t n = np_parse(&c->parser, data + off, len - off, &op);
        if (n < 0) {
            protocol_error(c, (int)n);
            break;
        }
        off += (size_t)n;
        if (op.type != NP_OP_NONE) dispatch(c, &op);
        /*
         * A publisher with a window of outstanding PubAcks waits for them before it sends more:
         * writing them every so often while a long read is processed lets it refill the window in
         * parallel instead of waiting for the whole read.
         */
        if (nb__js_acks_waiting(conn->srv->js) >= EARLY_ACKS) nb__flush_output(conn->srv);
    }
    /* A stream publisher gets one read per iteration, so others are not kept waiting behind it. */
    if (nb__js_acks_produced(conn->srv->js) != acks_before) nb__conn_yield(conn);
}

/* ---- life cycle ---------------------------------------------------------------------------------- */

static void
client_teardown(struct nb_conn *conn)
{
    struct nb_client *c = nb__client_of(conn);
    nb__monitor_closed(c);
    size_t it = 0;
    void *val;
    while (np_map_next(&c->subs, &it, NULL, NULL, &val))
        free_sub(c, val);
    np_map_release(&c->subs);
}

static void
client_destroy(struct nb_conn *conn)
{
    struct nb_client *c = nb__client_of(conn);
    conn->srv->stats.connections--;
    np_parser_release(&c->parser);
    free(c->name);
    free(c->lang);
    free(c->version);
    free(c);
}

/* INFO is built at its full length straight into the output queue: it grows with connect_urls. */
static int
send_info(struct nb_client *c)
{
    struct nb_server *srv = c->conn.srv;
    static char version[] = NP_SERVER_VERSION; /* what clients compare to enable features */
    static char go[] = "natsctl-" NB_VERSION;
    struct np_info info = {
        .server_id = srv->server_id,
        .server_name = srv->cfg.server_name ? srv->cfg.server_name : srv->server_id,
        .version = version,
        .proto = 1,
        .go = go,
        .host = srv->cfg.host,
        .port = srv->port,
        .headers = true,
        .auth_required = auth_required(srv),
        .tls_required = srv->tls != NULL,
        .tls_verify = srv->tls && srv->cfg.tls.verify,
        .max_payload = srv->cfg.max_payload,
        .jetstream = srv->js != NULL,
        .client_id = c->conn.id,
        .client_ip = c->conn.ip,
    };
    char *json = np_info_encode(&info);
    if (!json) return NB_ENOMEM;
    size_t cap = strlen(json) + sizeof "INFO  \r\n";
    char *dst = nb__outq_reserve(&c->conn.out, &srv->pool, cap);
    if (dst) {
        size_t n = np_enc_info(dst, cap, (struct np_str){json, strlen(json)});
        nb__outq_commit(&c->conn.out, n);
        nb__conn_schedule_flush(&c->conn);
        nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [INFO %s]", json);
    }
    free(json);
    return dst ? 0 : NB_ENOMEM;
}

void
nb__client_accept(struct nb_server *srv, uv_stream_t *listener)
{
    struct nb_client *c = calloc(1, sizeof *c);
    if (!c) return;
    const struct nb_config *cfg = &srv->cfg;
    c->verbose = c->pedantic = c->echo = 1;
    np_parser_init(&c->parser, NP_MODE_SERVER, (uint32_t)cfg->max_control_line,
                   (uint32_t)cfg->max_payload);
    np_map_init(&c->subs);
    srv->stats.connections++;
    srv->stats.total_connections++;
    if (nb__conn_accept(&c->conn, srv, &client_proto, listener) != 0) return;
    uint64_t now = nb__now_ms(srv);
    c->next_ping_ms = now + (uint64_t)cfg->ping_interval_ms;
    /* nats-server's authentication timer starts after the handshake, which may take this long. */
    uint64_t tls_ms = srv->tls ? (uint64_t)cfg->tls.timeout_ms : 0;
    if (auth_required(srv)) c->auth_deadline_ms = now + tls_ms + (uint64_t)cfg->auth_timeout_ms;
    if (send_info(c) != 0) {
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    nb__conn_log(&c->conn, NB_LOG_DEBUG, "Client connection created");
    if ((int64_t)srv->stats.connections > cfg->max_connections) {
        nb__conn_send_err(&c->conn, "maximum connections exceeded");
        nb__conn_close(&c->conn, NB_CLOSE_MAX_CONNECTIONS, true);
        return;
    }
    if (srv->tls) {
        nb__conn_log(&c->conn, NB_LOG_DEBUG, "Starting TLS client connection handshake");
        if (nb__conn_start_tls(&c->conn, srv->tls, tls_ms) != 0) {
            nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
            return;
        }
    }
    nb__conn_start(&c->conn);
}
