/*
 * The route protocol on one connection (spec 5.1, 5.2, 5.4 to 5.6): the handshake with a peer
 * server, its interest (RS+/RS-) as route subscriptions in the sublist, its messages (RMSG/HMSG)
 * into the message path, and pings. What concerns the cluster as a whole (the registry, gossip,
 * redialing) is nb_cluster.c's; the transport is nb_conn.
 *
 * Either side may have dialed. The dialer sends CONNECT and its INFO at once; the acceptor sends
 * its INFO at once and, when routes must authenticate, wants CONNECT before anything else. Each
 * side registers the route at the peer's first INFO.
 */
#include "nb_account.h"
#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_srv.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_PING_MS 1000 /* nats-server's first PING on a route, +0..20% */
#define DIAL_MS       1000 /* nats-server's route dial timeout */
/*
 * nats-server puts no limit on what a route sends; these only keep a broken or hostile peer from
 * making the parser buffer without end. Payloads are bounded by max_pending below too.
 */
#define ROUTE_MAX_LINE (1024 * 1024)

static void route_input(struct nb_conn *conn, const char *data, size_t len);
static void route_tick(struct nb_conn *conn, uint64_t now);
static void route_teardown(struct nb_conn *conn);
static void route_destroy(struct nb_conn *conn);
static void route_secured(struct nb_conn *conn);

static const struct nb_proto route_proto = {
    .id_label = "rid",
    .kind_name = "Router",
    .close_level = NB_LOG_INFO,
    .tls_kind = "route",
    .input = route_input,
    .tick = route_tick,
    .teardown = route_teardown,
    .destroy = route_destroy,
    .secured = route_secured,
};

void
nb__route_send(struct nb_route *r, const char *line, size_t len)
{
    if (r->conn.srv->cfg.trace)
        nb__conn_log(&r->conn, NB_LOG_TRACE, "->> [%.*s]", (int)len - 2, line);
    nb__conn_send(&r->conn, line, len);
}

static bool
auth_required(const struct nb_server *srv)
{
    return srv->cfg.cluster_user != NULL;
}

static bool
same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/*
 * Compares every byte whatever the lengths, so the time taken says little about the secret. A
 * missing password is an empty one, as in nats-server's Go strings.
 */
static bool
secret_equal(const char *given, const char *want)
{
    given = given ? given : "";
    want = want ? want : "";
    size_t lg = strlen(given), lw = strlen(want);
    unsigned char diff = (unsigned char)(lg != lw);
    for (size_t i = 0; i < lw; i++)
        diff |= (unsigned char)(given[i < lg ? i : 0] ^ want[i]);
    return diff == 0;
}

/* ---- the handshake ------------------------------------------------------------------------------- */

static void
send_info(struct nb_route *r)
{
    char *json = nb__cluster_info_json(r->conn.srv);
    size_t n = json ? strlen(json) : 0;
    char *line = json ? malloc(n + 8) : NULL;
    if (line)
        nb__route_send(r, line, np_enc_info(line, n + 8, (struct np_str){json, n}));
    else
        nb__conn_close(&r->conn, NB_CLOSE_NO_MEMORY, false);
    free(line);
    free(json);
}

/* The dialer's CONNECT: its server id as name, and the credentials of the URL it dialed. */
static void
send_connect(struct nb_route *r)
{
    struct nb_server *srv = r->conn.srv;
    const struct np_url *u = &r->solicit->url;
    struct np_connect cc;
    np_connect_init(&cc);
    cc.verbose = cc.pedantic = false;
    cc.headers = true;
    cc.name = srv->server_id;
    cc.cluster = srv->cluster->name;
    cc.cluster_dynamic = srv->cluster->name_dynamic;
    cc.user = u->user;
    cc.pass = u->pass;
    cc.tls_required = srv->cluster->tls != NULL;
    char *json = np_connect_encode_route(&cc);
    size_t n = json ? strlen(json) : 0;
    char *line = json ? malloc(n + 16) : NULL;
    if (line) {
        nb__conn_send(&r->conn, line, np_enc_connect(line, n + 16, (struct np_str){json, n}));
        if (srv->cfg.trace) nb__trace_connect(&r->conn, "->>", (struct np_str){json, n});
    } else {
        nb__conn_close(&r->conn, NB_CLOSE_NO_MEMORY, false);
    }
    free(line);
    free(json);
}

static void
start_pings(struct nb_route *r)
{
    struct nb_server *srv = r->conn.srv;
    uint64_t first = FIRST_PING_MS;
    if ((uint64_t)srv->cfg.ping_interval_ms < first) first = (uint64_t)srv->cfg.ping_interval_ms;
    r->next_ping_ms = nb__now_ms(srv) + first + nb__rand(srv) % (first / 5 + 1);
}

static struct nb_route *
route_new(struct nb_server *srv)
{
    struct nb_route *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    int64_t max_payload = srv->cfg.max_pending;
    if (max_payload > INT32_MAX) max_payload = INT32_MAX;
    np_rparser_init(&r->parser, ROUTE_MAX_LINE, (uint32_t)max_payload);
    np_map_init(&r->subs);
    return r;
}

/* nats-server logs a route's creation once its TLS handshake, if any, is done. */
static void
route_secured(struct nb_conn *conn)
{
    nb__conn_log(conn, NB_LOG_INFO, "Route connection created");
}

/*
 * Route TLS starts before anything is said, on both sides (nats-server's createRoute): the INFO
 * and CONNECT queued next wait for the handshake. Returns false when the route was closed.
 */
static bool
start_tls(struct nb_route *r)
{
    struct nb_conn *c = &r->conn;
    struct nb_cluster *cl = c->srv->cluster;
    uint64_t timeout = (uint64_t)c->srv->cfg.cluster_tls.timeout_ms;
    int rc;
    if (!cl->tls) return true;
    if (r->solicited) {
        const char *host = r->solicit->url.host;
        struct in6_addr ip;
        bool is_ip = inet_pton(AF_INET, host, &ip) == 1 || inet_pton(AF_INET6, host, &ip) == 1;
        nb__conn_log(c, NB_LOG_DEBUG, "Starting TLS route client handshake");
        rc = nb__conn_dial_tls(c, cl->tls, is_ip && cl->tls_name ? cl->tls_name : host, timeout);
    } else {
        nb__conn_log(c, NB_LOG_DEBUG, "Starting TLS route server handshake");
        rc = nb__conn_start_tls(c, cl->tls, timeout);
    }
    if (rc) nb__conn_close(c, NB_CLOSE_NO_MEMORY, false);
    return rc == 0;
}

void
nb__route_accept(struct nb_server *srv, uv_stream_t *listener)
{
    struct nb_route *r = route_new(srv);
    if (!r) return;
    r->tcp_up = 1;
    if (nb__conn_accept(&r->conn, srv, &route_proto, listener) != 0) return;
    if (!start_tls(r)) return;
    if (auth_required(srv))
        r->deadline_ms = nb__now_ms(srv) + (uint64_t)srv->cfg.cluster_auth_timeout_ms +
                         (srv->cluster->tls ? (uint64_t)srv->cfg.cluster_tls.timeout_ms : 0);
    start_pings(r);
    send_info(r);
    if (!srv->cluster->tls) route_secured(&r->conn);
    nb__conn_start(&r->conn);
}

static void
on_dialed(uv_connect_t *req, int status)
{
    struct nb_route *r = req->data;
    struct nb_conn *c = &r->conn;
    if (status == UV_ECANCELED || c->closing) return;
    if (status == 0 && !r->solicit) status = UV_ECANCELED; /* the server is stopping */
    if (status < 0) {
        r->dial_status = status;
        nb__conn_drop(c);
        return;
    }
    r->tcp_up = 1;
    r->deadline_ms = 0;
    nb__conn_connected(c);
    if (!start_tls(r)) return;
    start_pings(r);
    send_connect(r);
    send_info(r);
    if (!c->srv->cluster->tls) route_secured(c);
    nb__conn_start(c);
}

void
nb__route_dial(struct nb_server *srv, struct nb_solicit *s, const struct sockaddr *addr)
{
    struct nb_route *r = route_new(srv);
    if (!r) return;
    nb__conn_init(&r->conn, srv, &route_proto);
    r->solicited = 1;
    r->solicit = s;
    s->route = r;
    r->creq.data = r;
    r->deadline_ms = nb__now_ms(srv) + DIAL_MS;
    nb__log(srv, NB_LOG_DEBUG, "Trying to connect to route on %s", s->shown);
    int rc = uv_tcp_connect(&r->creq, &r->conn.tcp, addr, on_dialed);
    if (rc) {
        r->dial_status = rc;
        nb__conn_drop(&r->conn);
    }
}

/* ---- CONNECT and INFO ---------------------------------------------------------------------------- */

static void
refuse(struct nb_route *r, const char *text, enum nb_close_reason why)
{
    nb__conn_send_err(&r->conn, text);
    nb__conn_close(&r->conn, why, true);
}

/* The acceptor's checks, in nats-server's order (spec 5.2). Returns false when r was refused. */
static bool
check_connect(struct nb_route *r, const struct np_connect *cc)
{
    struct nb_server *srv = r->conn.srv;
    char text[512];
    if (auth_required(srv) &&
        !(same(cc->user, srv->cfg.cluster_user) && secret_equal(cc->pass, srv->cfg.cluster_pass))) {
        nb__conn_log(&r->conn, NB_LOG_ERROR, "authentication error");
        refuse(r, "Authorization Violation", NB_CLOSE_AUTH_FAILURE);
        return false;
    }
    if (cc->lang && *cc->lang) {
        refuse(r, "attempted to connect to route port", NB_CLOSE_WRONG_PORT);
        return false;
    }
    if (cc->gateway && *cc->gateway) {
        snprintf(text, sizeof text,
                 "Rejecting connection from gateway \"%.200s\" on the Route port", cc->gateway);
        nb__conn_log(&r->conn, NB_LOG_ERROR, "%s", text);
        refuse(r, text, NB_CLOSE_WRONG_GATEWAY);
        return false;
    }
    if (nb__cluster_name_ok(r, cc->cluster ? cc->cluster : "", cc->cluster_dynamic)) return true;
    snprintf(text, sizeof text,
             "Rejecting connection, cluster name \"%.200s\" does not match \"%.200s\"",
             cc->cluster ? cc->cluster : "", srv->cluster->name);
    nb__conn_log(&r->conn, NB_LOG_ERROR, "%s", text);
    refuse(r, text, NB_CLOSE_CLUSTER_NAME_CONFLICT);
    return false;
}

static void
op_connect(struct nb_route *r, const struct np_rop *op)
{
    struct np_connect cc;
    np_connect_init(&cc);
    if (r->solicited || r->connect_seen) return; /* the acceptor never sends one */
    if (np_connect_parse(&cc, op->arg.ptr, op->arg.len) != 0) {
        nb__conn_close(&r->conn, NB_CLOSE_PARSE_ERROR, false);
    } else if (check_connect(r, &cc)) {
        r->connect_seen = 1;
        r->deadline_ms = 0;
        r->conn.headers = cc.headers;
        free(r->remote_id);
        r->remote_id = cc.name;
        cc.name = NULL;
    }
    np_connect_release(&cc);
}

/* An INFO after the first: gossip about another server, or news about this peer (spec 5.3). */
static void
info_update(struct nb_route *r, const struct np_info *info)
{
    struct nb_server *srv = r->conn.srv;
    if (info->gateway && *info->gateway) return;
    if (!same(info->server_id, r->remote_id)) {
        nb__cluster_gossip(srv, info);
        return;
    }
    if (info->ldm && r->nurls && !srv->cfg.cluster_no_advertise) {
        nb__curls_remove(srv, r->urls, r->nurls);
        for (size_t i = 0; i < r->nurls; i++)
            free(r->urls[i]);
        free(r->urls);
        r->urls = NULL;
        r->nurls = 0;
    }
}

/*
 * Checks the peer's first INFO. Returns false when the route was closed. Two JetStream servers
 * would both answer the JetStream API and both capture a stream's subjects: that is refused
 * rather than left silently wrong (natsctl runs JetStream on one server of a cluster).
 */
static bool
check_first_info(struct nb_route *r, const struct np_info *info)
{
    struct nb_server *srv = r->conn.srv;
    const char *our_name = srv->cfg.server_name ? srv->cfg.server_name : srv->server_id;
    if (!r->solicited && same(info->server_name, our_name)) {
        nb__conn_log(&r->conn, NB_LOG_ERROR, "Remote server has a duplicate name: \"%s\"",
                     info->server_name);
        nb__conn_close(&r->conn, NB_CLOSE_DUPLICATE_SERVER_NAME, false);
        return false;
    }
    if (srv->js && (info->jetstream || info->natsctl_streams)) {
        nb__conn_log(&r->conn, NB_LOG_ERROR,
                     "Refusing the route to \"%s\": JetStream is enabled there too, and natsctl "
                     "runs JetStream on one server of a cluster",
                     info->server_name ? info->server_name : "");
        nb__conn_close(&r->conn, NB_CLOSE_JETSTREAM_CONFLICT, false);
        return false;
    }
    return true;
}

static void
op_info(struct nb_route *r, const struct np_rop *op)
{
    struct nb_server *srv = r->conn.srv;
    struct np_info info;
    if (np_info_parse(&info, op->arg.ptr, op->arg.len) != 0) {
        nb__conn_close(&r->conn, NB_CLOSE_PARSE_ERROR, false);
        return;
    }
    if (same(info.server_id, srv->server_id)) {
        if (r->solicit) r->solicit->self = true;
        nb__conn_log(&r->conn, NB_LOG_DEBUG, "Detected route to self, ignoring");
        nb__conn_close(&r->conn, NB_CLOSE_DUPLICATE_ROUTE, false);
    } else if (info.cluster && *info.cluster &&
               !nb__cluster_name_ok(r, info.cluster, info.cluster_dynamic)) {
        nb__conn_close(&r->conn, NB_CLOSE_CLUSTER_NAME_CONFLICT, false);
    } else if (r->info_seen) {
        info_update(r, &info);
    } else if (check_first_info(r, &info)) {
        r->info_seen = 1;
        r->conn.headers = info.headers;
        nb__cluster_register(r, &info, op->arg);
    }
    np_info_release(&info);
}

/* ---- interest ------------------------------------------------------------------------------------ */

/* "account subject[ queue]" in r's scratch, the key of the peer's interest. */
static struct np_str
interest_key(struct nb_route *r, const struct np_rop *op)
{
    r->key.len = 0;
    int rc = np_buf_add(&r->key, op->account.ptr, op->account.len);
    rc |= np_buf_add(&r->key, " ", 1);
    rc |= np_buf_add(&r->key, op->subject.ptr, op->subject.len);
    if (op->queue.len) {
        rc |= np_buf_add(&r->key, " ", 1);
        rc |= np_buf_add(&r->key, op->queue.ptr, op->queue.len);
    }
    return rc ? (struct np_str){0} : (struct np_str){r->key.ptr, r->key.len};
}

static struct nb_rsub *
rsub_new(struct nb_route *r, struct nb_account *acc, const struct np_rop *op, struct np_str key)
{
    struct nb_rsub *rs = malloc(sizeof *rs + key.len + 1);
    if (!rs) return NULL;
    memcpy(rs->key, key.ptr, key.len);
    rs->key[key.len] = '\0';
    rs->key_len = (uint32_t)key.len;
    rs->weight = op->weight ? op->weight : 1;
    rs->acc = acc;
    char *subject = rs->key + op->account.len + 1;
    rs->sub = (struct nb_sub){
        .owner = r,
        .subject = subject,
        .subject_len = (uint32_t)op->subject.len,
        .queue = op->queue.len ? subject + op->subject.len + 1 : NULL,
        .queue_len = (uint32_t)op->queue.len,
        .sid = subject,
        .sid_len = (uint32_t)(key.len - op->account.len - 1),
        .kind = NB_RECV_ROUTE,
    };
    return rs;
}

/* The account an RS+, RS- or RMSG names; one this server does not have is ignored. */
static struct nb_account *
op_account(struct nb_route *r, const struct np_rop *op)
{
    struct nb_account *acc =
        nb__accounts_find(r->conn.srv->accounts, op->account.ptr, op->account.len);
    if (acc) return acc;
    if (r->conn.srv->cfg.debug)
        nb__conn_log(&r->conn, NB_LOG_DEBUG, "Unknown account \"%.*s\" for subject \"%.*s\"",
                     (int)op->account.len, op->account.ptr, (int)op->subject.len, op->subject.ptr);
    return NULL;
}

static void
op_rsub(struct nb_route *r, const struct np_rop *op)
{
    r->activity = 1;
    struct nb_account *acc = op_account(r, op);
    if (!acc) return;
    struct np_str key = interest_key(r, op);
    struct nb_rsub *rs = key.len ? np_map_get(&r->subs, key.ptr, key.len) : NULL;
    if (rs) {
        if (op->queue.len) rs->weight = op->weight ? op->weight : 1;
        return;
    }
    rs = key.len ? rsub_new(r, acc, op, key) : NULL;
    if (!rs || np_map_put(&r->subs, rs->key, rs->key_len, rs) != 0) {
        free(rs);
        nb__conn_close(&r->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    if (nb_sublist_insert(nb__account_sublist(acc), &rs->sub) != 0) {
        np_map_del(&r->subs, rs->key, rs->key_len);
        free(rs);
        nb__conn_log(&r->conn, NB_LOG_ERROR, "Could not insert subscription: \"%.*s\"",
                     (int)op->subject.len, op->subject.ptr);
    }
}

static void
op_runsub(struct nb_route *r, const struct np_rop *op)
{
    r->activity = 1;
    if (!op_account(r, op)) return;
    struct np_str key = interest_key(r, op);
    struct nb_rsub *rs = key.len ? np_map_del(&r->subs, key.ptr, key.len) : NULL;
    if (!rs) return;
    nb_sublist_remove(nb__account_sublist(rs->acc), &rs->sub);
    free(rs);
}

/* ---- messages ------------------------------------------------------------------------------------ */

static void
op_msg(struct nb_route *r, const struct np_rop *op)
{
    struct nb_conn *c = &r->conn;
    struct nb_server *srv = c->srv;
    r->activity = 1;
    c->in_msgs++;
    c->in_bytes += op->payload.len;
    srv->stats.in_msgs++;
    srv->stats.in_bytes += op->payload.len;
    struct nb_account *acc = op_account(r, op);
    if (!acc) return;
    struct nb_msg msg = {
        .subject = op->subject.ptr,
        .subject_len = op->subject.len,
        .reply = op->reply.ptr,
        .reply_len = op->reply.len,
        .data = op->payload.ptr,
        .hdr_len = op->hdr_len,
        .len = op->payload.len,
    };
    nb__publish_routed(srv, acc, c, &msg, op->queues);
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

static void
trace_op(struct nb_route *r, const struct np_rop *op)
{
    static const char *const names[] = {"",     "INFO", "CONNECT", "PING", "PONG", "OK",
                                        "-ERR", "RS+",  "RS-",     "RMSG", "HMSG", "LS+",
                                        "LS-",  "LMSG", "A+",      "A-"};
    if (op->type == NP_ROP_CONNECT) {
        nb__trace_connect(&r->conn, "<<-", op->arg);
        return;
    }
    nb__conn_log(&r->conn, NB_LOG_TRACE, "<<- [%s%s%.*s]", names[op->type], op->arg.len ? " " : "",
                 (int)(op->arg.len > 512 ? 512 : op->arg.len), op->arg.ptr);
}

static void
pong(struct nb_route *r)
{
    if (r->pings_out) r->rtt_ns = (int64_t)(uv_hrtime() - r->ping_sent_ns);
    r->pings_out = 0;
    r->rtt_known = 1;
}

static void
dispatch(struct nb_route *r, const struct np_rop *op)
{
    struct nb_server *srv = r->conn.srv;
    if (srv->cfg.trace) trace_op(r, op);
    if (!r->solicited && !r->connect_seen && op->type != NP_ROP_CONNECT && auth_required(srv)) {
        nb__conn_log(&r->conn, NB_LOG_ERROR, "authentication error");
        refuse(r, "Authorization Violation", NB_CLOSE_AUTH_FAILURE);
        return;
    }
    switch (op->type) {
    case NP_ROP_CONNECT:
        op_connect(r, op);
        break;
    case NP_ROP_INFO:
        op_info(r, op);
        break;
    case NP_ROP_PING:
        nb__route_send(r, NP_PONG, sizeof NP_PONG - 1);
        break;
    case NP_ROP_PONG:
        pong(r);
        break;
    case NP_ROP_RSUB:
        op_rsub(r, op);
        break;
    case NP_ROP_RUNSUB:
        op_runsub(r, op);
        break;
    case NP_ROP_RMSG:
    case NP_ROP_HMSG:
        op_msg(r, op);
        break;
    case NP_ROP_ERR:
        nb__conn_log(&r->conn, NB_LOG_ERROR, "Route Error %.*s", (int)op->arg.len, op->arg.ptr);
        nb__conn_close(&r->conn, NB_CLOSE_PARSE_ERROR, false);
        break;
    default:
        break; /* +OK, and leafnode and gateway interest this server never asked for */
    }
}

static void
route_input(struct nb_conn *conn, const char *data, size_t len)
{
    struct nb_route *r = nb__route_of(conn);
    size_t off = 0;
    while (off < len && !conn->closing) {
        struct np_rop op;
        ssize_t n = np_rparse(&r->parser, data + off, len - off, &op);
        if (n < 0) {
            nb__conn_log(conn, NB_LOG_ERROR, "Route protocol error: %s", np_strerror((int)n));
            nb__conn_close(conn, NB_CLOSE_PARSE_ERROR, false);
            return;
        }
        off += (size_t)n;
        if (op.type != NP_ROP_NONE) dispatch(r, &op);
    }
}

/* ---- timers and the end -------------------------------------------------------------------------- */

static void
ping_check(struct nb_route *r, uint64_t now)
{
    const struct nb_config *cfg = &r->conn.srv->cfg;
    bool quiet = !r->activity;
    r->next_ping_ms = now + (uint64_t)cfg->ping_interval_ms;
    r->activity = 0;
    if (r->rtt_known && !quiet) return;
    if ((int64_t)r->pings_out + 1 > cfg->ping_max) {
        nb__conn_send_err(&r->conn, "Stale Connection");
        nb__conn_log(&r->conn, NB_LOG_DEBUG, "Stale Router Connection - Closing");
        nb__conn_close(&r->conn, NB_CLOSE_STALE, true);
        return;
    }
    r->pings_out++;
    r->ping_sent_ns = uv_hrtime();
    nb__route_send(r, NP_PING, sizeof NP_PING - 1);
}

static void
route_tick(struct nb_conn *conn, uint64_t now)
{
    struct nb_route *r = nb__route_of(conn);
    if (r->deadline_ms && now >= r->deadline_ms) {
        if (!r->tcp_up) {
            r->dial_status = UV_ETIMEDOUT;
            nb__conn_drop(conn);
            return;
        }
        refuse(r, "Authentication Timeout", NB_CLOSE_AUTH_TIMEOUT);
        return;
    }
    if (r->tcp_up && now >= r->next_ping_ms) ping_check(r, now);
}

static void
route_teardown(struct nb_conn *conn)
{
    struct nb_route *r = nb__route_of(conn);
    size_t it = 0;
    void *val;
    while (np_map_next(&r->subs, &it, NULL, NULL, &val)) {
        struct nb_rsub *rs = val;
        nb_sublist_remove(nb__account_sublist(rs->acc), &rs->sub);
        free(rs);
    }
    np_map_release(&r->subs);
    nb__cluster_route_gone(r);
}

static void
route_destroy(struct nb_conn *conn)
{
    struct nb_route *r = nb__route_of(conn);
    np_rparser_release(&r->parser);
    np_buf_release(&r->key);
    for (size_t i = 0; i < r->nurls; i++)
        free(r->urls[i]);
    free(r->urls);
    free(r->remote_id);
    free(r->dial_url);
    free(r);
}
