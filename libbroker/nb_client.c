/*
 * The client protocol: what a client's bytes mean, and what the server answers.
 *
 * A client is one allocation holding its connection (transport, nb_conn.c), its parser and its sid
 * table. Parsed operations are dispatched at once from the shared read buffer; a PUB becomes an
 * nb_msg view of that buffer and goes into the message path (nb_deliver.c) without a copy.
 *
 * A CONNECT whose secret is a bcrypt hash is checked on libuv's thread pool: bcrypt takes tens of
 * milliseconds on purpose, and the loop serves every client. Meanwhile the client's reads are
 * paused and the rest of its last read is held, so its operations still run in order, after the
 * verdict, as they would behind a synchronous check.
 */
#include "nb_client.h"
#include "nb_account.h"
#include "nb_auth.h"
#include "nb_certauth.h"
#include "nb_cluster.h"
#include "nb_js.h"
#include "nb_monitor.h"
#include "nb_srv.h"
#include "np_nkey.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_PING_MS 2000
#define USER_NA       "N/A" /* nats-server's name for a client without a user in its logs */
/* PubAcks produced within one read before they are written early (see client_input). */
#define EARLY_ACKS 64

static void client_input(struct nb_conn *conn, const char *data, size_t len);
static void client_tick(struct nb_conn *conn, uint64_t now);
static void client_teardown(struct nb_conn *conn);
static void client_destroy(struct nb_conn *conn);

static const struct nb_proto client_proto = {
    .id_label = "cid",
    .kind_name = "Client",
    .close_level = NB_LOG_DEBUG,
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
    struct nb_server *srv = c->conn.srv;
    if (srv->cluster) nb__interest_del(srv, c->acc, sub);
    nb_sublist_remove(nb__account_sublist(c->acc), sub);
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
        nb__conn_log(conn, NB_LOG_DEBUG, "Authentication Timeout");
        nb__conn_close(conn, NB_CLOSE_AUTH_TIMEOUT, true);
        return;
    }
    if (now >= c->next_ping_ms) ping_check(c, now);
}

/* ---- CONNECT ------------------------------------------------------------------------------------- */

static bool
auth_required(const struct nb_server *srv)
{
    return srv->auth->required;
}

static void
ok(struct nb_client *c)
{
    if (!c->verbose) return;
    nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [OK]");
    send_lit(c, NP_OK_LINE, sizeof NP_OK_LINE - 1);
}

/* s as Go's %q writes it, malloc'd; NULL without memory. */
static char *
quoted(struct np_str s)
{
    size_t n = np_enc_quoted(NULL, 0, s);
    char *q = malloc(n + 1);
    if (!q) return NULL;
    np_enc_quoted(q, n, s);
    q[n] = '\0';
    return q;
}

/* nats-server's getAuthUser, as its violation log lines name a client: User "<name>". */
static char *
auth_user_text(const struct nb_client *c)
{
    const char *name = c->user && *c->user ? c->user : USER_NA;
    const char *kind = c->user_is_nkey ? "Nkey" : "User";
    char *q = quoted((struct np_str){name, strlen(name)});
    size_t n = q ? strlen(q) + strlen(kind) + 2 : 0;
    char *text = q ? malloc(n) : NULL;
    if (text) snprintf(text, n, "%s %s", kind, q);
    free(q);
    return text;
}

/*
 * With a users list nats-server names the user it went by, even an empty one; with nkey users, the
 * nkey the CONNECT sent (cc NULL: none was).
 */
static void
auth_violation(struct nb_client *c, const struct np_connect *cc, const struct nb_auth_result *res)
{
    const struct nb_auth *a = c->conn.srv->auth;
    if (res && res->debug) nb__conn_log(&c->conn, NB_LOG_DEBUG, "%s", res->debug);
    if (a->nusers) {
        const char *name = a->nnkeys ? (cc ? cc->nkey : NULL) : (res ? res->name : NULL);
        char *q = quoted((struct np_str){name ? name : "", name ? strlen(name) : 0});
        nb__conn_log(&c->conn, NB_LOG_ERROR, "authentication error - %s %s",
                     a->nnkeys ? "Nkey" : "User", q ? q : "");
        free(q);
    } else {
        nb__conn_log(&c->conn, NB_LOG_ERROR, "authentication error");
    }
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

/*
 * A second CONNECT may move the client to another account: its subscriptions move with it, so it
 * never keeps receiving from the account it left.
 */
static void
move_account(struct nb_client *c, struct nb_account *to)
{
    struct nb_server *srv = c->conn.srv;
    if (to == c->acc) return;
    size_t it = 0;
    void *val;
    while (np_map_next(&c->subs, &it, NULL, NULL, &val)) {
        struct nb_sub *sub = val;
        if (srv->cluster) nb__interest_del(srv, c->acc, sub);
        nb_sublist_remove(nb__account_sublist(c->acc), sub);
        /* The subject was valid in the old account, so only memory can fail: then it is lost. */
        if (nb_sublist_insert(nb__account_sublist(to), sub) != 0) {
            nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
            continue;
        }
        if (srv->cluster) nb__interest_add(srv, to, sub);
    }
    nb__account_conn_add(c->acc, -1);
    nb__account_conn_add(to, 1);
    c->acc = to;
}

/* The account of user: its configured one, else $G (a token, a single user, or no auth). */
static struct nb_account *
account_of_user(struct nb_server *srv, const struct nb_auth_user *user)
{
    struct nb_account *acc = NULL;
    if (user && user->account)
        acc = nb__accounts_find(srv->accounts, user->account, strlen(user->account));
    return acc ? acc : srv->gacc;
}

/* The client is user (NULL: not one of a users list) under name: it gets the user's permissions. */
static bool
become(struct nb_client *c, const struct nb_auth_user *user, const char *name)
{
    char *copy = name && *name ? strdup(name) : NULL;
    struct nb_perm_state *perm = user && user->perms ? malloc(sizeof *perm) : NULL;
    if ((name && *name && !copy) || (user && user->perms && !perm)) {
        free(copy);
        free(perm);
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return false;
    }
    if (c->perm) nb__perm_state_release(c->perm);
    free(c->perm);
    free(c->user);
    if (perm) nb__perm_state_init(perm, user->perms);
    c->perm = perm;
    c->user = copy;
    move_account(c, account_of_user(c->conn.srv, user));
    c->track_replies = perm && user->perms->responses;
    /* A second CONNECT may change the user under subscriptions that already exist. */
    size_t it = 0;
    void *val;
    while (np_map_next(&c->subs, &it, NULL, NULL, &val)) {
        struct nb_sub *sub = val;
        sub->filtered =
            perm && nb__perm_filters(perm->set, (struct np_str){sub->subject, sub->subject_len});
    }
    return true;
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
    keep_names(c, cc);
    ok(c);
}

static bool
empty(const char *s)
{
    return !s || !*s;
}

/*
 * Keeps cc's credentials (taken out of it) for a reload's new check. A client let in as
 * no_auth_user keeps that user's name and password, as nats-server fills them in, so it is checked
 * as that user later.
 */
static bool
keep_creds(struct nb_client *c, struct np_connect *cc, const struct nb_auth_result *res)
{
    struct np_connect *k = &c->creds;
    np_connect_release(k);
    free(c->bcrypt_ok);
    c->bcrypt_ok = res->hash ? strdup(res->hash) : NULL;
    bool defaulted =
        res->user && empty(cc->user) && empty(cc->pass) && empty(cc->auth_token) && empty(cc->nkey);
    if (defaulted) {
        k->user = strdup(res->user->name);
        k->pass = res->user->password ? strdup(res->user->password) : NULL;
    } else {
        k->user = cc->user;
        k->pass = cc->pass;
        k->auth_token = cc->auth_token;
        k->nkey = cc->nkey;
        k->sig = cc->sig;
        cc->user = cc->pass = cc->auth_token = cc->nkey = cc->sig = NULL;
    }
    if ((res->hash && !c->bcrypt_ok) ||
        (defaulted && (!k->user || (res->user->password && !k->pass)))) {
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return false;
    }
    return true;
}

/* After authentication, in nats-server's order: account fields, protocol, no_responders. */
static void
finish_connect(struct nb_client *c, struct np_connect *cc, bool authenticated,
               const struct nb_auth_result *res)
{
    /* nats-server names a client by the nkey its CONNECT sent before any user name. */
    bool by_nkey = cc->nkey && *cc->nkey;
    if (!authenticated || cc->has_account) {
        auth_violation(c, cc, res);
    } else if (cc->protocol < 0 || cc->protocol > 1) {
        nb__conn_send_err(&c->conn, "invalid client protocol");
        nb__conn_close(&c->conn, NB_CLOSE_BAD_PROTOCOL, true);
    } else if (cc->no_responders && !cc->headers) {
        nb__conn_send_err(&c->conn, "no responders requires headers support");
        nb__conn_close(&c->conn, NB_CLOSE_NO_RESPONDERS_HDR, true);
    } else if (become(c, res->user,
                      by_nkey     ? cc->nkey
                      : res->name ? res->name
                                  : cc->user) &&
               keep_creds(c, cc, res)) {
        c->user_is_nkey = by_nkey;
        accept_connect(c, cc);
    }
}

/* A CONNECT waiting for its bcrypt verdict. The worker reads only hash and secret. */
struct nb_auth_job {
    uv_work_t req;
    struct nb_client *client; /* NULL once the client is gone: the job then only frees itself */
    struct np_connect cc;     /* the CONNECT, to apply once the verdict is in */
    struct nb_auth_result res;
    char *hash; /* a copy: the server may be gone before the worker is */
    bool ok;
};

static void
auth_work(uv_work_t *req)
{
    struct nb_auth_job *job = req->data;
    job->ok = nb__auth_bcrypt(job->hash, job->res.secret);
}

static void client_input(struct nb_conn *conn, const char *data, size_t len);

/* Runs what arrived behind the CONNECT, then reads again unless another check began. */
static void
resume_input(struct nb_client *c)
{
    char *held = c->held;
    size_t len = c->held_len;
    c->held = NULL;
    c->held_len = 0;
    if (held && !c->conn.closing) client_input(&c->conn, held, len);
    free(held);
    if (!c->auth && !c->conn.closing) nb__conn_resume(&c->conn);
}

static void
auth_done(uv_work_t *req, int status)
{
    struct nb_auth_job *job = req->data;
    struct nb_client *c = job->client;
    if (c) {
        c->auth = NULL;
        /* A reload meanwhile may have replaced the users job->res points into: look again. */
        enum nb_auth_verdict v =
            nb__certauth_check(&c->conn, c->conn.srv->auth, &job->cc, c->nonce, &job->res);
        bool ok = v == NB_AUTH_OK;
        if (v == NB_AUTH_BCRYPT && strcmp(job->res.hash, job->hash) == 0)
            ok = status == 0 && job->ok;
        else if (v == NB_AUTH_BCRYPT)
            ok = nb__auth_bcrypt(job->res.hash, job->res.secret);
        finish_connect(c, &job->cc, ok, &job->res);
        resume_input(c);
    }
    np_connect_release(&job->cc);
    free(job->hash);
    free(job);
}

/* Moves cc into a job on the thread pool. Returns false when it cannot (cc is then untouched). */
static bool
start_bcrypt(struct nb_client *c, struct np_connect *cc, const struct nb_auth_result *res)
{
    struct nb_auth_job *job = calloc(1, sizeof *job);
    if (!job || !(job->hash = strdup(res->hash))) {
        free(job);
        return false;
    }
    job->req.data = job;
    job->client = c;
    job->res = *res;
    if (uv_queue_work(c->conn.srv->loop, &job->req, auth_work, auth_done) != 0) {
        free(job->hash);
        free(job);
        return false;
    }
    /* The views in res point into cc's strings, which move with it. */
    job->cc = *cc;
    np_connect_init(cc);
    c->auth = job;
    return true;
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
        np_connect_release(&cc);
        return;
    }
    /* nats-server names the client in its log lines from here on, refusals included. */
    set_ident(c, &cc);
    struct nb_auth_result res;
    enum nb_auth_verdict v = nb__certauth_check(&c->conn, srv->auth, &cc, c->nonce, &res);
    if (v == NB_AUTH_BCRYPT && start_bcrypt(c, &cc, &res)) return;
    /* Without the thread pool the check runs here: slower for everyone, but right. */
    bool authenticated =
        v == NB_AUTH_OK || (v == NB_AUTH_BCRYPT && nb__auth_bcrypt(res.hash, res.secret));
    finish_connect(c, &cc, authenticated, &res);
    np_connect_release(&cc);
}

/* An operation before any CONNECT: only no_auth_user lets it through, as that user. */
static bool
default_user(struct nb_client *c)
{
    struct nb_auth_result res;
    if (nb__auth_check(c->conn.srv->auth, NULL, c->nonce, &res) != NB_AUTH_OK) {
        auth_violation(c, NULL, NULL);
        return false;
    }
    struct np_connect none;
    np_connect_init(&none);
    if (!become(c, res.user, res.name) || !keep_creds(c, &none, &res)) return false;
    c->connected = 1;
    c->auth_deadline_ms = 0;
    return true;
}

/* ---- reload -------------------------------------------------------------------------------------- */

/* A subscription the client's new permissions refuse: removed, and said so to it and the log. */
static void
drop_sub(struct nb_client *c, struct nb_sub *sub)
{
    char *qs = quoted((struct np_str){sub->subject, sub->subject_len});
    char *qsid = quoted((struct np_str){sub->sid, sub->sid_len});
    char *user = auth_user_text(c);
    char text[1024];
    if (qs && qsid && user) {
        snprintf(text, sizeof text, "Permissions Violation for Subscription to %s (sid %s)", qs,
                 qsid);
        nb__conn_send_err(&c->conn, text);
        nb__log(c->conn.srv, NB_LOG_INFO, "Removed sub %s (sid %s) for %s - not authorized", qs,
                qsid, user);
    }
    free(qs);
    free(qsid);
    free(user);
    nb__client_unsub(c, sub);
}

/* nats-server's processSubsOnConfigReload: a subscription stays if its subject alone passes. */
static void
drop_refused_subs(struct nb_client *c)
{
    if (!c->perm) return;
    size_t n = np_map_count(&c->subs), k = 0, it = 0;
    struct nb_sub **refused = n ? malloc(n * sizeof *refused) : NULL;
    void *val;
    if (n && !refused) {
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    while (np_map_next(&c->subs, &it, NULL, NULL, &val)) {
        struct nb_sub *sub = val;
        struct np_str subject = {sub->subject, sub->subject_len};
        struct np_str queue = {sub->queue, sub->queue ? sub->queue_len : 0};
        if (!nb__perm_may_subscribe(c->perm->set, subject, (struct np_str){NULL, 0}) &&
            !(queue.len && nb__perm_may_subscribe(c->perm->set, subject, queue)))
            refused[k++] = sub;
    }
    for (size_t i = 0; i < k; i++)
        drop_sub(c, refused[i]);
    free(refused);
}

void
nb__client_recheck(struct nb_client *c)
{
    const struct nb_auth *a = c->conn.srv->auth;
    const struct np_connect *cc = &c->creds;
    if (!c->connected || c->conn.closing) return;
    /* nats-server closes a client whose user left the users list as if it had gone itself. */
    bool gone = c->user_is_nkey ? !nb__auth_find_nkey(a, cc->nkey)
                                : !empty(cc->user) && a->nusers && !nb__auth_find(a, cc->user);
    if (gone) {
        nb__conn_close(&c->conn, NB_CLOSE_CLIENT_CLOSED, true);
        return;
    }
    struct nb_auth_result res;
    enum nb_auth_verdict v = nb__certauth_check(&c->conn, a, cc, c->nonce, &res);
    bool ok = v == NB_AUTH_OK;
    /*
     * A hash its secret already matched needs no new bcrypt; a changed one is compared here, on
     * the loop: only a client whose user's hash this reload replaced pays it, once.
     */
    if (v == NB_AUTH_BCRYPT)
        ok = (c->bcrypt_ok && strcmp(c->bcrypt_ok, res.hash) == 0) ||
             nb__auth_bcrypt(res.hash, res.secret);
    if (!ok) {
        auth_violation(c, cc, &res);
        return;
    }
    if (v == NB_AUTH_BCRYPT && (!c->bcrypt_ok || strcmp(c->bcrypt_ok, res.hash) != 0)) {
        free(c->bcrypt_ok);
        c->bcrypt_ok = strdup(res.hash);
    }
    const char *name = c->user_is_nkey ? cc->nkey : res.name ? res.name : cc->user;
    if (become(c, res.user, name)) drop_refused_subs(c);
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

enum refusal { REFUSE_PUBLISH, REFUSE_REPLY, REFUSE_SUBSCRIBE };

/*
 * A permission refusal: "-ERR 'Permissions Violation for ...'" to the client and a "... Violation"
 * line to the log, in nats-server's words and with Go's quoting. The connection stays.
 */
static void
refuse(struct nb_client *c, enum refusal kind, struct np_str s, struct np_str queue,
       struct np_str sid)
{
    static const char *const what[] = {"Publish to", "Publish with Reply of", "Subscription to"};
    char *qs = quoted(s), *qq = queue.len ? quoted(queue) : NULL, *user = auth_user_text(c);
    size_t cap = (qs ? strlen(qs) : 0) + (qq ? strlen(qq) : 0) + 64;
    char *text = qs && user && (qq || !queue.len) ? malloc(cap) : NULL;
    if (!text) {
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        goto out;
    }
    snprintf(text, cap, "Permissions Violation for %s %s%s%s", what[kind], qs,
             qq ? " using queue " : "", qq ? qq : "");
    nb__conn_send_err(&c->conn, text);
    if (kind == REFUSE_SUBSCRIBE)
        nb__conn_log(&c->conn, NB_LOG_ERROR,
                     "Subscription Violation - %s, Subject %s%s%s, SID %.*s", user, qs,
                     qq ? ", Queue: " : "", qq ? qq : "", (int)sid.len, sid.ptr);
    else
        nb__conn_log(&c->conn, NB_LOG_ERROR, "Publish Violation - %s, %s %s", user,
                     kind == REFUSE_REPLY ? "Reply" : "Subject", qs);
out:
    free(text);
    free(qs);
    free(qq);
    free(user);
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
    struct nb_stats *as = nb__account_stats(c->acc);
    as->in_msgs++;
    as->in_bytes += op->payload.len;
    if (c->pedantic && !np_subject_valid_literal(op->subject.ptr, op->subject.len))
        nb__conn_send_err(conn, "Invalid Publish Subject");
    if (has_prefix(op->subject, "_GR_.") ||
        (c->perm &&
         !nb__perm_may_publish(c->perm, op->subject.ptr, op->subject.len, nb__now_ms(srv)))) {
        refuse(c, REFUSE_PUBLISH, op->subject, (struct np_str){0}, (struct np_str){0});
        return;
    }
    if (reserved_reply(op->reply)) {
        refuse(c, REFUSE_REPLY, op->reply, (struct np_str){0}, (struct np_str){0});
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
    /* Permissions come first in nats-server: an invalid subject no allow entry covers is refused. */
    if (c->perm && !nb__perm_may_subscribe(c->perm->set, op->subject, op->queue)) {
        refuse(c, REFUSE_SUBSCRIBE, op->subject, op->queue, op->sid);
        return;
    }
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
    if (sub) sub->filtered = c->perm && nb__perm_filters(c->perm->set, op->subject);
    if (!sub || np_map_put(&c->subs, sub->sid, sub->sid_len, sub) != 0) {
        free(sub);
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    if (nb_sublist_insert(nb__account_sublist(c->acc), sub) != 0) {
        np_map_del(&c->subs, sub->sid, sub->sid_len);
        free(sub);
        nb__conn_send_err(&c->conn, "Invalid Subject");
        return;
    }
    if (srv->cluster) nb__interest_add(srv, c->acc, sub);
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

void
nb__trace_connect(struct nb_conn *c, const char *dir, struct np_str arg)
{
    char *json = redacted_connect(arg);
    if (json)
        nb__conn_log(c, NB_LOG_TRACE, "%s [CONNECT %s]", dir, json);
    else
        nb__conn_log(c, NB_LOG_TRACE, "%s [CONNECT (malformed, %zu bytes)]", dir, arg.len);
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
        nb__trace_connect(&c->conn, "<<-", op->arg);
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

/* ---- PING and the cluster's URLs ----------------------------------------------------------------- */

static int send_info(struct nb_client *c);

/*
 * The first PONG completes a client's handshake: from then on it may get async INFOs, and if the
 * cluster's URLs changed since it connected it gets a fresh INFO right after (nats-server's order).
 */
static void
op_ping(struct nb_client *c)
{
    struct nb_cluster *cl = c->conn.srv->cluster;
    c->client_pinged = 1;
    nb__conn_log(&c->conn, NB_LOG_TRACE, "->> [PONG]");
    send_lit(c, NP_PONG, sizeof NP_PONG - 1);
    if (c->first_pong) return;
    c->first_pong = 1;
    if (cl && c->protocol && c->urls_gen != cl->urls_gen) send_info(c);
}

void
nb__client_async_info(struct nb_client *c)
{
    if (c->protocol && c->first_pong) send_info(c);
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

static void
dispatch(struct nb_client *c, const struct np_op *op)
{
    if (c->conn.srv->cfg.trace) trace_op(c, op);
    if (!c->connected && op->type != NP_OP_CONNECT && auth_required(c->conn.srv) &&
        !default_user(c))
        return;
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
        op_ping(c);
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

/* Keeps what follows a CONNECT under check (the read buffer is shared) and stops reading. */
static void
hold_input(struct nb_client *c, const char *data, size_t len)
{
    nb__conn_pause(&c->conn);
    if (len == 0) return;
    if (!(c->held = malloc(len))) {
        nb__conn_close(&c->conn, NB_CLOSE_NO_MEMORY, false);
        return;
    }
    memcpy(c->held, data, len);
    c->held_len = len;
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
        if (c->auth) {
            hold_input(c, data + off, len - off);
            break;
        }
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
    /* A check still running finishes on its own; only the job is left to free then. */
    if (c->auth) c->auth->client = NULL;
    c->auth = NULL;
}

static void
client_destroy(struct nb_conn *conn)
{
    struct nb_client *c = nb__client_of(conn);
    conn->srv->stats.connections--;
    nb__account_conn_add(c->acc, -1);
    np_parser_release(&c->parser);
    if (c->perm) nb__perm_state_release(c->perm);
    free(c->perm);
    free(c->user);
    np_connect_release(&c->creds);
    free(c->bcrypt_ok);
    free(c->held);
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
        .auth_required = auth_required(srv) && !srv->auth->no_auth_user,
        .tls_required = srv->tls != NULL,
        .tls_verify = srv->tls && srv->cfg.tls.verify,
        .max_payload = srv->cfg.max_payload,
        .jetstream = srv->js != NULL,
        .client_id = c->conn.id,
        .client_ip = c->conn.ip,
        .cluster = srv->cluster ? srv->cluster->name : NULL,
        .ldm = srv->ldm_info,
    };
    /* Only the first INFO carries the nonce, as in nats-server. */
    if (srv->auth->nnkeys && !c->nonce[0]) {
        if (np_nkey_nonce(c->nonce) != 0) return NB_ENOMEM;
        info.nonce = c->nonce;
    }
    info.connect_urls = nb__curls_list(srv, &info.n_connect_urls);
    if (srv->cluster) c->urls_gen = srv->cluster->urls_gen;
    char *json = np_info_encode(&info);
    free(info.connect_urls);
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
    np_connect_init(&c->creds);
    srv->stats.connections++;
    c->acc = srv->gacc;
    nb__account_conn_add(c->acc, 1);
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
