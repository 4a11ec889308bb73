/*
 * /connz and /subsz, and the ring of recently closed connections /connz?state=closed shows.
 *
 * A request copies what it shows of each connection into rows (one array per request, freed
 * before it returns), sorts them and writes the page asked for. A closed connection keeps its row
 * and its strings in one block, so the ring costs one allocation per closed connection and at
 * most NB_CLOSED_MAX of them; it is only kept while the monitoring port is on.
 */
#include "nb_account.h"
#include "nb_client.h"
#include "nb_monitor.h"
#include "nb_srv.h"
#include "nb_tls.h"

#include <stdlib.h>
#include <string.h>

/* One connection as /connz shows it, open or closed. */
struct cinfo {
    struct nb_client *client; /* open: its subscriptions can be listed; NULL when closed */
    uint64_t cid, start_ms, last_ms, pending, in_msgs, out_msgs, in_bytes, out_bytes;
    int64_t stop_ns;  /* 0 while open */
    uint64_t stop_ms; /* the loop time of the close */
    int64_t rtt_ns;
    uint64_t sort_key;
    uint32_t nsubs;
    uint16_t port;
    int reason; /* enum nb_close_reason, -1 while open */
    const char *name, *lang, *version;
    const char *user;                     /* the user name it authenticated as, NULL: none */
    const char *account;                  /* NULL in $G, whose name nats-server does not show */
    const char *tls_version, *tls_cipher; /* static strings, NULL in plaintext */
    char ip[46];
};

struct nb_closed {
    struct cinfo info;
    char strs[]; /* name, lang, version, user and account, NUL-terminated */
};

void
nb__monitor_free(struct nb_monitor *mon)
{
    if (!mon) return;
    if (mon->closed) {
        for (size_t i = 0; i < NB_CLOSED_MAX; i++)
            free(mon->closed[i]);
        free(mon->closed);
    }
    free(mon);
}

static void
fill_open(struct cinfo *ci, struct nb_client *c)
{
    const struct nb_conn *conn = &c->conn;
    *ci = (struct cinfo){
        .client = c,
        .cid = conn->id,
        .start_ms = conn->start_ms,
        .last_ms = conn->last_ms,
        .pending = conn->out.pending,
        .in_msgs = conn->in_msgs,
        .out_msgs = conn->out_msgs,
        .in_bytes = conn->in_bytes,
        .out_bytes = conn->out_bytes,
        .rtt_ns = c->rtt_ns,
        .nsubs = (uint32_t)np_map_count(&c->subs),
        .port = conn->port,
        .reason = -1,
        .name = c->name,
        .lang = c->lang,
        .version = c->version,
        .user = c->user,
        .account = c->acc == conn->srv->gacc ? NULL : nb__account_name(c->acc),
    };
    if (conn->tls && nb__tls_ready(conn->tls)) {
        ci->tls_version = nb__tls_version(conn->tls);
        ci->tls_cipher = nb__tls_cipher(conn->tls);
    }
    memcpy(ci->ip, conn->ip, sizeof ci->ip);
}

static char *
keep_str(char **at, const char *s)
{
    if (!s) return NULL;
    char *start = *at;
    size_t n = strlen(s) + 1;
    memcpy(start, s, n);
    *at += n;
    return start;
}

void
nb__monitor_closed(struct nb_client *c)
{
    struct nb_server *srv = c->conn.srv;
    struct nb_monitor *mon = srv->mon;
    if (!mon || srv->stopping) return;
    if (!mon->closed && !(mon->closed = calloc(NB_CLOSED_MAX, sizeof *mon->closed))) return;
    size_t n = 0;
    const char *acc = c->acc == srv->gacc ? NULL : nb__account_name(c->acc);
    const char *strs[] = {c->name, c->lang, c->version, c->user, acc};
    for (size_t i = 0; i < 5; i++)
        n += strs[i] ? strlen(strs[i]) + 1 : 0;
    struct nb_closed *cc = malloc(sizeof *cc + n);
    if (!cc) return;
    fill_open(&cc->info, c);
    char *at = cc->strs;
    cc->info.client = NULL;
    cc->info.name = keep_str(&at, c->name);
    cc->info.lang = keep_str(&at, c->lang);
    cc->info.version = keep_str(&at, c->version);
    cc->info.user = keep_str(&at, c->user);
    cc->info.account = keep_str(&at, acc);
    cc->info.reason = (int)c->conn.close_reason;
    cc->info.stop_ns = nb__wall_ns();
    cc->info.stop_ms = uv_now(srv->loop);
    cc->info.pending = 0;
    size_t slot = (mon->closed_head + mon->nclosed) % NB_CLOSED_MAX;
    if (mon->nclosed == NB_CLOSED_MAX) {
        free(mon->closed[mon->closed_head]); /* the oldest makes room */
        mon->closed_head = (mon->closed_head + 1) % NB_CLOSED_MAX;
    } else {
        mon->nclosed++;
    }
    mon->closed[slot] = cc;
}

/* ---- /connz -------------------------------------------------------------------------------------- */

enum sort_by { BY_CID, BY_KEY_DESC, BY_KEY_ASC, BY_REASON };

/*
 * The filters as nats-server 2.9.10 applies them: a closed connection of $G keeps no account name
 * there, so acc=$G matches no closed connection; no client is MQTT.
 */
enum acc_filter {
    ACC_ANY,     /* no acc */
    ACC_NAMED,   /* acc names an account: its connections */
    ACC_UNKNOWN, /* answered before the server's id is filled in, without a list */
};

struct connz_opts {
    enum sort_by by;
    char sort[32];
    bool subs, detail, auth;
    int64_t offset, limit;
    uint64_t cid;
    bool open, closed;
    enum acc_filter acc;
    const struct nb_account *account; /* ACC_NAMED's */
    char user[128];                   /* only this user's connections ("": any) */
    bool no_match; /* mqtt_client: no connection matches, but total still counts them */
};

static int
cmp_cid(const void *a, const void *b)
{
    const struct cinfo *x = *(struct cinfo *const *)a, *y = *(struct cinfo *const *)b;
    return (x->cid > y->cid) - (x->cid < y->cid);
}

static int
cmp_key_asc(const void *a, const void *b)
{
    const struct cinfo *x = *(struct cinfo *const *)a, *y = *(struct cinfo *const *)b;
    int c = (x->sort_key > y->sort_key) - (x->sort_key < y->sort_key);
    return c ? c : cmp_cid(a, b);
}

static int
cmp_key_desc(const void *a, const void *b)
{
    const struct cinfo *x = *(struct cinfo *const *)a, *y = *(struct cinfo *const *)b;
    int c = (x->sort_key < y->sort_key) - (x->sort_key > y->sort_key);
    return c ? c : cmp_cid(a, b);
}

static int
cmp_reason(const void *a, const void *b)
{
    const struct cinfo *x = *(struct cinfo *const *)a, *y = *(struct cinfo *const *)b;
    const char *rx = x->reason < 0 ? "" : nb__close_reason_text((enum nb_close_reason)x->reason);
    const char *ry = y->reason < 0 ? "" : nb__close_reason_text((enum nb_close_reason)y->reason);
    int c = strcmp(rx, ry);
    return c ? c : cmp_cid(a, b);
}

/* The sort key of ci for sort (a valid option), with now for the uptime of open connections. */
static uint64_t
sort_key(const struct cinfo *ci, const char *sort, uint64_t now_ms)
{
    if (strcmp(sort, "subs") == 0) return ci->nsubs;
    if (strcmp(sort, "pending") == 0) return ci->pending;
    if (strcmp(sort, "msgs_to") == 0) return ci->out_msgs;
    if (strcmp(sort, "msgs_from") == 0) return ci->in_msgs;
    if (strcmp(sort, "bytes_to") == 0) return ci->out_bytes;
    if (strcmp(sort, "bytes_from") == 0) return ci->in_bytes;
    if (strcmp(sort, "last") == 0) return ci->last_ms;
    if (strcmp(sort, "idle") == 0)
        return ci->last_ms - ci->start_ms; /* as nats-server computes it */
    if (strcmp(sort, "stop") == 0) return (uint64_t)ci->stop_ns;
    if (strcmp(sort, "uptime") == 0) return (ci->stop_ns ? ci->stop_ms : now_ms) - ci->start_ms;
    return ci->cid;
}

static int
parse_sort(struct connz_opts *o, struct np_buf *err)
{
    const char *sort = o->sort;
    static const char *const desc[] = {"subs",       "pending", "msgs_to", "msgs_from", "bytes_to",
                                       "bytes_from", "last",    "idle",    "stop"};
    o->by = BY_CID;
    if (!sort[0] || strcmp(sort, "cid") == 0 || strcmp(sort, "start") == 0) return 0;
    if (strcmp(sort, "uptime") == 0) o->by = BY_KEY_ASC;
    if (strcmp(sort, "reason") == 0) o->by = BY_REASON;
    for (size_t i = 0; i < sizeof desc / sizeof desc[0]; i++) {
        if (strcmp(sort, desc[i]) == 0) o->by = BY_KEY_DESC;
    }
    if (o->by == BY_CID) {
        np_buf_adds(err, "invalid sorting option: ");
        np_buf_adds(err, sort);
        return 400;
    }
    if ((strcmp(sort, "stop") == 0 || o->by == BY_REASON) && (o->open || !o->closed)) {
        np_buf_adds(err, "sort by ");
        np_buf_adds(err, sort);
        np_buf_adds(err, " only valid on closed connections");
        return 400;
    }
    return 0;
}

static int
parse_state(struct connz_opts *o, const struct nb_httpreq *req, struct np_buf *err)
{
    char v[16];
    nb__mon_str(req, "state", v, sizeof v);
    for (char *p = v; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    }
    o->open = !v[0] || strcmp(v, "open") == 0 || strcmp(v, "any") == 0 || strcmp(v, "all") == 0;
    o->closed = strcmp(v, "closed") == 0 || strcmp(v, "any") == 0 || strcmp(v, "all") == 0;
    if (o->open || o->closed) return 0;
    np_buf_adds(err, "Error decoding state for ");
    np_buf_adds(err, v);
    return 400;
}

/* A parameter with a value that is not empty (too long for cap counts as not empty). */
static long
param(const struct nb_httpreq *req, const char *name, char *out, size_t cap)
{
    long n = nb_httpreq_param(req->query, req->query_len, name, out, cap);
    return n == -2 ? (long)cap : n < 0 ? 0 : n;
}

static void
parse_filters(struct connz_opts *o, struct nb_server *srv, const struct nb_httpreq *req)
{
    char v[128];
    long n = param(req, "acc", v, sizeof v);
    o->account = n && n < (long)sizeof v ? nb__accounts_find(srv->accounts, v, strlen(v)) : NULL;
    o->acc = !n ? ACC_ANY : o->account ? ACC_NAMED : ACC_UNKNOWN;
    /* A name too long for any user matches nobody. */
    if (param(req, "user", o->user, sizeof o->user) >= (long)sizeof o->user) o->no_match = true;
    o->no_match |= param(req, "mqtt_client", v, sizeof v) > 0;
}

static int
parse_connz(struct connz_opts *o, struct nb_server *srv, const struct nb_httpreq *req,
            struct np_buf *err)
{
    char v[16];
    memset(o, 0, sizeof *o);
    nb__mon_str(req, "sort", o->sort, sizeof o->sort);
    nb__mon_str(req, "subs", v, sizeof v);
    for (char *p = v; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    }
    o->detail = strcmp(v, "detail") == 0;
    if (nb__mon_bool(req, "auth", &o->auth, err) ||
        (!o->detail && nb__mon_bool(req, "subs", &o->subs, err)) ||
        nb__mon_int(req, "offset", &o->offset, err) || nb__mon_int(req, "limit", &o->limit, err) ||
        nb__mon_u64(req, "cid", &o->cid, err) || parse_state(o, req, err))
        return 400;
    if (parse_sort(o, err)) return 400;
    /* Without auth=1 too: nats-server 2.9.10's check for it never fires. */
    parse_filters(o, srv, req);
    if (o->offset < 0) o->offset = 0;
    if (o->limit <= 0) o->limit = 1024;
    if (o->cid) o->limit = 1;
    return 0;
}

static void
write_subs(struct nb_jw *w, const struct cinfo *ci, const struct connz_opts *o)
{
    if (!ci->client || !ci->nsubs || (!o->subs && !o->detail)) return;
    nb_jw_arr(w, o->detail ? "subscriptions_list_detail" : "subscriptions_list");
    size_t it = 0;
    void *val;
    while (np_map_next(&ci->client->subs, &it, NULL, NULL, &val)) {
        const struct nb_sub *s = val;
        if (!o->detail) {
            nb_jw_strn(w, NULL, s->subject, s->subject_len);
            continue;
        }
        nb_jw_obj(w, NULL);
        nb_jw_strn(w, "subject", s->subject, s->subject_len);
        if (s->queue) nb_jw_strn(w, "qgroup", s->queue, s->queue_len);
        nb_jw_strn(w, "sid", s->sid, s->sid_len);
        nb_jw_u64(w, "msgs", s->delivered);
        if (s->max) nb_jw_u64(w, "max", s->max);
        nb_jw_u64(w, "cid", ci->cid);
        nb_jw_end_obj(w);
    }
    nb_jw_end_arr(w);
}

static void
write_conn(struct nb_server *srv, struct nb_jw *w, const struct cinfo *ci,
           const struct connz_opts *o, uint64_t now_ms)
{
    char text[48];
    int64_t stop_ms = (int64_t)(ci->stop_ns ? ci->stop_ms : now_ms);
    nb_jw_obj(w, NULL);
    nb_jw_u64(w, "cid", ci->cid);
    nb_jw_str(w, "kind", "Client");
    nb_jw_str(w, "type", "nats");
    nb_jw_str(w, "ip", ci->ip);
    nb_jw_u64(w, "port", ci->port);
    nb_jw_time(w, "start", nb__mon_wall_ns(srv, ci->start_ms));
    nb_jw_time(w, "last_activity", nb__mon_wall_ns(srv, ci->last_ms));
    if (ci->stop_ns) {
        nb_jw_time(w, "stop", ci->stop_ns);
        nb_jw_str(w, "reason", nb__close_reason_text((enum nb_close_reason)ci->reason));
    }
    nb__mon_duration(ci->rtt_ns, text, sizeof text);
    nb_jw_str(w, "rtt", text);
    nb__mon_uptime((stop_ms - (int64_t)ci->start_ms) * 1000000, text, sizeof text);
    nb_jw_str(w, "uptime", text);
    nb__mon_uptime((stop_ms - (int64_t)ci->last_ms) * 1000000, text, sizeof text);
    nb_jw_str(w, "idle", text);
    nb_jw_u64(w, "pending_bytes", ci->pending);
    nb_jw_u64(w, "in_msgs", ci->in_msgs);
    nb_jw_u64(w, "out_msgs", ci->out_msgs);
    nb_jw_u64(w, "in_bytes", ci->in_bytes);
    nb_jw_u64(w, "out_bytes", ci->out_bytes);
    nb_jw_u64(w, "subscriptions", ci->nsubs);
    if (ci->name && ci->name[0]) nb_jw_str(w, "name", ci->name);
    if (ci->lang && ci->lang[0]) nb_jw_str(w, "lang", ci->lang);
    if (ci->version && ci->version[0]) nb_jw_str(w, "version", ci->version);
    if (ci->tls_version) nb_jw_str(w, "tls_version", ci->tls_version);
    if (ci->tls_cipher) nb_jw_str(w, "tls_cipher_suite", ci->tls_cipher);
    if (o->auth && ci->user && ci->user[0]) nb_jw_str(w, "authorized_user", ci->user);
    if (o->auth && ci->account) nb_jw_str(w, "account", ci->account);
    write_subs(w, ci, o);
    nb_jw_end_obj(w);
}

/* Whether ci is in the account o asks for (whatever the user filter says). */
static bool
in_account(const struct connz_opts *o, const struct cinfo *ci)
{
    if (o->acc == ACC_ANY) return true;
    if (!ci->client) return ci->account && strcmp(ci->account, nb__account_name(o->account)) == 0;
    return ci->client->acc == o->account;
}

/* Whether ci passes o's filters. */
static bool
passes(const struct connz_opts *o, const struct cinfo *ci)
{
    if (o->no_match || !in_account(o, ci)) return false;
    return !o->user[0] || (ci->user && strcmp(ci->user, o->user) == 0);
}

/* Gathers the rows o asks for into list (room for every open and closed connection). */
static size_t
gather(struct nb_server *srv, const struct connz_opts *o, struct cinfo *open_rows,
       struct cinfo **list)
{
    struct nb_monitor *mon = srv->mon;
    size_t n = 0, nopen = 0;
    for (struct nb_conn *c = srv->conns; c && o->open; c = c->next) {
        if (!nb__conn_is_client(c)) continue;
        /* As in nats-server, a cid finds an open connection whatever the filters say. */
        fill_open(&open_rows[nopen], nb__client_of(c));
        if (o->cid ? c->id != o->cid : !passes(o, &open_rows[nopen])) continue;
        list[n++] = &open_rows[nopen++];
    }
    for (size_t i = 0; i < mon->nclosed && o->closed; i++) {
        struct nb_closed *cc = mon->closed[(mon->closed_head + i) % NB_CLOSED_MAX];
        if (passes(o, &cc->info) && (!o->cid || cc->info.cid == o->cid)) list[n++] = &cc->info;
    }
    return n;
}

static void
sort_rows(struct cinfo **list, size_t n, const struct connz_opts *o, uint64_t now_ms)
{
    static int (*const cmp[])(const void *, const void *) = {[BY_CID] = cmp_cid,
                                                             [BY_KEY_DESC] = cmp_key_desc,
                                                             [BY_KEY_ASC] = cmp_key_asc,
                                                             [BY_REASON] = cmp_reason};
    for (size_t i = 0; i < n; i++)
        list[i]->sort_key = sort_key(list[i], o->sort, now_ms);
    if (n > 1) qsort(list, n, sizeof *list, cmp[o->by]);
}

static size_t
count_clients(const struct nb_server *srv)
{
    size_t n = 0;
    for (const struct nb_conn *c = srv->conns; c; c = c->next)
        n += nb__conn_is_client(c);
    return n;
}

/* The connections of o's account and state, before the user and mqtt_client filters. */
static size_t
count_total(struct nb_server *srv, const struct connz_opts *o)
{
    size_t n = 0;
    for (struct nb_conn *c = srv->conns; c && o->open; c = c->next) {
        if (!nb__conn_is_client(c)) continue;
        struct nb_client *cl = nb__client_of(c);
        n += o->acc == ACC_ANY || cl->acc == o->account;
    }
    struct nb_monitor *mon = srv->mon;
    for (size_t i = 0; i < mon->nclosed && o->closed; i++) {
        const struct cinfo *ci = &mon->closed[(mon->closed_head + i) % NB_CLOSED_MAX]->info;
        n += in_account(o, ci);
    }
    return n;
}

int
nb__mon_connz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
              struct np_buf *err)
{
    struct connz_opts o;
    if (parse_connz(&o, srv, req, err)) return 400;
    if (o.acc == ACC_UNKNOWN) {
        nb_jw_obj(w, NULL);
        nb_jw_str(w, "server_id", "");
        nb_jw_time(w, "now", nb__wall_ns());
        nb_jw_i64(w, "num_connections", 0);
        nb_jw_i64(w, "total", 0);
        nb_jw_i64(w, "offset", o.offset);
        nb_jw_i64(w, "limit", o.limit);
        nb_jw_null(w, "connections");
        nb_jw_end_obj(w);
        return 200;
    }
    size_t nopen = count_clients(srv), nclosed = srv->mon->nclosed;
    size_t total = count_total(srv, &o);
    struct cinfo *open_rows = malloc((nopen + 1) * sizeof *open_rows);
    struct cinfo **list = malloc((nopen + nclosed + 1) * sizeof *list);
    if (!open_rows || !list) {
        free(open_rows);
        free(list);
        nb_jw_obj(w, NULL);
        w->failed = true;
        return 200;
    }
    uint64_t now_ms = uv_now(srv->loop);
    size_t n = gather(srv, &o, open_rows, list);
    sort_rows(list, n, &o, now_ms);
    size_t lo = (uint64_t)o.offset < n ? (size_t)o.offset : n;
    size_t hi = (uint64_t)o.limit < n - lo ? lo + (size_t)o.limit : n;
    nb_jw_obj(w, NULL);
    nb__mon_head(srv, w);
    nb_jw_u64(w, "num_connections", hi - lo);
    nb_jw_u64(w, "total", total);
    nb_jw_i64(w, "offset", o.offset);
    nb_jw_i64(w, "limit", o.limit);
    nb_jw_arr(w, "connections");
    for (size_t i = lo; i < hi; i++)
        write_conn(srv, w, list[i], &o, now_ms);
    nb_jw_end_arr(w);
    nb_jw_end_obj(w);
    free(open_rows);
    free(list);
    return 200;
}

/* ---- /subsz -------------------------------------------------------------------------------------- */

struct subs_page {
    const char *test;             /* NULL: every subscription */
    const struct nb_account *acc; /* NULL: every account */
    size_t lo, hi;                /* the page, in the order of listing */
    size_t seen;                  /* subscriptions that passed the filter so far */
};

/* Calls back for every client subscription that passes the filter and falls within the page. */
static void
list_subs(struct nb_server *srv, struct subs_page *pg, struct nb_jw *w)
{
    for (struct nb_conn *c = srv->conns; c; c = c->next) {
        if (!nb__conn_is_client(c) || (pg->acc && nb__client_of(c)->acc != pg->acc)) continue;
        size_t it = 0;
        void *val;
        while (np_map_next(&nb__client_of(c)->subs, &it, NULL, NULL, &val)) {
            const struct nb_sub *s = val;
            if (pg->test &&
                !np_subject_match(s->subject, s->subject_len, pg->test, strlen(pg->test)))
                continue;
            size_t at = pg->seen++;
            if (!w || at < pg->lo || at >= pg->hi) continue;
            nb_jw_obj(w, NULL);
            nb_jw_str(w, "account", nb__account_name(nb__client_of(c)->acc));
            nb_jw_strn(w, "subject", s->subject, s->subject_len);
            if (s->queue) nb_jw_strn(w, "qgroup", s->queue, s->queue_len);
            nb_jw_strn(w, "sid", s->sid, s->sid_len);
            nb_jw_u64(w, "msgs", s->delivered);
            if (s->max) nb_jw_u64(w, "max", s->max);
            nb_jw_u64(w, "cid", c->id);
            nb_jw_end_obj(w);
        }
    }
}

int
nb__mon_subsz(struct nb_server *srv, const struct nb_httpreq *req, struct nb_jw *w,
              struct np_buf *err)
{
    bool subs = false;
    int64_t offset = 0, limit = 0;
    char test[512], acc[256];
    if (nb__mon_bool(req, "subs", &subs, err) || nb__mon_int(req, "offset", &offset, err) ||
        nb__mon_int(req, "limit", &limit, err))
        return 400;
    nb__mon_str(req, "test", test, sizeof test);
    if (test[0] && !np_subject_valid_literal(test, strlen(test))) {
        np_buf_adds(err, "invalid test subject, must be valid publish subject: ");
        np_buf_adds(err, test);
        return 400;
    }
    if (offset < 0) offset = 0;
    if (limit <= 0) limit = 1024;
    nb__mon_str(req, "acc", acc, sizeof acc);
    struct subs_page pg = {.test = test[0] ? test : NULL,
                           .acc =
                               acc[0] ? nb__accounts_find(srv->accounts, acc, strlen(acc)) : NULL};
    /* An account that does not exist lists nothing. */
    bool other = acc[0] && !pg.acc;
    if (subs && !other) list_subs(srv, &pg, NULL); /* counts what passes the filter */
    size_t n = pg.seen;
    pg.lo = (uint64_t)offset < n ? (size_t)offset : n;
    pg.hi = (uint64_t)limit < n - pg.lo ? pg.lo + (size_t)limit : n;
    pg.seen = 0;
    nb_jw_obj(w, NULL);
    /* nats-server answers with the statistics alone when the page is empty. */
    if (pg.hi == pg.lo) {
        nb__mon_sublist_stats(srv, acc[0] ? acc : NULL, w);
        nb_jw_end_obj(w);
        return 200;
    }
    nb__mon_head(srv, w);
    nb__mon_sublist_stats(srv, acc[0] ? acc : NULL, w);
    nb_jw_u64(w, "total", pg.hi - pg.lo);
    nb_jw_i64(w, "offset", offset);
    nb_jw_i64(w, "limit", limit);
    nb_jw_arr(w, "subscriptions_list");
    list_subs(srv, &pg, w);
    nb_jw_end_arr(w);
    nb_jw_end_obj(w);
    return 200;
}
