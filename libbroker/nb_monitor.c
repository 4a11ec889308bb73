/*
 * The monitoring endpoints' router and what they share: query parameters decoded as Go decodes
 * them, times and durations as Go prints them, and the small endpoints (/, /healthz, /leafz,
 * /gatewayz, /accountz, /accstatz, /ipqueuesz; /routez has nb_routez.c). natsctl has one account
 * for clients, $G, and no leaf nodes or gateways, and says so in the shapes nats-server gives them
 * when nothing is configured; the system account it lists has nothing in it.
 */
#include "nb_monitor.h"
#include "nb_account.h"
#include "nb_client.h"
#include "nb_srv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nb_monitor *
nb__monitor_new(void)
{
    return calloc(1, sizeof(struct nb_monitor));
}

/* ---- query parameters ---------------------------------------------------------------------------- */

static void
bad_param(struct np_buf *err, const char *type, const char *name, const char *fn, const char *val,
          const char *why)
{
    char text[256];
    snprintf(text, sizeof text, "Error decoding %s for '%s': strconv.%s: parsing \"%.64s\": %s",
             type, name, fn, val, why);
    np_buf_adds(err, text);
}

void
nb__mon_str(const struct nb_httpreq *req, const char *name, char *out, size_t cap)
{
    if (nb_httpreq_param(req->query, req->query_len, name, out, cap) < 0) out[0] = '\0';
}

int
nb__mon_bool(const struct nb_httpreq *req, const char *name, bool *out, struct np_buf *err)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    char v[64];
    nb__mon_str(req, name, v, sizeof v);
    if (!v[0]) return 0;
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
            *out = strcmp(v, yes[i]) == 0;
            return 0;
        }
    }
    bad_param(err, "boolean", name, "ParseBool", v, "invalid syntax");
    return 400;
}

/* Parses v as Go's strconv does for a base-10 integer; returns 0, EINVAL or ERANGE. */
static int
parse_int(const char *v, bool is_signed, int64_t *i, uint64_t *u)
{
    const char *p = v;
    bool neg = false;
    if (is_signed && (*p == '-' || *p == '+')) neg = *p++ == '-';
    if (!*p) return EINVAL;
    uint64_t n = 0;
    bool range = false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return EINVAL;
        if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) range = true;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (range) return ERANGE;
    if (!is_signed) {
        *u = n;
        return 0;
    }
    if (n > (uint64_t)INT64_MAX + neg) return ERANGE;
    *i = neg ? (int64_t)(0 - n) : (int64_t)n;
    return 0;
}

int
nb__mon_int(const struct nb_httpreq *req, const char *name, int64_t *out, struct np_buf *err)
{
    char v[64];
    uint64_t unused;
    nb__mon_str(req, name, v, sizeof v);
    if (!v[0]) return 0;
    int rc = parse_int(v, true, out, &unused);
    if (rc == 0) return 0;
    bad_param(err, "int", name, "Atoi", v, rc == ERANGE ? "value out of range" : "invalid syntax");
    return 400;
}

int
nb__mon_u64(const struct nb_httpreq *req, const char *name, uint64_t *out, struct np_buf *err)
{
    char v[64];
    int64_t unused;
    nb__mon_str(req, name, v, sizeof v);
    if (!v[0]) return 0;
    int rc = parse_int(v, false, &unused, out);
    if (rc == 0) return 0;
    bad_param(err, "uint64", name, "ParseUint", v,
              rc == ERANGE ? "value out of range" : "invalid syntax");
    return 400;
}

/* ---- times --------------------------------------------------------------------------------------- */

int64_t
nb__mon_wall_ns(const struct nb_server *srv, uint64_t loop_ms)
{
    return srv->start_ns + ((int64_t)loop_ms - (int64_t)srv->start_loop_ms) * 1000000;
}

void
nb__mon_uptime(int64_t ns, char *buf, size_t cap)
{
    int64_t s = ns > 0 ? ns / 1000000000 : 0;
    int64_t m = s / 60, h = m / 60, d = h / 24, y = d / 365;
    if (y)
        snprintf(buf, cap, "%" PRId64 "y%" PRId64 "d%" PRId64 "h%" PRId64 "m%" PRId64 "s", y,
                 d % 365, h % 24, m % 60, s % 60);
    else if (d)
        snprintf(buf, cap, "%" PRId64 "d%" PRId64 "h%" PRId64 "m%" PRId64 "s", d, h % 24, m % 60,
                 s % 60);
    else if (h)
        snprintf(buf, cap, "%" PRId64 "h%" PRId64 "m%" PRId64 "s", h, m % 60, s % 60);
    else if (m)
        snprintf(buf, cap, "%" PRId64 "m%" PRId64 "s", m, s % 60);
    else
        snprintf(buf, cap, "%" PRId64 "s", s);
}

/* "int.frac" of v / unit with the fraction's trailing zeros dropped, then the suffix. */
static int
fixed(char *buf, size_t cap, int64_t v, int64_t unit, int digits, const char *suffix)
{
    int64_t frac = v % unit;
    if (!frac) return snprintf(buf, cap, "%" PRId64 "%s", v / unit, suffix);
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    return snprintf(buf, cap, "%" PRId64 ".%0*" PRId64 "%s", v / unit, digits, frac, suffix);
}

void
nb__mon_duration(int64_t ns, char *buf, size_t cap)
{
    if (ns <= 0)
        snprintf(buf, cap, "0s");
    else if (ns < 1000)
        snprintf(buf, cap, "%" PRId64 "ns", ns);
    else if (ns < 1000000)
        fixed(buf, cap, ns, 1000, 3, "µs");
    else if (ns < 1000000000)
        fixed(buf, cap, ns, 1000000, 6, "ms");
    else if (ns < 60 * (int64_t)1000000000)
        fixed(buf, cap, ns, 1000000000, 9, "s");
    else {
        int64_t m = ns / (60 * (int64_t)1000000000);
        int n = m >= 60 ? snprintf(buf, cap, "%" PRId64 "h%" PRId64 "m", m / 60, m % 60)
                        : snprintf(buf, cap, "%" PRId64 "m", m);
        if (n > 0 && (size_t)n < cap)
            fixed(buf + n, cap - (size_t)n, ns % (60 * (int64_t)1000000000), 1000000000, 9, "s");
    }
}

void
nb__mon_head(struct nb_server *srv, struct nb_jw *w)
{
    nb_jw_str(w, "server_id", srv->server_id);
    nb_jw_time(w, "now", nb__wall_ns());
}

/* ---- the small endpoints ------------------------------------------------------------------------- */

static int
healthz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w, struct np_buf *err)
{
    static const char *const params[] = {"js-enabled", "js-enabled-only", "js-server-only"};
    (void)srv;
    for (size_t i = 0; i < 3; i++) {
        bool unused = false;
        if (nb__mon_bool(req, params[i], &unused, err)) return 400;
    }
    /* Streams are ready once the server listens: there is no meta leader to wait for. */
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "status", "ok");
    nb_jw_end_obj(w);
    return 200;
}

static void
write_sublist_stats(struct nb_jw *w, const struct nb_sublist_stats *ss,
                    const struct nb_sublist_fanout *fo)
{
    nb_jw_u64(w, "num_subscriptions", ss->count);
    nb_jw_u64(w, "num_cache", ss->cache_entries);
    nb_jw_u64(w, "num_inserts", ss->inserts);
    nb_jw_u64(w, "num_removes", ss->removes);
    nb_jw_u64(w, "num_matches", ss->matches);
    nb_jw_f64(w, "cache_hit_rate", ss->matches ? (double)ss->cache_hits / (double)ss->matches : 0);
    nb_jw_u64(w, "max_fanout", fo->max);
    nb_jw_f64(w, "avg_fanout", fo->avg);
}

static int
leafz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w, struct np_buf *err)
{
    bool subs = false;
    if (nb__mon_bool(req, "subs", &subs, err)) return 400;
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    nb_jw_i64(w, "leafnodes", 0);
    nb_jw_null(w, "leafs"); /* nats-server's list is nil, not empty, without leaf nodes */
    nb_jw_end_obj(w);
    return 200;
}

static int
gatewayz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w, struct np_buf *err)
{
    bool accs = false;
    if (nb__mon_bool(req, "accs", &accs, err)) return 400;
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    nb_jw_obj(w, "outbound_gateways");
    nb_jw_end_obj(w);
    nb_jw_obj(w, "inbound_gateways");
    nb_jw_end_obj(w);
    nb_jw_end_obj(w);
    return 200;
}

/* nats-server's internal queues with work in them; natsctl has no such queues. */
static int
ipqueuesz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w, struct np_buf *err)
{
    bool all = false;
    (void)srv;
    if (nb__mon_bool(req, "all", &all, err)) return 400;
    nb_jw_obj(w, NULL);
    nb_jw_end_obj(w);
    return 200;
}

static void
account_stat(struct nb_jw *w, const char *name, const struct nb_stats *st)
{
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "acc", name);
    nb_jw_u64(w, "conns", st->connections);
    nb_jw_i64(w, "leafnodes", 0);
    nb_jw_u64(w, "total_conns", st->connections);
    nb_jw_obj(w, "sent");
    nb_jw_u64(w, "msgs", st->out_msgs);
    nb_jw_u64(w, "bytes", st->out_bytes);
    nb_jw_end_obj(w);
    nb_jw_obj(w, "received");
    nb_jw_u64(w, "msgs", st->in_msgs);
    nb_jw_u64(w, "bytes", st->in_bytes);
    nb_jw_end_obj(w);
    nb_jw_u64(w, "slow_consumers", st->slow_consumers);
    nb_jw_end_obj(w);
}

/*
 * Each account's clients' figures; an account without connections is left out unless unused=1
 * asks for it, as in nats-server.
 */
static int
accstatz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w, struct np_buf *err)
{
    bool unused = false;
    if (nb__mon_bool(req, "unused", &unused, err)) return 400;
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    nb_jw_arr(w, "account_statz");
    for (size_t i = 0; i < nb__accounts_count(srv->accounts); i++) {
        struct nb_account *a = nb__accounts_at(srv->accounts, i);
        const struct nb_stats *st = nb__account_stats(a);
        if (unused || st->connections) account_stat(w, nb__account_name(a), st);
    }
    nb_jw_end_arr(w);
    nb_jw_end_obj(w);
    return 200;
}

/* Adds one sublist's figures to *ss and *fo (the fanout average weighted by cached results). */
static void
add_sublist(struct nb_sublist *sl, struct nb_sublist_stats *ss, struct nb_sublist_fanout *fo)
{
    struct nb_sublist_stats one;
    struct nb_sublist_fanout f;
    nb_sublist_stats(sl, &one);
    nb_sublist_fanout(sl, &f);
    uint64_t cached = ss->cache_entries + one.cache_entries;
    if (cached)
        fo->avg = (fo->avg * (double)ss->cache_entries + f.avg * (double)one.cache_entries) /
                  (double)cached;
    if (f.max > fo->max) fo->max = f.max;
    ss->count += one.count;
    ss->inserts += one.inserts;
    ss->removes += one.removes;
    ss->matches += one.matches;
    ss->cache_hits += one.cache_hits;
    ss->cache_entries = cached;
}

void
nb__mon_sublist_stats(struct nb_server *srv, const char *account, struct nb_jw *w)
{
    struct nb_sublist_stats ss = {0};
    struct nb_sublist_fanout fo = {0};
    for (size_t i = 0; i < nb__accounts_count(srv->accounts); i++) {
        struct nb_account *a = nb__accounts_at(srv->accounts, i);
        if (!account || strcmp(account, nb__account_name(a)) == 0)
            add_sublist(nb__account_sublist(a), &ss, &fo);
    }
    write_sublist_stats(w, &ss, &fo);
}

/* One account's connections, subscriptions and sublist; streams only ever live in $G. */
static void
account_detail(struct nb_server *srv, struct nb_jw *w, struct nb_account *acc)
{
    const char *name = nb__account_name(acc);
    bool sys = nb__account_is_system(acc);
    struct nb_sublist_stats ss = {0};
    nb_sublist_stats(nb__account_sublist(acc), &ss);
    nb_jw_obj(w, "account_detail");
    nb_jw_str(w, "account_name", name);
    nb_jw_time(w, "update_time", srv->start_ns);
    if (sys) nb_jw_bool(w, "is_system", true);
    nb_jw_bool(w, "expired", false);
    nb_jw_bool(w, "complete", true);
    nb_jw_bool(w, "jetstream_enabled", acc == srv->gacc && srv->js != NULL);
    nb_jw_i64(w, "leafnode_connections", 0);
    nb_jw_u64(w, "client_connections", nb__account_conns(acc));
    nb_jw_u64(w, "subscriptions", ss.count);
    nb_jw_obj(w, "sublist_stats");
    nb__mon_sublist_stats(srv, name, w);
    nb_jw_end_obj(w);
    nb_jw_end_obj(w);
}

static int
accountz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w, struct np_buf *err)
{
    char acc[256];
    nb__mon_str(req, "acc", acc, sizeof acc);
    struct nb_account *a = nb__accounts_find(srv->accounts, acc, strlen(acc));
    if (acc[0] && !a) {
        np_buf_adds(err, "Account ");
        np_buf_adds(err, acc);
        np_buf_adds(err, " does not exist");
        return 400;
    }
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    nb_jw_str(w, "system_account", nb__account_name(nb__accounts_system(srv->accounts)));
    if (acc[0]) {
        account_detail(srv, w, a);
    } else {
        nb_jw_arr(w, "accounts");
        for (size_t i = 0; i < nb__accounts_count(srv->accounts); i++)
            nb_jw_str(w, NULL, nb__account_name(nb__accounts_at(srv->accounts, i)));
        nb_jw_end_arr(w);
    }
    nb_jw_end_obj(w);
    return 200;
}

/* The links of nats-server's index page, in its order. */
static const char index_html[] =
    "<html lang=\"en\">\n<head><title>natsctl monitoring</title></head>\n<body>\n"
    "<h1>natsctl " NB_VERSION "</h1>\n"
    "<a href=./varz>General</a><br/>\n<a href=./jsz>JetStream</a><br/>\n"
    "<a href=./connz>Connections</a><br/>\n<a href=./accountz>Accounts</a><br/>\n"
    "<a href=./accstatz>Account Stats</a><br/>\n<a href=./subsz>Subscriptions</a><br/>\n"
    "<a href=./routez>Routes</a><br/>\n<a href=./leafz>LeafNodes</a><br/>\n"
    "<a href=./gatewayz>Gateways</a><br/>\n<a href=./healthz>Health Probe</a>\n"
    "</body>\n</html>\n";

/* ---- routing ------------------------------------------------------------------------------------- */

struct route {
    const char *path;
    int stat;     /* the enum nb_mon_path counted in http_req_stats, -1: not counted */
    nb_mon_fn fn; /* NULL: the index page */
    bool compact; /* /healthz answers on one line, as nats-server's */
};

/*
 * nats-server 2.9.10's paths but /stacksz, a dump of Go's goroutines that natsctl has no
 * counterpart for. Like nats-server, /ipqueuesz is not counted.
 */
static const struct route routes[] = {
    {"/", NB_MON_ROOT, NULL, false},
    {"/varz", NB_MON_VARZ, nb__mon_varz, false},
    {"/connz", NB_MON_CONNZ, nb__mon_connz, false},
    {"/routez", NB_MON_ROUTEZ, nb__mon_routez, false},
    {"/gatewayz", NB_MON_GATEWAYZ, gatewayz, false},
    {"/leafz", NB_MON_LEAFZ, leafz, false},
    {"/subsz", NB_MON_SUBSZ, nb__mon_subsz, false},
    {"/subscriptionsz", NB_MON_SUBSZ, nb__mon_subsz, false},
    {"/accountz", NB_MON_ACCOUNTZ, accountz, false},
    {"/accstatz", NB_MON_ACCSTATZ, accstatz, false},
    {"/jsz", NB_MON_JSZ, nb__mon_jsz, false},
    {"/healthz", NB_MON_HEALTHZ, healthz, true},
    {"/ipqueuesz", -1, ipqueuesz, false},
};

static const struct route *
find_route(const struct nb_httpreq *req)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].path);
        if (req->path_len == n && memcmp(req->path, routes[i].path, n) == 0) return &routes[i];
    }
    return NULL;
}

/* JSONP only for a plain JavaScript name: a callback is echoed into the page that asked for it. */
static bool
jsonp_name(const char *cb)
{
    for (const char *p = cb; *p; p++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.", *p))
            return false;
    }
    return cb[0] != '\0';
}

static int
set_text(struct nb_mon_answer *ans, int status, const char *type, const char *text)
{
    ans->status = status;
    ans->content_type = type;
    return np_buf_adds(&ans->body, text) == 0 ? 0 : NB_ENOMEM;
}

static int
run_endpoint(struct nb_server *srv, const struct route *r, const struct nb_httpreq *req,
             struct nb_mon_answer *ans)
{
    char cb[128];
    struct np_buf err = {0};
    struct nb_jw w;
    nb__mon_str(req, "callback", cb, sizeof cb);
    bool jsonp = jsonp_name(cb);
    if (jsonp && (np_buf_adds(&ans->body, cb) != 0 || np_buf_adds(&ans->body, "(") != 0))
        return NB_ENOMEM;
    nb_jw_init(&w, &ans->body, !r->compact);
    ans->status = r->fn(srv, req, &w, &err);
    ans->content_type = jsonp ? "application/javascript" : "application/json";
    int rc = nb_jw_failed(&w) ? NB_ENOMEM : 0;
    if (ans->status == 400) {
        np_buf_release(&ans->body);
        rc = set_text(ans, 400, "text/plain; charset=utf-8", err.ptr ? err.ptr : "bad request");
    } else if (jsonp && rc == 0) {
        rc = np_buf_adds(&ans->body, ")") == 0 ? 0 : NB_ENOMEM;
    }
    np_buf_release(&err);
    return rc;
}

int
nb__monitor_serve(struct nb_server *srv, const struct nb_httpreq *req, struct nb_mon_answer *ans)
{
    memset(ans, 0, sizeof *ans);
    const struct route *r = find_route(req);
    int rc;
    if (!r) {
        rc = set_text(ans, 404, "text/plain; charset=utf-8", "404 page not found\n");
    } else {
        if (r->stat >= 0) srv->mon->req_stats[r->stat]++;
        rc = r->fn ? run_endpoint(srv, r, req, ans)
                   : set_text(ans, 200, "text/html; charset=utf-8", index_html);
    }
    if (rc) np_buf_release(&ans->body);
    return rc;
}
