/*
 * The NATS client connection on libuv: server pool, connect, handshake, output, input, keepalive,
 * reconnect and close. The API on top (subscriptions, publish, requests, drain) is np_client.c;
 * what the two share, invariants included, is np_client_int.h.
 *
 * One connection attempt at a time walks the phases RESOLVE, TCP, INFO, TLS (when the URL, the TLS
 * options or the server's INFO ask for it), PONG, UP; a failure in any of them closes the TCP handle
 * and the next step (another server, a backoff wait, or giving up) is taken from its close
 * callback, so a handle is never reused before libuv has let go of it.
 *
 * Under TLS (np_tls.h) the socket carries records: what is read is decrypted and parsed at once,
 * and what is written is encrypted first; the protocol above sees the same bytes either way.
 */
#include "np_client_int.h"
#include "np_creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_WAIT_MS  250
#define BACKOFF_CAP_MS   2000
#define PING_INTERVAL_MS (120 * 1000)
#define MAX_PINGS_OUT    2
#define MAX_LINE         (64 * 1024)
#define CLIENT_VERSION   "natsctl-" NATSCTL_VERSION

static void start_attempt(struct np_client *c);
static void advance(struct np_client *c);
static void conn_lost(struct np_client *c, int status);
static void link_failed(struct np_client *c, int status);
static void release(struct np_client *c);

static void
emit(struct np_client *c, enum np_client_event ev, int status)
{
    if (c->opts.on_event) c->opts.on_event(c, ev, status, c->opts.ud);
}

/* ---------------------------------------------------------------------------------------------- */
/* Creation and the server pool                                                                   */
/* ---------------------------------------------------------------------------------------------- */

static int
copy_opts(struct np_client *c, const struct np_client_opts *opts)
{
    if (opts) c->opts = *opts;
    c->servers = strdup(c->opts.servers ? c->opts.servers : NP_DEFAULT_URL);
    c->user = np__dup(c->opts.user);
    c->pass = np__dup(c->opts.pass);
    c->token = np__dup(c->opts.token);
    c->name = np__dup(c->opts.name);
    c->tls_ca = np__dup(c->opts.tls_ca);
    c->tls_cert = np__dup(c->opts.tls_cert);
    c->tls_key = np__dup(c->opts.tls_key);
    c->nkey_file = np__dup(c->opts.nkey_file);
    c->creds_file = np__dup(c->opts.creds_file);
    c->opts.servers = c->servers;
    c->opts.user = c->user;
    c->opts.pass = c->pass;
    c->opts.token = c->token;
    c->opts.name = c->name;
    c->opts.tls_ca = c->tls_ca;
    c->opts.tls_cert = c->tls_cert;
    c->opts.tls_key = c->tls_key;
    c->opts.nkey_file = c->nkey_file;
    c->opts.creds_file = c->creds_file;
    if ((c->opts.nkey_file && !c->nkey_file) || (c->opts.creds_file && !c->creds_file))
        return NP_ENOMEM;
    if (!c->servers || (c->opts.user && !c->user) || (c->opts.pass && !c->pass) ||
        (c->opts.token && !c->token) || (c->opts.name && !c->name) ||
        (c->opts.tls_ca && !c->tls_ca) || (c->opts.tls_cert && !c->tls_cert) ||
        (c->opts.tls_key && !c->tls_key))
        return NP_ENOMEM;
    return 0;
}

static void
free_pool(struct np_client *c)
{
    for (size_t i = 0; i < c->npool; i++) {
        np_url_release(&c->pool[i].url);
        free(c->pool[i].auth_err);
        free(c->pool[i].tls_err);
    }
    free(c->pool);
    c->pool = NULL;
    c->npool = 0;
}

static void
free_client(struct np_client *c)
{
    free_pool(c);
    np__free_subs(c);
    np_map_release(&c->reqs); /* empty: close failed every request */
    np_parser_release(&c->parser);
    np_info_release(&c->info);
    free(c->hs);
    np_buf_release(&c->pend);
    np_buf_release(&c->inflight);
    free(c->servers);
    free(c->user);
    free(c->pass);
    free(c->token);
    free(c->name);
    free(c->tls_ca);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->nkey_file);
    free(c->creds_file);
    np__tls_free(c->tls);
    np__tls_ctx_free(c->tls_ctx);
    free(c->tls_plain);
    free(c);
}

static void
init_handles(struct np_client *c)
{
    uv_timer_init(c->loop, &c->conn_timer);
    uv_timer_init(c->loop, &c->req_timer);
    uv_timer_init(c->loop, &c->ping_timer);
    uv_prepare_init(c->loop, &c->flusher);
    c->conn_timer.data = c->req_timer.data = c->ping_timer.data = c->flusher.data = c;
    c->connect_req.data = c->gai_req.data = c->hs_req.data = c->out_req.data = c;
    c->refs = 4;
}

int
np_client_new(struct np_client **out, uv_loop_t *loop, const struct np_client_opts *opts)
{
    struct np_client *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c) return NP_ENOMEM;
    c->loop = loop;
    np_parser_init(&c->parser, NP_MODE_CLIENT, MAX_LINE, NP_MAX_PAYLOAD);
    if (copy_opts(c, opts) != 0) {
        free_client(c);
        return NP_ENOMEM;
    }
    uint64_t seed;
    if (uv_random(NULL, NULL, &seed, sizeof seed, 0, NULL) != 0)
        seed = (uint64_t)uv_hrtime() ^ (uint64_t)(uintptr_t)c;
    np_rand_seed(&c->rng, seed);
    init_handles(c);
    *out = c;
    return 0;
}

static int
pool_add(struct np_client *c, const char *text, const struct np__server *creds)
{
    struct np_url u;
    int rc = np_url_parse(&u, text);
    if (rc != 0) return rc;
    for (size_t i = 0; creds && i < c->npool; i++) {
        if (c->pool[i].url.port == u.port && strcmp(c->pool[i].url.host, u.host) == 0) {
            np_url_release(&u);
            return 0;
        }
    }
    struct np__server *pool = realloc(c->pool, (c->npool + 1) * sizeof *pool);
    if (!pool) {
        np_url_release(&u);
        return NP_ENOMEM;
    }
    c->pool = pool;
    if (creds && !u.user && !u.pass) {
        u.user = np__dup(creds->url.user);
        u.pass = np__dup(creds->url.pass);
    }
    if (creds) u.tls |= creds->url.tls;
    pool[c->npool++] = (struct np__server){.url = u};
    return 0;
}

static int
build_pool(struct np_client *c)
{
    const char *p = c->servers;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *one = strndup(p, n);
        if (!one) return NP_ENOMEM;
        int rc = pool_add(c, one, NULL);
        free(one);
        if (rc != 0) return rc;
        p += n + (comma ? 1 : 0);
    }
    return c->npool ? 0 : NP_EURL_HOST;
}

/* Servers a cluster announces join the pool with the credentials of the one that told us. */
static void
learn_servers(struct np_client *c)
{
    for (size_t i = 0; i < c->info.n_connect_urls; i++) {
        struct np__server from = c->pool[c->cur];
        pool_add(c, c->info.connect_urls[i], &from);
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* Output                                                                                          */
/* ---------------------------------------------------------------------------------------------- */

static void on_flush(uv_prepare_t *h);

/* A write of TLS records, which own their bytes: more may be produced before libuv is done. */
struct tls_write {
    uv_write_t req;
    struct np_client *c;
    struct np_buf bytes;
    bool flush; /* carries the flusher's batch: `writing` ends with it */
};

static void
on_tls_written(uv_write_t *req, int status)
{
    struct tls_write *w = (struct tls_write *)req;
    struct np_client *c = w->c;
    bool flush = w->flush;
    np_buf_release(&w->bytes);
    free(w);
    if (flush) c->writing = false;
    if (status < 0) {
        if (!c->tcp_closing && c->state != NP__ST_CLOSED) link_failed(c, status);
    } else if (flush) {
        np__kick(c);
    }
    release(c);
}

/* Writes what the session has produced (handshake records, encrypted output), if anything. */
static int
tls_send(struct np_client *c, bool flush)
{
    struct np_buf *out = np__tls_output(c->tls);
    if (out->len == 0) return 0;
    struct tls_write *w = malloc(sizeof *w);
    if (!w) return NP_ENOMEM;
    *w = (struct tls_write){.c = c, .bytes = *out, .flush = flush};
    *out = (struct np_buf){0};
    uv_buf_t b = uv_buf_init(w->bytes.ptr, (unsigned int)w->bytes.len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_tls_written);
    if (rc < 0) {
        np_buf_release(&w->bytes);
        free(w);
        return rc;
    }
    c->refs++;
    return 0;
}

/* The flusher's batch under TLS: encrypted now, written as one write that `writing` covers. */
static int
tls_flush(struct np_client *c)
{
    int rc = np__tls_write(c->tls, c->inflight.ptr, c->inflight.len);
    c->inflight.len = 0;
    if (rc != 0) return NP_ENOMEM;
    bool records = np__tls_output(c->tls)->len > 0;
    rc = tls_send(c, true);
    if (rc == 0 && records) c->writing = true;
    return rc;
}

void
np__kick(struct np_client *c)
{
    if (c->phase == NP__PH_UP && c->pend.len > 0 && !uv_is_active((uv_handle_t *)&c->flusher))
        uv_prepare_start(&c->flusher, on_flush);
}

static int
out_put_bytes(struct np_client *c, const char *p, size_t n)
{
    int rc = np_buf_add(&c->pend, p, n);
    if (rc == 0) np__kick(c);
    return rc;
}

static void
on_written(uv_write_t *req, int status)
{
    struct np_client *c = req->data;
    c->writing = false;
    c->inflight.len = 0;
    if (status < 0) {
        if (!c->tcp_closing && c->phase == NP__PH_UP) conn_lost(c, status);
        return;
    }
    np__kick(c);
}

static void
on_flush(uv_prepare_t *h)
{
    struct np_client *c = h->data;
    if (c->writing) return;
    if (c->pend.len == 0 || c->phase != NP__PH_UP) {
        uv_prepare_stop(h);
        return;
    }
    struct np_buf t = c->inflight;
    c->inflight = c->pend;
    c->pend = t;
    for (struct np__waiter *w = c->wq_head; w; w = w->next)
        w->sent = true;
    if (c->tls) {
        int rc = tls_flush(c);
        if (rc < 0) conn_lost(c, rc);
        return;
    }
    uv_buf_t b = uv_buf_init(c->inflight.ptr, (unsigned int)c->inflight.len);
    int rc = uv_write(&c->out_req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc < 0) {
        c->inflight.len = 0;
        conn_lost(c, rc);
        return;
    }
    c->writing = true;
}

/*
 * What a fresh connection needs ahead of everything queued: the subscription table, then a PING
 * for each flush waiter whose PING went down with the old connection.
 */
static int
replay(struct np_client *c)
{
    struct np_buf b = {0};
    int rc = 0;
    void *v;
    for (size_t it = 0; rc == 0 && np_map_next(&c->subs, &it, NULL, NULL, &v);) {
        const struct np__sub *s = v;
        rc = np__queue_sub(&b, s, s->max ? s->max - s->delivered : 0);
    }
    for (struct np__waiter *w = c->wq_head; rc == 0 && w; w = w->next) {
        if (!w->sent) continue;
        rc = np_buf_add(&b, NP_PING, sizeof NP_PING - 1);
        w->sent = false;
    }
    if (rc == 0) rc = np_buf_add(&b, c->pend.ptr, c->pend.len);
    if (rc != 0) {
        np_buf_release(&b);
        return rc;
    }
    np_buf_release(&c->pend);
    c->pend = b;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Closing                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static void
finish(struct np_client *c)
{
    if (c->drain_cb) c->drain_cb(c, c->end_status, c->drain_ud);
    if (c->close_cb) c->close_cb(c, 0, c->close_ud);
    free_client(c);
}

static void
release(struct np_client *c)
{
    if (--c->refs == 0 && c->state == NP__ST_CLOSED) finish(c);
}

static void
on_handle_closed(uv_handle_t *h)
{
    release(h->data);
}

static void
on_tcp_closed(uv_handle_t *h)
{
    struct np_client *c = h->data;
    c->tcp_open = false;
    c->tcp_closing = false;
    c->writing = false;
    c->inflight.len = 0;
    np__tls_free(c->tls);
    c->tls = NULL;
    if (c->state == NP__ST_CLOSED) {
        release(c);
        return;
    }
    c->refs--;
    if (c->state == NP__ST_CONNECTING || c->state == NP__ST_RECONNECTING) advance(c);
}

static void
tcp_shutdown(struct np_client *c)
{
    if (!c->tcp_open || c->tcp_closing) return;
    c->tcp_closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* Ends the client: everything pending fails with ECLOSED now, memory goes once libuv lets go. */
void
np__close_with(struct np_client *c, int status)
{
    if (c->state == NP__ST_CLOSED) return;
    c->state = NP__ST_CLOSED;
    c->phase = NP__PH_IDLE;
    c->end_status = status;
    np_done_cb ccb = c->connect_cb;
    c->connect_cb = NULL;
    if (ccb) ccb(c, NP_CLIENT_ECLOSED, c->connect_ud);
    np__fail_pending(c, NP_CLIENT_ECLOSED);
    tcp_shutdown(c);
    if (c->resolving) uv_cancel((uv_req_t *)&c->gai_req);
    uv_close((uv_handle_t *)&c->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->req_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->ping_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->flusher, on_handle_closed);
}

/* ---------------------------------------------------------------------------------------------- */
/* Connection attempts                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static void on_conn_timer(uv_timer_t *t);

static void
give_up(struct np_client *c, int status)
{
    c->state = NP__ST_DEAD;
    c->phase = NP__PH_IDLE;
    np__fail_pending(c, NP_CLIENT_ECLOSED);
    emit(c, NP_CLIENT_DISCONNECTED, status);
}

static void
initial_failed(struct np_client *c)
{
    np_done_cb cb = c->connect_cb;
    c->connect_cb = NULL;
    c->state = NP__ST_DEAD;
    c->phase = NP__PH_IDLE;
    np__fail_pending(c, NP_CLIENT_ECLOSED);
    if (cb) cb(c, c->saw_auth ? NP_CLIENT_EAUTH : NP_CLIENT_ENO_SERVERS, c->connect_ud);
}

static void
note_failure(struct np_client *c, int status)
{
    struct np__server *s = &c->pool[c->cur];
    s->last_err = status;
    free(s->tls_err);
    s->tls_err = status == NP_CLIENT_ETLS ? strdup(c->tls_err) : NULL;
    if (status != NP_CLIENT_EAUTH) {
        free(s->auth_err);
        s->auth_err = NULL;
        return;
    }
    c->saw_auth = true;
    if (s->auth_err && strcmp(s->auth_err, c->last_err) == 0) {
        s->banned = true;
        return;
    }
    free(s->auth_err);
    s->auth_err = strdup(c->last_err);
}

static void
attempt_failed(struct np_client *c, int status)
{
    uv_timer_stop(&c->conn_timer);
    note_failure(c, status);
    c->phase = NP__PH_IDLE;
    if (c->tcp_open)
        tcp_shutdown(c);
    else
        uv_timer_start(&c->conn_timer, on_conn_timer, 0, 0);
}

static uint64_t
backoff_ms(struct np_client *c)
{
    uint64_t base = c->opts.reconnect_wait_ms ? c->opts.reconnect_wait_ms : DEFAULT_WAIT_MS;
    uint64_t cap = base > BACKOFF_CAP_MS ? base : BACKOFF_CAP_MS, d = base;
    for (uint64_t round = c->tries / c->npool; round > 0 && d < cap; round--)
        d *= 2;
    if (d > cap) d = cap;
    return d / 2 + np_rand_next(&c->rng) % (d / 2 + 1);
}

/* Reconnecting: the next server not banned for its credentials, after a backoff. */
static void
schedule_reconnect(struct np_client *c)
{
    if (c->opts.max_reconnects > 0 && c->tries >= (uint64_t)c->opts.max_reconnects) {
        give_up(c, NP_CLIENT_ENO_SERVERS);
        return;
    }
    size_t i;
    for (i = 1; i <= c->npool; i++)
        if (!c->pool[(c->cur + i) % c->npool].banned) break;
    if (i > c->npool) {
        give_up(c, NP_CLIENT_EAUTH);
        return;
    }
    c->cur = (c->cur + i) % c->npool;
    uint64_t delay = backoff_ms(c);
    c->tries++;
    c->phase = NP__PH_WAIT;
    uv_timer_start(&c->conn_timer, on_conn_timer, delay, 0);
}

static void
advance(struct np_client *c)
{
    if (c->state == NP__ST_RECONNECTING) {
        schedule_reconnect(c);
    } else if (c->state == NP__ST_CONNECTING) {
        if (++c->cur < c->npool)
            start_attempt(c);
        else
            initial_failed(c);
    }
}

static void
on_conn_timer(uv_timer_t *t)
{
    struct np_client *c = t->data;
    if (c->phase == NP__PH_WAIT)
        start_attempt(c);
    else if (c->phase == NP__PH_IDLE)
        advance(c);
    else
        attempt_failed(c, NP_CLIENT_ETIMEOUT);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct np_client *c = h->data;
    (void)hint;
    *b = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void
on_connected(uv_connect_t *req, int status)
{
    struct np_client *c = req->data;
    if (c->tcp_closing || c->phase != NP__PH_TCP) return;
    if (status == 0) status = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (status < 0) {
        attempt_failed(c, status);
        return;
    }
    c->phase = NP__PH_INFO;
}

static void
tcp_begin(struct np_client *c, const struct sockaddr *addr)
{
    int rc = uv_tcp_init(c->loop, &c->tcp);
    if (rc < 0) {
        attempt_failed(c, rc);
        return;
    }
    c->tcp.data = c;
    c->tcp_open = true;
    c->refs++;
    uv_tcp_nodelay(&c->tcp, 1);
    np_parser_release(&c->parser);
    np_parser_init(&c->parser, NP_MODE_CLIENT, MAX_LINE, NP_MAX_PAYLOAD);
    c->phase = NP__PH_TCP;
    uv_timer_start(&c->conn_timer, on_conn_timer, np__timeout(c), 0);
    rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr, on_connected);
    if (rc < 0) attempt_failed(c, rc);
}

/*
 * nats-server listens on IPv4 unless told otherwise, while "localhost" often resolves to ::1 first,
 * so an IPv4 address wins when the name has one.
 */
static const struct sockaddr *
pick_addr(const struct addrinfo *res)
{
    for (const struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) return a->ai_addr;
    return res->ai_addr;
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct np_client *c = req->data;
    c->resolving = false;
    if (c->state != NP__ST_CLOSED) {
        if (status < 0)
            attempt_failed(c, status);
        else
            tcp_begin(c, pick_addr(res));
    }
    uv_freeaddrinfo(res);
    release(c);
}

static void
start_attempt(struct np_client *c)
{
    const struct np_url *u = &c->pool[c->cur].url;
    struct sockaddr_storage ss;
    c->phase = NP__PH_RESOLVE;
    if (uv_ip4_addr(u->host, u->port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(u->host, u->port, (struct sockaddr_in6 *)&ss) == 0) {
        tcp_begin(c, (const struct sockaddr *)&ss);
        return;
    }
    char port[8];
    snprintf(port, sizeof port, "%d", u->port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(c->loop, &c->gai_req, on_resolved, u->host, port, &hints);
    if (rc < 0) {
        attempt_failed(c, rc);
        return;
    }
    c->resolving = true;
    c->refs++;
}

/*
 * The nkey or creds file signs the nonce of INFO, or "" from a server without one, as nats.go
 * does. No file: nothing to do. The strings set in cn are the caller's to free.
 */
static int
sign_nonce(struct np_client *c, const char *nonce, struct np_connect *cn)
{
    const char *path = c->creds_file ? c->creds_file : c->nkey_file;
    if (!path) return 0;
    return np__creds_sign(path, c->creds_file != NULL, nonce ? nonce : "", cn, c->last_err,
                          sizeof c->last_err);
}

int
np_client_connect(struct np_client *c, np_done_cb cb, void *ud)
{
    if (c->state != NP__ST_NEW) return NP_CLIENT_ECLOSED;
    int rc = build_pool(c);
    if (rc == 0 && (c->tls_ca || c->tls_cert || c->tls_key))
        rc = np__tls_ctx_new(&c->tls_ctx, c->tls_cert, c->tls_key, c->tls_ca, c->last_err,
                             sizeof c->last_err);
    /* A file that cannot sign fails now, not as a refusal by every server. */
    struct np_connect probe;
    np_connect_init(&probe);
    if (rc == 0) rc = sign_nonce(c, "", &probe);
    free(probe.nkey);
    free(probe.jwt);
    free(probe.sig);
    if (rc != 0) {
        free_pool(c);
        return rc;
    }
    c->state = NP__ST_CONNECTING;
    c->connect_cb = cb;
    c->connect_ud = ud;
    c->cur = 0;
    start_attempt(c);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Handshake and connection life                                                                  */
/* ---------------------------------------------------------------------------------------------- */

static void
on_hs_written(uv_write_t *req, int status)
{
    struct np_client *c = req->data;
    if (status < 0 && !c->tcp_closing && c->phase == NP__PH_PONG) attempt_failed(c, status);
}

/* Credentials: the URL's own first, then the options' user/password, then the token. */
static void
set_credentials(const struct np_client *c, struct np_connect *cn)
{
    const struct np_url *u = &c->pool[c->cur].url;
    if (u->user) {
        cn->user = u->user;
        cn->pass = u->pass;
    } else if (u->pass) {
        cn->auth_token = u->pass;
    } else if (c->user) {
        cn->user = c->user;
        cn->pass = c->pass;
    } else {
        cn->auth_token = c->token;
    }
}

static int
send_handshake(struct np_client *c)
{
    char lang[] = "C", version[] = CLIENT_VERSION;
    struct np_connect cn;
    np_connect_init(&cn);
    cn.verbose = cn.pedantic = false;
    cn.echo = !c->opts.no_echo;
    cn.headers = cn.no_responders = c->info.headers;
    cn.protocol = 1;
    cn.lang = lang;
    cn.version = version;
    cn.name = c->name;
    set_credentials(c, &cn);
    int rc = sign_nonce(c, c->info.nonce, &cn);
    char *json = rc == 0 ? np_connect_encode(&cn) : NULL;
    free(cn.nkey);
    free(cn.jwt);
    free(cn.sig);
    if (rc != 0) return rc;
    if (!json) return NP_ENOMEM;
    struct np_str js = {json, strlen(json)};
    size_t n = np_enc_connect(NULL, 0, js);
    free(c->hs);
    c->hs = malloc(n + sizeof NP_PING);
    if (!c->hs) {
        free(json);
        return NP_ENOMEM;
    }
    np_enc_connect(c->hs, n, js);
    memcpy(c->hs + n, NP_PING, sizeof NP_PING - 1);
    free(json);
    if (c->tls) {
        if (np__tls_write(c->tls, c->hs, n + sizeof NP_PING - 1) != 0) return NP_ENOMEM;
        return tls_send(c, false);
    }
    uv_buf_t b = uv_buf_init(c->hs, (unsigned int)(n + sizeof NP_PING - 1));
    return uv_write(&c->hs_req, (uv_stream_t *)&c->tcp, &b, 1, on_hs_written);
}

/*
 * TLS, as nats.go decides it: a tls:// URL or TLS options want it (and a server without it is
 * refused), a server whose INFO requires it gets it. The handshake starts after INFO. The context
 * exists once TLS was wanted or required, and from then on every server must offer it, as nats.go
 * keeps its Secure option on after an upgrade.
 */
static int
start_tls(struct np_client *c)
{
    const struct np_url *u = &c->pool[c->cur].url;
    bool want = u->tls || c->tls_ctx;
    if (want && !c->info.tls_required && !c->info.tls_available) return NP_CLIENT_ESECURE;
    if (!want && !c->info.tls_required) return 0;
    int rc = 0;
    if (!c->tls_ctx)
        rc = np__tls_ctx_new(&c->tls_ctx, NULL, NULL, NULL, c->tls_err, sizeof c->tls_err);
    if (rc == 0 && !c->tls_plain && !(c->tls_plain = malloc(NP__READ_BUF_SIZE))) rc = NP_ENOMEM;
    if (rc == 0 && !(c->tls = np__tls_new(c->tls_ctx, u->host))) rc = NP_ENOMEM;
    if (rc == 0) rc = tls_send(c, false);
    if (rc == 0) c->phase = NP__PH_TLS;
    return rc;
}

static int
take_info(struct np_client *c, const struct np_op *op)
{
    struct np_info info = {0};
    int rc = np_info_parse(&info, op->arg.ptr, op->arg.len);
    if (rc != 0) return rc;
    np_info_release(&c->info);
    c->info = info;
    if (info.max_payload > 0 && info.max_payload <= UINT32_MAX)
        np_parser_set_max_payload(&c->parser, (uint32_t)info.max_payload);
    return 0;
}

static void
on_info(struct np_client *c, const struct np_op *op)
{
    int rc;
    if (c->phase == NP__PH_INFO) {
        rc = take_info(c, op);
        if (rc == 0) rc = start_tls(c);
        if (rc == 0 && c->phase == NP__PH_TLS) return;
        if (rc == 0) rc = send_handshake(c);
        if (rc != 0) {
            attempt_failed(c, rc);
            return;
        }
        c->phase = NP__PH_PONG;
    } else if (c->phase == NP__PH_UP && take_info(c, op) == 0) {
        learn_servers(c);
        if (c->info.ldm) emit(c, NP_CLIENT_LAME_DUCK, 0);
    }
}

static void on_ping_timer(uv_timer_t *t);

static void
handshake_done(struct np_client *c)
{
    enum np__state was = c->state;
    uv_timer_stop(&c->conn_timer);
    note_failure(c, 0);
    c->phase = NP__PH_UP;
    c->pings_out = 0;
    c->tries = 0;
    c->state = NP__ST_CONNECTED;
    learn_servers(c);
    int rc = replay(c);
    if (rc != 0) {
        conn_lost(c, rc);
        return;
    }
    uv_timer_start(&c->ping_timer, on_ping_timer, PING_INTERVAL_MS, PING_INTERVAL_MS);
    np__kick(c);
    if (was == NP__ST_RECONNECTING) {
        emit(c, NP_CLIENT_RECONNECTED, 0);
        return;
    }
    np_done_cb cb = c->connect_cb;
    c->connect_cb = NULL;
    emit(c, NP_CLIENT_CONNECTED, 0);
    if (cb) cb(c, 0, c->connect_ud);
}

/* The connection that was up is gone: reconnect unless told not to. */
static void
conn_lost(struct np_client *c, int status)
{
    if (c->state == NP__ST_DRAINING) {
        np__close_with(c, status);
        return;
    }
    uv_timer_stop(&c->ping_timer);
    c->phase = NP__PH_IDLE;
    tcp_shutdown(c);
    np__drop_lost_waiters(c);
    c->tries = 0;
    if (c->opts.max_reconnects == 0) {
        give_up(c, status);
        return;
    }
    c->state = NP__ST_RECONNECTING;
    emit(c, NP_CLIENT_DISCONNECTED, 0);
}

static void
link_failed(struct np_client *c, int status)
{
    if (c->phase == NP__PH_UP)
        conn_lost(c, status);
    else if (c->phase == NP__PH_TCP || c->phase == NP__PH_INFO || c->phase == NP__PH_TLS ||
             c->phase == NP__PH_PONG)
        attempt_failed(c, status);
}

static void
on_ping_timer(uv_timer_t *t)
{
    struct np_client *c = t->data;
    if (c->phase != NP__PH_UP) return;
    if (c->pings_out >= MAX_PINGS_OUT) {
        conn_lost(c, NP_CLIENT_ETIMEOUT);
        return;
    }
    if (np__queue_ping(c, NULL, NULL, 0) == 0) c->pings_out++;
}

static void
on_pong(struct np_client *c)
{
    if (c->phase == NP__PH_PONG) {
        handshake_done(c);
        return;
    }
    if (c->phase != NP__PH_UP) return;
    c->pings_out = 0;
    struct np__waiter *w = np__waiter_pop(c);
    if (!w) return;
    np_done_cb cb = w->cb;
    void *ud = w->ud;
    free(w);
    if (cb) cb(c, 0, ud);
}

/* Keeps the -ERR text without its quotes, and says whether it refuses our credentials. */
static bool
take_error(struct np_client *c, struct np_str arg)
{
    const char *p = arg.ptr, *e = arg.ptr + arg.len;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\''))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\''))
        e--;
    size_t n = (size_t)(e - p);
    if (n >= sizeof c->last_err) n = sizeof c->last_err - 1;
    memcpy(c->last_err, p, n);
    c->last_err[n] = '\0';
    return strncasecmp(c->last_err, "authorization violation", 23) == 0 ||
           strncasecmp(c->last_err, "user authentication", 19) == 0;
}

static void
on_err(struct np_client *c, const struct np_op *op)
{
    bool auth = take_error(c, op->arg);
    int status = auth ? NP_CLIENT_EAUTH : NP_CLIENT_ESERVER_ERR;
    if (c->phase == NP__PH_INFO || c->phase == NP__PH_PONG)
        attempt_failed(c, status);
    else if (c->phase == NP__PH_UP)
        emit(c, NP_CLIENT_SERVER_ERROR, status);
}

/* ---------------------------------------------------------------------------------------------- */
/* Input and dispatch                                                                              */
/* ---------------------------------------------------------------------------------------------- */

static void
handle_op(struct np_client *c, const struct np_op *op)
{
    if (c->phase == NP__PH_INFO && op->type != NP_OP_INFO && op->type != NP_OP_ERR) {
        attempt_failed(c, NP_CLIENT_ESERVER_ERR);
        return;
    }
    switch (op->type) {
    case NP_OP_INFO:
        on_info(c, op);
        break;
    case NP_OP_PING:
        out_put_bytes(c, NP_PONG, sizeof NP_PONG - 1);
        break;
    case NP_OP_PONG:
        on_pong(c);
        break;
    case NP_OP_MSG:
    case NP_OP_HMSG:
        if (c->phase == NP__PH_UP) np__dispatch(c, op);
        break;
    case NP_OP_ERR:
        on_err(c, op);
        break;
    default:
        break;
    }
}

/* Parses and handles buf; returns how much was used, less than len when a TLS session began. */
static size_t
consume(struct np_client *c, const char *buf, size_t len)
{
    const struct np__tls *before = c->tls;
    size_t off = 0;
    while (off < len && c->tcp_open && !c->tcp_closing && c->tls == before) {
        struct np_op op;
        ssize_t r = np_parse(&c->parser, buf + off, len - off, &op);
        if (r < 0) {
            link_failed(c, (int)r);
            return len;
        }
        off += (size_t)r;
        if (op.type == NP_OP_NONE) return len;
        handle_op(c, &op);
    }
    return off;
}

static void
tls_failed(struct np_client *c)
{
    snprintf(c->tls_err, sizeof c->tls_err, "%s", np__tls_error(c->tls));
    link_failed(c, NP_CLIENT_ETLS);
}

/* The TLS handshake is done: CONNECT and PING go out right behind its last records. */
static void
tls_ready(struct np_client *c)
{
    int rc = send_handshake(c);
    if (rc != 0) {
        attempt_failed(c, rc);
        return;
    }
    c->phase = NP__PH_PONG;
}

/* Ciphertext in: the handshake, then what it decrypts to is parsed at once, as plaintext is. */
static void
tls_consume(struct np_client *c, const char *buf, size_t len)
{
    struct np__tls *t = c->tls;
    int rc = np__tls_input(t, buf, len);
    if (rc == NP__TLS_FAIL) {
        tls_failed(c);
        return;
    }
    if (rc == 1 && c->phase == NP__PH_TLS) tls_ready(c);
    ssize_t r = 1;
    while (r > 0 && c->tls == t && c->tcp_open && !c->tcp_closing) {
        size_t n = 0;
        while (n < NP__READ_BUF_SIZE &&
               (r = np__tls_read(t, c->tls_plain + n, NP__READ_BUF_SIZE - n)) > 0)
            n += (size_t)r;
        if (n) consume(c, c->tls_plain, n);
    }
    if (c->tls != t || !c->tcp_open || c->tcp_closing) return;
    if (r == NP__TLS_EOF)
        link_failed(c, UV_EOF);
    else if (r == NP__TLS_FAIL)
        tls_failed(c);
    else if ((rc = tls_send(c, false)) != 0)
        link_failed(c, rc);
}

static void
on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b)
{
    struct np_client *c = stream->data;
    if (n == 0 || c->tcp_closing) return;
    if (n < 0) {
        link_failed(c, (int)n);
        return;
    }
    c->dispatching++;
    size_t used = c->tls ? 0 : consume(c, b->base, (size_t)n);
    if (c->tls && used < (size_t)n && c->tcp_open && !c->tcp_closing)
        tls_consume(c, b->base + used, (size_t)n - used);
    c->dispatching--;
    np__bury(c);
}
