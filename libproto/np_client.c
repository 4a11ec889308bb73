/*
 * The NATS client connection on libuv: server pool, handshake, subscriptions, requests, flush,
 * drain and reconnect.
 *
 * One connection attempt at a time walks the phases RESOLVE, TCP, INFO, PONG, UP; a failure in any
 * of them closes the TCP handle and the next step (another server, a backoff wait, or giving up) is
 * taken from its close callback, so a handle is never reused before libuv has let go of it.
 *
 * Invariants:
 * - Output is appended to `pend` only. The prepare handle hands `pend` to one uv_write at a time by
 *   swapping it with `inflight`, so publishing never writes and never allocates once the buffers
 *   have grown. Nothing is written unless the phase is UP.
 * - SUB/UNSUB lines are queued only while CONNECTED; at every (re)connect the subscription table
 *   itself is replayed ahead of `pend`, so what was queued while down cannot be lost or doubled.
 * - Flush waiters form a FIFO matched one-to-one with PONGs. A waiter's `sent` is false exactly
 *   while its PING sits in `pend`; a sent PING is lost with its connection and replayed.
 * - Memory is released only when `refs` (handles and requests libuv still owns) drops to zero after
 *   close, and subscriptions removed during message dispatch wait in a graveyard until dispatch
 *   ends, so a callback may unsubscribe, drain or close freely.
 */
#include "np_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_URL        "nats://127.0.0.1:4222"
#define DEFAULT_PORT       4222
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_WAIT_MS    250
#define BACKOFF_CAP_MS     2000
#define PING_INTERVAL_MS   (120 * 1000)
#define MAX_PINGS_OUT      2
#define PEND_LIMIT         ((size_t)8 << 20) /* queued output while not connected */
#define PEND_HARD_LIMIT    ((size_t)1 << 30) /* ever: keeps one write's length in an unsigned */
#define READ_BUF_SIZE      (64 * 1024)
#define MAX_LINE           (64 * 1024)
#define NUID_LEN           22
#define INBOX_PREFIX       "_INBOX."
#define CLIENT_VERSION     "natsctl-0.1.0"
#define U64_DIGITS         20

struct buf {
    char *p;
    size_t len, cap;
};

/* A hash chain link keyed by an id; the first member of struct sub and struct req. */
struct node {
    struct node *next;
    uint64_t key;
};

/* Chained hash of nodes; ids are increasing integers, so the low bits spread them evenly. */
struct idmap {
    struct node **slots;
    size_t mask, count;
};

struct sub {
    struct node link; /* key: the sid; next: also the graveyard chain once removed */
    char *subject, *queue;
    uint64_t max, delivered; /* max 0: no automatic unsubscribe */
    np_msg_cb cb;
    void *ud;
};

struct req {
    struct node link; /* key: the number in the reply subject's last token */
    uint64_t deadline;
    np_reply_cb cb;
    void *ud;
};

struct waiter {
    struct waiter *next;
    np_done_cb cb; /* NULL for keepalive PINGs and waiters that already timed out */
    void *ud;
    uint64_t deadline; /* 0: none */
    bool sent;         /* the PING has left pend */
};

struct server {
    struct np_url url;
    char *auth_err; /* the last auth refusal; the same one twice in a row bans the server */
    int last_err;   /* why the last attempt on it failed, for np_client_attempt_error() */
    bool banned;
};

enum state {
    ST_NEW,
    ST_CONNECTING,
    ST_CONNECTED,
    ST_RECONNECTING,
    ST_DRAINING,
    ST_DEAD, /* gave up: only close remains */
    ST_CLOSED,
};

enum phase {
    PH_IDLE,
    PH_WAIT, /* backoff before the next attempt */
    PH_RESOLVE,
    PH_TCP,
    PH_INFO,
    PH_PONG,
    PH_UP,
};

struct np_client {
    uv_loop_t *loop;
    struct np_client_opts opts; /* its strings point at the owned copies below */
    char *servers, *user, *pass, *token, *name;
    enum state state;
    enum phase phase;
    int refs; /* handles and requests libuv still holds */
    uint64_t rng;

    uv_tcp_t tcp;
    bool tcp_open, tcp_closing;
    bool resolving; /* gai_req is in flight */
    uv_connect_t connect_req;
    uv_getaddrinfo_t gai_req;
    uv_write_t hs_req, out_req;
    uv_timer_t conn_timer, req_timer, ping_timer;
    uv_prepare_t flusher;

    struct server *pool;
    size_t npool, cur;
    uint64_t tries; /* reconnect attempts in this outage */
    bool saw_auth;  /* an initial attempt was refused for its credentials */

    struct np_parser parser;
    struct np_info info;
    char *hs; /* CONNECT+PING of the current attempt, alive until its write completes */
    struct buf pend, inflight;
    bool writing;
    char rbuf[READ_BUF_SIZE];

    struct idmap subs;
    uint64_t next_sid;
    struct sub *grave;
    int dispatching;

    struct idmap reqs;
    uint64_t next_req, mux_sid, timer_due;
    char mux_prefix[sizeof INBOX_PREFIX + NUID_LEN + 1]; /* "_INBOX.<nuid>." */
    size_t mux_prefix_len;

    struct waiter *wq_head, *wq_tail;
    int pings_out;

    np_done_cb connect_cb, close_cb, drain_cb;
    void *connect_ud, *close_ud, *drain_ud;
    int end_status;
    char last_err[256];
};

static void start_attempt(struct np_client *c);
static void advance(struct np_client *c);
static void conn_lost(struct np_client *c, int status);
static void close_with(struct np_client *c, int status);

/* ---------------------------------------------------------------------------------------------- */
/* Small helpers                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

const char *
np_client_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define NP__CLIENT_ERR_TEXT(name, text)                                                            \
    case NP_CLIENT_E##name:                                                                        \
        return text;
        NP_CLIENT_ERR_MAP(NP__CLIENT_ERR_TEXT)
#undef NP__CLIENT_ERR_TEXT
    default:
        break;
    }
    /* NP_E* codes share numbers with a few errno values; the library's own meaning wins. */
    if (err > NP__ERR_FIRST && err <= NP_EINVAL) return np_strerror(err);
    return uv_strerror(err);
}

static char *
dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static size_t
fmt_u64(char *out, uint64_t v)
{
    char tmp[U64_DIGITS];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static bool
parse_u64(const char *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len >= U64_DIGITS) return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* splitmix64: a small, well-mixed generator for ids and jitter, seeded per client. */
static uint64_t
rng_next(struct np_client *c)
{
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void
fill_nuid(struct np_client *c, char *out)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (size_t i = 0; i < NUID_LEN; i++)
        out[i] = digits[rng_next(c) % (sizeof digits - 1)];
}

static uint64_t
timeout_of(const struct np_client *c)
{
    return c->opts.timeout_ms ? c->opts.timeout_ms : DEFAULT_TIMEOUT_MS;
}

static void
emit(struct np_client *c, enum np_client_event ev, int status)
{
    if (c->opts.on_event) c->opts.on_event(c, ev, status, c->opts.ud);
}

/* States in which the application may still queue work. */
static bool
usable(const struct np_client *c)
{
    return c->state == ST_NEW || c->state == ST_CONNECTING || c->state == ST_CONNECTED ||
           c->state == ST_RECONNECTING;
}

/* ---------------------------------------------------------------------------------------------- */
/* Buffers and id maps                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static int
buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return NP_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int
buf_put(struct buf *b, const char *p, size_t n)
{
    if (n == 0) return 0;
    if (buf_reserve(b, n) != 0) return NP_ENOMEM;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int
idmap_init(struct idmap *m)
{
    m->slots = calloc(16, sizeof *m->slots);
    m->mask = 15;
    m->count = 0;
    return m->slots ? 0 : NP_ENOMEM;
}

static struct node *
idmap_find(const struct idmap *m, uint64_t key)
{
    for (struct node *n = m->slots[key & m->mask]; n; n = n->next)
        if (n->key == key) return n;
    return NULL;
}

/* Best effort: when the bigger table cannot be had, chains just get longer. */
static void
idmap_grow(struct idmap *m)
{
    size_t cap = (m->mask + 1) * 2;
    struct node **slots = calloc(cap, sizeof *slots);
    if (!slots) return;
    for (size_t i = 0; i <= m->mask; i++) {
        while (m->slots[i]) {
            struct node *n = m->slots[i];
            m->slots[i] = n->next;
            n->next = slots[n->key & (cap - 1)];
            slots[n->key & (cap - 1)] = n;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
}

static void
idmap_put(struct idmap *m, struct node *n)
{
    if (m->count > m->mask) idmap_grow(m);
    struct node **slot = &m->slots[n->key & m->mask];
    n->next = *slot;
    *slot = n;
    m->count++;
}

static struct node *
idmap_take(struct idmap *m, uint64_t key)
{
    for (struct node **p = &m->slots[key & m->mask]; *p; p = &(*p)->next) {
        if ((*p)->key == key) {
            struct node *n = *p;
            *p = n->next;
            m->count--;
            return n;
        }
    }
    return NULL;
}

/* Empties the map and returns its nodes as one list. */
static struct node *
idmap_take_all(struct idmap *m)
{
    struct node *all = NULL;
    for (size_t i = 0; i <= m->mask; i++) {
        while (m->slots[i]) {
            struct node *n = m->slots[i];
            m->slots[i] = n->next;
            n->next = all;
            all = n;
        }
    }
    m->count = 0;
    return all;
}

static void
sub_free(struct sub *s)
{
    free(s->subject);
    free(s->queue);
    free(s);
}

static void
bury(struct np_client *c)
{
    while (c->grave) {
        struct sub *s = c->grave;
        c->grave = (struct sub *)s->link.next;
        sub_free(s);
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* URLs                                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static int
hex_val(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string. */
static int
decode_part(char **out, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    size_t len = 0;
    if (!d) return NP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[len++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hex_val(s[i + 1]) : -1, lo = i + 2 < n ? hex_val(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            free(d);
            return NP_CLIENT_EBAD_URL;
        }
        d[len++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[len] = '\0';
    *out = d;
    return 0;
}

static int
parse_userinfo(struct np_url *u, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) return decode_part(&u->pass, s, n);
    size_t ulen = (size_t)(colon - s);
    int rc = decode_part(&u->pass, colon + 1, n - ulen - 1);
    if (rc == 0 && ulen > 0) rc = decode_part(&u->user, s, ulen);
    return rc;
}

static int
parse_port(const char *s, size_t n, int *port)
{
    uint64_t v;
    if (n > 5 || !parse_u64(s, n, &v) || v == 0 || v > 65535) return NP_CLIENT_EBAD_URL;
    *port = (int)v;
    return 0;
}

static bool
host_char_ok(char ch)
{
    return (unsigned char)ch > ' ' && ch != '@' && ch != '/' && ch != '[' && ch != ']' &&
           ch != ',' && ch != 0x7f;
}

static int
parse_hostport(struct np_url *u, const char *s, size_t n)
{
    const char *host = s, *port = NULL;
    size_t hlen = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return NP_CLIENT_EBAD_URL;
        host = s + 1;
        hlen = (size_t)(close - host);
        const char *rest = close + 1, *end = s + n;
        if (rest < end && (*rest != ':' || rest + 1 == end)) return NP_CLIENT_EBAD_URL;
        if (rest < end) port = rest + 1;
        if (hlen == 0 || memchr(host, ':', hlen) == NULL) return NP_CLIENT_EBAD_URL;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
            if (memchr(port, ':', n - hlen - 1)) return NP_CLIENT_EBAD_URL;
        }
        for (size_t i = 0; i < hlen; i++)
            if (!host_char_ok(host[i])) return NP_CLIENT_EBAD_URL;
    }
    if (hlen == 0) return NP_CLIENT_EBAD_URL;
    if (port && parse_port(port, (size_t)(s + n - port), &u->port) != 0) return NP_CLIENT_EBAD_URL;
    u->host = strndup(host, hlen);
    return u->host ? 0 : NP_ENOMEM;
}

/* The authority part of a URL (after any scheme, before any path), or an error. */
static int
url_authority(const char *text, size_t len, const char **auth, size_t *alen)
{
    const char *p = text, *end = text + len;
    const char *sep = strstr(text, "://");
    if (sep && sep < end) {
        if ((size_t)(sep - p) != 4 || strncasecmp(p, "nats", 4) != 0) return NP_CLIENT_EBAD_URL;
        p = sep + 3;
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (slash && slash + 1 != end) return NP_CLIENT_EBAD_URL;
    *auth = p;
    *alen = (size_t)((slash ? slash : end) - p);
    return 0;
}

int
np_url_parse(struct np_url *u, const char *text)
{
    *u = (struct np_url){.port = DEFAULT_PORT};
    if (!text) return NP_CLIENT_EBAD_URL;
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    const char *auth;
    size_t alen;
    int rc = url_authority(text, len, &auth, &alen);
    if (rc != 0) return rc;
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@') at = auth + i;
    if (at) rc = parse_userinfo(u, auth, (size_t)(at - auth));
    if (rc == 0)
        rc = at ? parse_hostport(u, at + 1, alen - (size_t)(at + 1 - auth))
                : parse_hostport(u, auth, alen);
    if (rc != 0) np_url_release(u);
    return rc;
}

void
np_url_release(struct np_url *u)
{
    free(u->host);
    free(u->user);
    free(u->pass);
    *u = (struct np_url){.port = DEFAULT_PORT};
}

struct out_text {
    char *p;
    size_t cap, len;
};

static void
out_put(struct out_text *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
        o->p[o->len++] = s[i];
}

/* Redacts one comma-free element s[0..n). */
static void
redact_one(struct out_text *o, const char *s, size_t n)
{
    const char *end = s + n, *p = s;
    for (const char *q = s; q + 2 < end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            p = q + 3;
            break;
        }
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *aend = slash ? slash : end, *at = NULL;
    for (const char *q = p; q < aend; q++)
        if (*q == '@') at = q;
    if (!at) {
        out_put(o, s, n);
        return;
    }
    const char *colon = memchr(p, ':', (size_t)(at - p));
    out_put(o, s, (size_t)((colon ? colon + 1 : p) - s));
    out_put(o, "***", 3);
    out_put(o, at, (size_t)(end - at));
}

void
np_url_redact(const char *text, char *out, size_t cap)
{
    struct out_text o = {out, cap, 0};
    if (cap == 0) return;
    while (text && *text) {
        const char *comma = strchr(text, ',');
        size_t n = comma ? (size_t)(comma - text) : strlen(text);
        redact_one(&o, text, n);
        if (!comma) break;
        out_put(&o, ",", 1);
        text = comma + 1;
    }
    out[o.len] = '\0';
}

/* ---------------------------------------------------------------------------------------------- */
/* Creation and the server pool                                                                   */
/* ---------------------------------------------------------------------------------------------- */

static int
copy_opts(struct np_client *c, const struct np_client_opts *opts)
{
    if (opts) c->opts = *opts;
    c->servers = strdup(c->opts.servers ? c->opts.servers : DEFAULT_URL);
    c->user = dup_str(c->opts.user);
    c->pass = dup_str(c->opts.pass);
    c->token = dup_str(c->opts.token);
    c->name = dup_str(c->opts.name);
    c->opts.servers = c->servers;
    c->opts.user = c->user;
    c->opts.pass = c->pass;
    c->opts.token = c->token;
    c->opts.name = c->name;
    if (!c->servers || (c->opts.user && !c->user) || (c->opts.pass && !c->pass) ||
        (c->opts.token && !c->token) || (c->opts.name && !c->name))
        return NP_ENOMEM;
    return 0;
}

static void
free_pool(struct np_client *c)
{
    for (size_t i = 0; i < c->npool; i++) {
        np_url_release(&c->pool[i].url);
        free(c->pool[i].auth_err);
    }
    free(c->pool);
    c->pool = NULL;
    c->npool = 0;
}

static void
free_client(struct np_client *c)
{
    free_pool(c);
    bury(c);
    for (struct node *n = c->subs.slots ? idmap_take_all(&c->subs) : NULL, *next; n; n = next) {
        next = n->next;
        sub_free((struct sub *)n);
    }
    free(c->subs.slots);
    free(c->reqs.slots);
    np_parser_release(&c->parser);
    np_info_release(&c->info);
    free(c->hs);
    free(c->pend.p);
    free(c->inflight.p);
    free(c->servers);
    free(c->user);
    free(c->pass);
    free(c->token);
    free(c->name);
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
    if (copy_opts(c, opts) != 0 || idmap_init(&c->subs) != 0 || idmap_init(&c->reqs) != 0) {
        free_client(c);
        return NP_ENOMEM;
    }
    if (uv_random(NULL, NULL, &c->rng, sizeof c->rng, 0, NULL) != 0)
        c->rng = (uint64_t)uv_hrtime() ^ (uint64_t)(uintptr_t)c;
    init_handles(c);
    *out = c;
    return 0;
}

static int
pool_add(struct np_client *c, const char *text, const struct server *creds)
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
    struct server *pool = realloc(c->pool, (c->npool + 1) * sizeof *pool);
    if (!pool) {
        np_url_release(&u);
        return NP_ENOMEM;
    }
    c->pool = pool;
    if (creds && !u.user && !u.pass) {
        u.user = dup_str(creds->url.user);
        u.pass = dup_str(creds->url.pass);
    }
    pool[c->npool++] = (struct server){.url = u};
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
    return c->npool ? 0 : NP_CLIENT_EBAD_URL;
}

/* Servers a cluster announces join the pool with the credentials of the one that told us. */
static void
learn_servers(struct np_client *c)
{
    for (size_t i = 0; i < c->info.n_connect_urls; i++) {
        struct server from = c->pool[c->cur];
        pool_add(c, c->info.connect_urls[i], &from);
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* Output                                                                                          */
/* ---------------------------------------------------------------------------------------------- */

static void on_flush(uv_prepare_t *h);

static void
kick(struct np_client *c)
{
    if (c->phase == PH_UP && c->pend.len > 0 && !uv_is_active((uv_handle_t *)&c->flusher))
        uv_prepare_start(&c->flusher, on_flush);
}

static int
out_put_bytes(struct np_client *c, const char *p, size_t n)
{
    int rc = buf_put(&c->pend, p, n);
    if (rc == 0) kick(c);
    return rc;
}

static void
on_written(uv_write_t *req, int status)
{
    struct np_client *c = req->data;
    c->writing = false;
    c->inflight.len = 0;
    if (status < 0) {
        if (!c->tcp_closing && c->phase == PH_UP) conn_lost(c, status);
        return;
    }
    kick(c);
}

static void
on_flush(uv_prepare_t *h)
{
    struct np_client *c = h->data;
    if (c->writing) return;
    if (c->pend.len == 0 || c->phase != PH_UP) {
        uv_prepare_stop(h);
        return;
    }
    struct buf t = c->inflight;
    c->inflight = c->pend;
    c->pend = t;
    for (struct waiter *w = c->wq_head; w; w = w->next)
        w->sent = true;
    uv_buf_t b = uv_buf_init(c->inflight.p, (unsigned int)c->inflight.len);
    int rc = uv_write(&c->out_req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc < 0) {
        c->inflight.len = 0;
        conn_lost(c, rc);
        return;
    }
    c->writing = true;
}

static int
queue_sub(struct buf *b, const struct sub *s, uint64_t remaining)
{
    char sid[U64_DIGITS];
    struct np_str id = {sid, fmt_u64(sid, s->link.key)};
    struct np_str subj = {s->subject, strlen(s->subject)};
    struct np_str queue = {s->queue, s->queue ? strlen(s->queue) : 0};
    size_t need = np_enc_sub(NULL, 0, subj, queue, id);
    if (buf_reserve(b, need) != 0) return NP_ENOMEM;
    b->len += np_enc_sub(b->p + b->len, need, subj, queue, id);
    if (remaining == 0) return 0;
    need = np_enc_unsub(NULL, 0, id, (int64_t)remaining);
    if (buf_reserve(b, need) != 0) return NP_ENOMEM;
    b->len += np_enc_unsub(b->p + b->len, need, id, (int64_t)remaining);
    return 0;
}

static int
queue_unsub(struct np_client *c, uint64_t sid_num)
{
    char sid[U64_DIGITS];
    struct np_str id = {sid, fmt_u64(sid, sid_num)};
    size_t need = np_enc_unsub(NULL, 0, id, -1);
    if (buf_reserve(&c->pend, need) != 0) return NP_ENOMEM;
    c->pend.len += np_enc_unsub(c->pend.p + c->pend.len, need, id, -1);
    kick(c);
    return 0;
}

/*
 * What a fresh connection needs ahead of everything queued: the subscription table, then a PING
 * for each flush waiter whose PING went down with the old connection.
 */
static int
replay(struct np_client *c)
{
    struct buf b = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i <= c->subs.mask; i++) {
        for (struct node *n = c->subs.slots[i]; rc == 0 && n; n = n->next) {
            const struct sub *s = (const struct sub *)n;
            rc = queue_sub(&b, s, s->max ? s->max - s->delivered : 0);
        }
    }
    for (struct waiter *w = c->wq_head; rc == 0 && w; w = w->next) {
        if (!w->sent) continue;
        rc = buf_put(&b, NP_PING, sizeof NP_PING - 1);
        w->sent = false;
    }
    if (rc == 0) rc = buf_put(&b, c->pend.p, c->pend.len);
    if (rc != 0) {
        free(b.p);
        return rc;
    }
    free(c->pend.p);
    c->pend = b;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Flush waiters and deadlines                                                                    */
/* ---------------------------------------------------------------------------------------------- */

static int
waiter_push(struct np_client *c, np_done_cb cb, void *ud, uint64_t deadline)
{
    struct waiter *w = calloc(1, sizeof *w);
    if (!w) return NP_ENOMEM;
    *w = (struct waiter){.cb = cb, .ud = ud, .deadline = deadline};
    if (c->wq_tail)
        c->wq_tail->next = w;
    else
        c->wq_head = w;
    c->wq_tail = w;
    return 0;
}

/* Queues a PING and its waiter together, so PINGs and waiters can never get out of step. */
static int
queue_ping(struct np_client *c, np_done_cb cb, void *ud, uint64_t deadline)
{
    if (buf_reserve(&c->pend, sizeof NP_PING - 1) != 0 || waiter_push(c, cb, ud, deadline) != 0)
        return NP_ENOMEM;
    buf_put(&c->pend, NP_PING, sizeof NP_PING - 1);
    kick(c);
    return 0;
}

static struct waiter *
waiter_pop(struct np_client *c)
{
    struct waiter *w = c->wq_head;
    if (!w) return NULL;
    c->wq_head = w->next;
    if (!c->wq_head) c->wq_tail = NULL;
    return w;
}

/* A lost connection took the PONGs of sent PINGs with it; only live flushes are worth replaying. */
static void
drop_lost_waiters(struct np_client *c)
{
    struct waiter **p = &c->wq_head;
    c->wq_tail = NULL;
    while (*p) {
        struct waiter *w = *p;
        if (w->sent && !w->cb) {
            *p = w->next;
            free(w);
            continue;
        }
        c->wq_tail = w;
        p = &w->next;
    }
}

static void on_deadline(uv_timer_t *t);

static void
arm_deadline(struct np_client *c, uint64_t due)
{
    if (c->state == ST_CLOSED) return;
    if (uv_is_active((uv_handle_t *)&c->req_timer) && c->timer_due <= due) return;
    uint64_t now = uv_now(c->loop);
    c->timer_due = due;
    uv_timer_start(&c->req_timer, on_deadline, due > now ? due - now : 0, 0);
}

static void
rearm_deadline(struct np_client *c)
{
    uint64_t due = UINT64_MAX;
    for (size_t i = 0; i <= c->reqs.mask; i++)
        for (struct node *n = c->reqs.slots[i]; n; n = n->next)
            if (((struct req *)n)->deadline < due) due = ((struct req *)n)->deadline;
    for (struct waiter *w = c->wq_head; w; w = w->next)
        if (w->cb && w->deadline && w->deadline < due) due = w->deadline;
    uv_timer_stop(&c->req_timer);
    if (due != UINT64_MAX) arm_deadline(c, due);
}

/* Takes every request whose deadline has passed out of the map, as a list. */
static struct node *
take_expired(struct np_client *c, uint64_t now)
{
    struct node *dead = NULL;
    for (size_t i = 0; i <= c->reqs.mask; i++) {
        struct node **p = &c->reqs.slots[i];
        while (*p) {
            struct node *n = *p;
            if (((struct req *)n)->deadline > now) {
                p = &n->next;
                continue;
            }
            *p = n->next;
            c->reqs.count--;
            n->next = dead;
            dead = n;
        }
    }
    return dead;
}

/* An expired flush keeps its queue slot (cb cleared) so later PONGs still match their PINGs. */
static void
on_deadline(uv_timer_t *t)
{
    struct np_client *c = t->data;
    uint64_t now = uv_now(c->loop);
    for (;;) {
        struct waiter *w = c->wq_head;
        while (w && !(w->cb && w->deadline && w->deadline <= now))
            w = w->next;
        if (!w) break;
        np_done_cb cb = w->cb;
        w->cb = NULL;
        cb(c, NP_CLIENT_ETIMEOUT, w->ud);
    }
    for (struct node *n = take_expired(c, now), *next; n; n = next) {
        struct req *r = (struct req *)n;
        next = n->next;
        np_reply_cb cb = r->cb;
        void *ud = r->ud;
        free(r);
        cb(c, NP_CLIENT_ETIMEOUT, NULL, ud);
    }
    rearm_deadline(c);
}

/* Completes every request and flush still waiting (close and giving up). */
static void
fail_pending(struct np_client *c, int status)
{
    for (struct node *n = idmap_take_all(&c->reqs), *next; n; n = next) {
        struct req *r = (struct req *)n;
        next = n->next;
        np_reply_cb cb = r->cb;
        void *ud = r->ud;
        free(r);
        cb(c, status, NULL, ud);
    }
    for (struct waiter *w; (w = waiter_pop(c)) != NULL;) {
        np_done_cb cb = w->cb;
        void *ud = w->ud;
        free(w);
        if (cb) cb(c, status, ud);
    }
    c->pend.len = 0;
    if (c->state != ST_CLOSED) uv_timer_stop(&c->req_timer);
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
    if (--c->refs == 0 && c->state == ST_CLOSED) finish(c);
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
    if (c->state == ST_CLOSED) {
        release(c);
        return;
    }
    c->refs--;
    if (c->state == ST_CONNECTING || c->state == ST_RECONNECTING) advance(c);
}

static void
tcp_shutdown(struct np_client *c)
{
    if (!c->tcp_open || c->tcp_closing) return;
    c->tcp_closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* Ends the client: everything pending fails with ECLOSED now, memory goes once libuv lets go. */
static void
close_with(struct np_client *c, int status)
{
    if (c->state == ST_CLOSED) return;
    c->state = ST_CLOSED;
    c->phase = PH_IDLE;
    c->end_status = status;
    np_done_cb ccb = c->connect_cb;
    c->connect_cb = NULL;
    if (ccb) ccb(c, NP_CLIENT_ECLOSED, c->connect_ud);
    fail_pending(c, NP_CLIENT_ECLOSED);
    tcp_shutdown(c);
    if (c->resolving) uv_cancel((uv_req_t *)&c->gai_req);
    uv_close((uv_handle_t *)&c->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->req_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->ping_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->flusher, on_handle_closed);
}

void
np_client_close(struct np_client *c, np_done_cb cb, void *ud)
{
    if (c->state == ST_CLOSED) return;
    c->close_cb = cb;
    c->close_ud = ud;
    close_with(c, NP_CLIENT_ECLOSED);
}

static void
drain_done(struct np_client *c, int status, void *ud)
{
    (void)ud;
    close_with(c, status);
}

int
np_client_drain(struct np_client *c, np_done_cb cb, void *ud)
{
    if (c->state == ST_CLOSED || c->state == ST_DRAINING || c->drain_cb) return NP_CLIENT_ECLOSED;
    c->drain_cb = cb;
    c->drain_ud = ud;
    if (c->state != ST_CONNECTED) {
        close_with(c, NP_CLIENT_ECLOSED);
        return 0;
    }
    for (size_t i = 0; i <= c->subs.mask; i++)
        for (struct node *n = c->subs.slots[i]; n; n = n->next)
            if (queue_unsub(c, n->key) != 0) goto nomem;
    uint64_t due = uv_now(c->loop) + timeout_of(c);
    if (queue_ping(c, drain_done, NULL, due) != 0) goto nomem;
    c->state = ST_DRAINING;
    arm_deadline(c, due);
    return 0;
nomem:
    close_with(c, NP_ENOMEM);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Connection attempts                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static void on_conn_timer(uv_timer_t *t);

static void
give_up(struct np_client *c, int status)
{
    c->state = ST_DEAD;
    c->phase = PH_IDLE;
    fail_pending(c, NP_CLIENT_ECLOSED);
    emit(c, NP_CLIENT_DISCONNECTED, status);
}

static void
initial_failed(struct np_client *c)
{
    np_done_cb cb = c->connect_cb;
    c->connect_cb = NULL;
    c->state = ST_DEAD;
    c->phase = PH_IDLE;
    fail_pending(c, NP_CLIENT_ECLOSED);
    if (cb) cb(c, c->saw_auth ? NP_CLIENT_EAUTH : NP_CLIENT_ENO_SERVERS, c->connect_ud);
}

static void
note_failure(struct np_client *c, int status)
{
    struct server *s = &c->pool[c->cur];
    s->last_err = status;
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
    c->phase = PH_IDLE;
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
    return d / 2 + rng_next(c) % (d / 2 + 1);
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
    c->phase = PH_WAIT;
    uv_timer_start(&c->conn_timer, on_conn_timer, delay, 0);
}

static void
advance(struct np_client *c)
{
    if (c->state == ST_RECONNECTING) {
        schedule_reconnect(c);
    } else if (c->state == ST_CONNECTING) {
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
    if (c->phase == PH_WAIT)
        start_attempt(c);
    else if (c->phase == PH_IDLE)
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
    if (c->tcp_closing || c->phase != PH_TCP) return;
    if (status == 0) status = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (status < 0) {
        attempt_failed(c, status);
        return;
    }
    c->phase = PH_INFO;
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
    c->phase = PH_TCP;
    uv_timer_start(&c->conn_timer, on_conn_timer, timeout_of(c), 0);
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
    if (c->state != ST_CLOSED) {
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
    c->phase = PH_RESOLVE;
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

int
np_client_connect(struct np_client *c, np_done_cb cb, void *ud)
{
    if (c->state != ST_NEW) return NP_CLIENT_ECLOSED;
    int rc = build_pool(c);
    if (rc != 0) {
        free_pool(c);
        return rc;
    }
    c->state = ST_CONNECTING;
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
    if (status < 0 && !c->tcp_closing && c->phase == PH_PONG) attempt_failed(c, status);
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
    char *json = np_connect_encode(&cn);
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
    uv_buf_t b = uv_buf_init(c->hs, (unsigned int)(n + sizeof NP_PING - 1));
    return uv_write(&c->hs_req, (uv_stream_t *)&c->tcp, &b, 1, on_hs_written);
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
    if (c->phase == PH_INFO) {
        rc = take_info(c, op);
        if (rc == 0) rc = send_handshake(c);
        if (rc != 0) {
            attempt_failed(c, rc);
            return;
        }
        c->phase = PH_PONG;
    } else if (c->phase == PH_UP && take_info(c, op) == 0) {
        learn_servers(c);
    }
}

static void on_ping_timer(uv_timer_t *t);

static void
handshake_done(struct np_client *c)
{
    enum state was = c->state;
    uv_timer_stop(&c->conn_timer);
    note_failure(c, 0);
    c->phase = PH_UP;
    c->pings_out = 0;
    c->tries = 0;
    c->state = ST_CONNECTED;
    learn_servers(c);
    int rc = replay(c);
    if (rc != 0) {
        conn_lost(c, rc);
        return;
    }
    uv_timer_start(&c->ping_timer, on_ping_timer, PING_INTERVAL_MS, PING_INTERVAL_MS);
    kick(c);
    if (was == ST_RECONNECTING) {
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
    if (c->state == ST_DRAINING) {
        close_with(c, status);
        return;
    }
    uv_timer_stop(&c->ping_timer);
    c->phase = PH_IDLE;
    tcp_shutdown(c);
    drop_lost_waiters(c);
    c->tries = 0;
    if (c->opts.max_reconnects == 0) {
        give_up(c, status);
        return;
    }
    c->state = ST_RECONNECTING;
    emit(c, NP_CLIENT_DISCONNECTED, 0);
}

static void
link_failed(struct np_client *c, int status)
{
    if (c->phase == PH_UP)
        conn_lost(c, status);
    else if (c->phase == PH_TCP || c->phase == PH_INFO || c->phase == PH_PONG)
        attempt_failed(c, status);
}

static void
on_ping_timer(uv_timer_t *t)
{
    struct np_client *c = t->data;
    if (c->phase != PH_UP) return;
    if (c->pings_out >= MAX_PINGS_OUT) {
        conn_lost(c, NP_CLIENT_ETIMEOUT);
        return;
    }
    if (queue_ping(c, NULL, NULL, 0) == 0) c->pings_out++;
}

static void
on_pong(struct np_client *c)
{
    if (c->phase == PH_PONG) {
        handshake_done(c);
        return;
    }
    if (c->phase != PH_UP) return;
    c->pings_out = 0;
    struct waiter *w = waiter_pop(c);
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
    if (c->phase == PH_INFO || c->phase == PH_PONG)
        attempt_failed(c, status);
    else if (c->phase == PH_UP)
        emit(c, NP_CLIENT_SERVER_ERROR, status);
}

/* ---------------------------------------------------------------------------------------------- */
/* Input and dispatch                                                                              */
/* ---------------------------------------------------------------------------------------------- */

/* Unlinks s; its memory stays until the dispatch that may still hold it has ended. */
static void
sub_remove(struct np_client *c, struct sub *s)
{
    idmap_take(&c->subs, s->link.key);
    if (s->link.key == c->mux_sid) c->mux_sid = 0;
    if (c->dispatching == 0) {
        sub_free(s);
        return;
    }
    s->link.next = (struct node *)c->grave;
    c->grave = s;
}

static void
dispatch(struct np_client *c, const struct np_op *op)
{
    uint64_t sid;
    if (!parse_u64(op->sid.ptr, op->sid.len, &sid)) return;
    struct sub *s = (struct sub *)idmap_find(&c->subs, sid);
    if (!s) return;
    struct np_msg m = {.subject = op->subject, .reply = op->reply, .data = op->payload};
    if (op->type == NP_OP_HMSG) {
        struct np_hdr h;
        m.headers = (struct np_str){op->payload.ptr, op->hdr_len};
        m.data = (struct np_str){op->payload.ptr + op->hdr_len, op->payload.len - op->hdr_len};
        if (np_hdr_parse(&h, m.headers.ptr, m.headers.len) == 0) m.status = h.status;
    }
    if (s->max && ++s->delivered >= s->max) sub_remove(c, s);
    s->cb(c, &m, s->ud);
}

static void
handle_op(struct np_client *c, const struct np_op *op)
{
    if (c->phase == PH_INFO && op->type != NP_OP_INFO && op->type != NP_OP_ERR) {
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
        if (c->phase == PH_UP) dispatch(c, op);
        break;
    case NP_OP_ERR:
        on_err(c, op);
        break;
    default:
        break;
    }
}

static void
consume(struct np_client *c, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len && c->tcp_open && !c->tcp_closing) {
        struct np_op op;
        ssize_t r = np_parse(&c->parser, buf + off, len - off, &op);
        if (r < 0) {
            link_failed(c, (int)r);
            return;
        }
        off += (size_t)r;
        if (op.type == NP_OP_NONE) return;
        handle_op(c, &op);
    }
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
    consume(c, b->base, (size_t)n);
    c->dispatching--;
    bury(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* Public operations                                                                               */
/* ---------------------------------------------------------------------------------------------- */

const struct np_info *
np_client_info(const struct np_client *c)
{
    return c->phase == PH_UP ? &c->info : NULL;
}

const char *
np_client_last_error(const struct np_client *c)
{
    return c->last_err;
}

int
np_client_attempt_error(const struct np_client *c, size_t i)
{
    return i < c->npool ? c->pool[i].last_err : 0;
}

int64_t
np_client_subscribe(struct np_client *c, const char *subject, const char *queue, uint64_t max,
                    np_msg_cb cb, void *ud)
{
    if (!usable(c)) return NP_CLIENT_ECLOSED;
    if (!subject || !np_subject_valid(subject, strlen(subject)) || !cb) return NP_ESUBJECT;
    if (queue && (!*queue || strpbrk(queue, " \t\r\n"))) return NP_EINVAL;
    struct sub *s = calloc(1, sizeof *s);
    if (!s) return NP_ENOMEM;
    *s = (struct sub){.subject = strdup(subject), .queue = dup_str(queue), .max = max, .cb = cb};
    s->ud = ud;
    s->link.key = ++c->next_sid;
    if (!s->subject || (queue && !s->queue)) {
        sub_free(s);
        return NP_ENOMEM;
    }
    if (c->state == ST_CONNECTED && queue_sub(&c->pend, s, max) != 0) {
        sub_free(s);
        return NP_ENOMEM;
    }
    idmap_put(&c->subs, &s->link);
    kick(c);
    return (int64_t)s->link.key;
}

int
np_client_unsubscribe(struct np_client *c, int64_t sid)
{
    if (sid <= 0) return NP_EINVAL;
    struct sub *s = (struct sub *)idmap_find(&c->subs, (uint64_t)sid);
    if (!s) return NP_EINVAL;
    if (c->state == ST_CONNECTED && queue_unsub(c, s->link.key) != 0) return NP_ENOMEM;
    sub_remove(c, s);
    return 0;
}

static int
check_publish(const struct np_client *c, struct np_str subj, struct np_str rep,
              struct np_str headers, struct np_str data)
{
    if (!usable(c)) return NP_CLIENT_ECLOSED;
    if (!np_subject_valid_literal(subj.ptr, subj.len)) return NP_ESUBJECT;
    if (rep.len && !np_subject_valid(rep.ptr, rep.len)) return NP_ESUBJECT;
    bool known = c->info.server_id != NULL;
    int64_t maxp = known && c->info.max_payload > 0 ? c->info.max_payload : NP_MAX_PAYLOAD;
    size_t total = headers.len + data.len;
    if (total > (uint64_t)maxp) return NP_CLIENT_EMAX_PAYLOAD;
    if (headers.len > 0 && known && !c->info.headers) return NP_EINVAL;
    size_t limit = c->state == ST_CONNECTED ? PEND_HARD_LIMIT : PEND_LIMIT;
    if (c->pend.len + total > limit) return NP_ENOSPACE;
    return 0;
}

static size_t
enc_pub_line(char *dst, size_t cap, struct np_str subj, struct np_str rep, size_t hlen,
             size_t total)
{
    return hlen ? np_enc_hpub(dst, cap, subj, rep, hlen, total)
                : np_enc_pub(dst, cap, subj, rep, total);
}

int
np_client_publish(struct np_client *c, const char *subject, const char *reply,
                  struct np_str headers, struct np_str data)
{
    if (!subject) return NP_ESUBJECT;
    struct np_str subj = {subject, strlen(subject)};
    struct np_str rep = {reply, reply ? strlen(reply) : 0};
    int rc = check_publish(c, subj, rep, headers, data);
    if (rc != 0) return rc;
    size_t total = headers.len + data.len;
    size_t line = subj.len + rep.len + 2 * U64_DIGITS + 16;
    if (buf_reserve(&c->pend, line + total + 2) != 0) return NP_ENOMEM;
    struct buf *b = &c->pend;
    b->len += enc_pub_line(b->p + b->len, b->cap - b->len, subj, rep, headers.len, total);
    if (headers.len) memcpy(b->p + b->len, headers.ptr, headers.len);
    b->len += headers.len;
    if (data.len) memcpy(b->p + b->len, data.ptr, data.len);
    b->len += data.len;
    memcpy(b->p + b->len, "\r\n", 2);
    b->len += 2;
    kick(c);
    return 0;
}

int
np_client_flush(struct np_client *c, np_done_cb cb, void *ud)
{
    if (!usable(c) || c->state == ST_NEW) return NP_CLIENT_ECLOSED;
    uint64_t due = uv_now(c->loop) + timeout_of(c);
    if (queue_ping(c, cb, ud, due) != 0) return NP_ENOMEM;
    arm_deadline(c, due);
    return 0;
}

void
np_client_new_inbox(struct np_client *c, char *out, size_t cap)
{
    size_t plen = sizeof INBOX_PREFIX - 1;
    if (cap < plen + NUID_LEN + 1) {
        if (cap) out[0] = '\0';
        return;
    }
    memcpy(out, INBOX_PREFIX, plen);
    fill_nuid(c, out + plen);
    out[plen + NUID_LEN] = '\0';
}

static void
on_reply(struct np_client *c, const struct np_msg *m, void *ud)
{
    size_t plen = c->mux_prefix_len;
    uint64_t id;
    (void)ud;
    if (m->subject.len <= plen || !parse_u64(m->subject.ptr + plen, m->subject.len - plen, &id))
        return;
    struct req *r = (struct req *)idmap_take(&c->reqs, id);
    if (!r) return;
    np_reply_cb cb = r->cb;
    void *rud = r->ud;
    free(r);
    if (m->status == NP_STATUS_NO_RESPONDERS && m->data.len == 0)
        cb(c, NP_CLIENT_ENO_RESPONDERS, NULL, rud);
    else
        cb(c, 0, m, rud);
}

/* The one wildcard inbox subscription every request's reply arrives on. */
static int
ensure_mux(struct np_client *c)
{
    if (c->mux_sid) return 0;
    char pattern[sizeof c->mux_prefix + 1];
    np_client_new_inbox(c, c->mux_prefix, sizeof c->mux_prefix);
    size_t n = strlen(c->mux_prefix);
    c->mux_prefix[n] = '.';
    c->mux_prefix[n + 1] = '\0';
    c->mux_prefix_len = n + 1;
    memcpy(pattern, c->mux_prefix, n + 1);
    memcpy(pattern + n + 1, "*", 2);
    int64_t sid = np_client_subscribe(c, pattern, NULL, 0, on_reply, NULL);
    if (sid < 0) return (int)sid;
    c->mux_sid = (uint64_t)sid;
    return 0;
}

int
np_client_request(struct np_client *c, const char *subject, struct np_str headers,
                  struct np_str data, uint64_t timeout_ms, np_reply_cb cb, void *ud)
{
    if (!usable(c) || c->state == ST_NEW) return NP_CLIENT_ECLOSED;
    if (!cb) return NP_EINVAL;
    int rc = ensure_mux(c);
    if (rc != 0) return rc;
    struct req *r = calloc(1, sizeof *r);
    if (!r) return NP_ENOMEM;
    r->link.key = ++c->next_req;
    r->deadline = uv_now(c->loop) + (timeout_ms ? timeout_ms : timeout_of(c));
    r->cb = cb;
    r->ud = ud;
    char reply[sizeof c->mux_prefix + U64_DIGITS];
    size_t plen = c->mux_prefix_len;
    memcpy(reply, c->mux_prefix, plen);
    reply[plen + fmt_u64(reply + plen, r->link.key)] = '\0';
    rc = np_client_publish(c, subject, reply, headers, data);
    if (rc != 0) {
        free(r);
        return rc;
    }
    idmap_put(&c->reqs, &r->link);
    arm_deadline(c, r->deadline);
    return 0;
}
