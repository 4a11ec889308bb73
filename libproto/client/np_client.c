/*
 * The client API over the connection (np_conn.c): subscriptions and message dispatch, publish,
 * flush waiters, requests with their deadlines, and drain.
 *
 * Requests share one wildcard inbox subscription (_INBOX.<nuid>.*); the last token of a reply's
 * subject is the request's key, so a reply finds its request with one map lookup and no per-request
 * SUB goes to the server.
 */
#include "np_client_int.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------------- */
/* Errors and small helpers                                                                       */
/* ---------------------------------------------------------------------------------------------- */

/*
 * libuv names every errno and resolver (UV_EAI_*) code, where the C library's strerror knows no
 * resolver code (musl says "No error information"). For a code libuv does not know either,
 * uv_strerror would allocate a text per call, so that case gets a fixed one.
 */
static const char *
uv_text(int err)
{
    char name[32];
    uv_err_name_r(err, name, sizeof name);
    return strncmp(name, "Unknown", 7) == 0 ? "unrecognised error code" : uv_strerror(err);
}

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
    if (err > NP__ERR_FIRST && err < NP__ERR_END) return np_strerror(err);
    return uv_text(err);
}

size_t
np__fmt_u64(char *out, uint64_t v)
{
    char tmp[NP__U64_DIGITS];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

uint64_t
np__timeout(const struct np_client *c)
{
    return c->opts.timeout_ms ? c->opts.timeout_ms : NP_DEFAULT_TIMEOUT_MS;
}

bool
np__usable(const struct np_client *c)
{
    return c->state == NP__ST_NEW || c->state == NP__ST_CONNECTING ||
           c->state == NP__ST_CONNECTED || c->state == NP__ST_RECONNECTING;
}

const struct np_info *
np_client_info(const struct np_client *c)
{
    return c->phase == NP__PH_UP ? &c->info : NULL;
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

const char *
np_client_attempt_detail(const struct np_client *c, size_t i)
{
    return i < c->npool && c->pool[i].tls_err ? c->pool[i].tls_err : "";
}

/* ---------------------------------------------------------------------------------------------- */
/* Subscriptions                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

static void
sub_free(struct np__sub *s)
{
    free(s->subject);
    free(s->queue);
    free(s);
}

void
np__bury(struct np_client *c)
{
    while (c->grave) {
        struct np__sub *s = c->grave;
        c->grave = s->next;
        sub_free(s);
    }
}

void
np__free_subs(struct np_client *c)
{
    np__bury(c);
    void *v;
    for (size_t it = 0; np_map_next(&c->subs, &it, NULL, NULL, &v);)
        sub_free(v);
    np_map_release(&c->subs);
}

int
np__queue_sub(struct np_buf *b, const struct np__sub *s, uint64_t remaining)
{
    struct np_str id = {s->key, s->klen};
    struct np_str subj = {s->subject, strlen(s->subject)};
    struct np_str queue = {s->queue, s->queue ? strlen(s->queue) : 0};
    size_t need = np_enc_sub(NULL, 0, subj, queue, id);
    if (np_buf_reserve(b, need) != 0) return NP_ENOMEM;
    b->len += np_enc_sub(b->ptr + b->len, need, subj, queue, id);
    if (remaining == 0) return 0;
    need = np_enc_unsub(NULL, 0, id, (int64_t)remaining);
    if (np_buf_reserve(b, need) != 0) return NP_ENOMEM;
    b->len += np_enc_unsub(b->ptr + b->len, need, id, (int64_t)remaining);
    return 0;
}

static int
queue_unsub(struct np_client *c, const struct np__sub *s)
{
    struct np_str id = {s->key, s->klen};
    size_t need = np_enc_unsub(NULL, 0, id, -1);
    if (np_buf_reserve(&c->pend, need) != 0) return NP_ENOMEM;
    c->pend.len += np_enc_unsub(c->pend.ptr + c->pend.len, need, id, -1);
    np__kick(c);
    return 0;
}

/* Unlinks s; its memory stays until the dispatch that may still hold it has ended. */
static void
sub_remove(struct np_client *c, struct np__sub *s)
{
    np_map_del(&c->subs, s->key, s->klen);
    if (s->sid == c->mux_sid) c->mux_sid = 0;
    if (c->dispatching == 0) {
        sub_free(s);
        return;
    }
    s->next = c->grave;
    c->grave = s;
}

void
np__dispatch(struct np_client *c, const struct np_op *op)
{
    struct np__sub *s = np_map_get(&c->subs, op->sid.ptr, op->sid.len);
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

int64_t
np_client_subscribe(struct np_client *c, const char *subject, const char *queue, uint64_t max,
                    np_msg_cb cb, void *ud)
{
    if (!np__usable(c)) return NP_CLIENT_ECLOSED;
    if (!subject || !np_subject_valid(subject, strlen(subject)) || !cb) return NP_ESUBJECT;
    if (queue && (!*queue || strpbrk(queue, " \t\r\n"))) return NP_EINVAL;
    struct np__sub *s = calloc(1, sizeof *s);
    if (!s) return NP_ENOMEM;
    *s = (struct np__sub){.subject = strdup(subject), .queue = np__dup(queue), .max = max};
    s->cb = cb;
    s->ud = ud;
    s->sid = ++c->next_sid;
    s->klen = np__fmt_u64(s->key, s->sid);
    if (!s->subject || (queue && !s->queue) ||
        (c->state == NP__ST_CONNECTED && np__queue_sub(&c->pend, s, max) != 0) ||
        np_map_put(&c->subs, s->key, s->klen, s) != 0) {
        sub_free(s);
        return NP_ENOMEM;
    }
    np__kick(c);
    return (int64_t)s->sid;
}

int
np_client_unsubscribe(struct np_client *c, int64_t sid)
{
    char key[NP__U64_DIGITS];
    if (sid <= 0) return NP_EINVAL;
    struct np__sub *s = np_map_get(&c->subs, key, np__fmt_u64(key, (uint64_t)sid));
    if (!s) return NP_EINVAL;
    if (c->state == NP__ST_CONNECTED && queue_unsub(c, s) != 0) return NP_ENOMEM;
    sub_remove(c, s);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Publish                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

static int
check_publish(const struct np_client *c, struct np_str subj, struct np_str rep,
              struct np_str headers, struct np_str data)
{
    if (!np__usable(c)) return NP_CLIENT_ECLOSED;
    if (!np_subject_valid_literal(subj.ptr, subj.len)) return NP_ESUBJECT;
    if (rep.len && !np_subject_valid(rep.ptr, rep.len)) return NP_ESUBJECT;
    bool known = c->info.server_id != NULL;
    int64_t maxp = known && c->info.max_payload > 0 ? c->info.max_payload : NP_MAX_PAYLOAD;
    size_t total = headers.len + data.len;
    if (total > (uint64_t)maxp) return NP_CLIENT_EMAX_PAYLOAD;
    if (headers.len > 0 && known && !c->info.headers) return NP_EINVAL;
    size_t limit = c->state == NP__ST_CONNECTED ? NP__PEND_HARD_LIMIT : NP__PEND_LIMIT;
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
    size_t line = subj.len + rep.len + 2 * NP__U64_DIGITS + 16;
    if (np_buf_reserve(&c->pend, line + total + 2) != 0) return NP_ENOMEM;
    struct np_buf *b = &c->pend;
    b->len += enc_pub_line(b->ptr + b->len, b->cap - b->len, subj, rep, headers.len, total);
    if (headers.len) memcpy(b->ptr + b->len, headers.ptr, headers.len);
    b->len += headers.len;
    if (data.len) memcpy(b->ptr + b->len, data.ptr, data.len);
    b->len += data.len;
    memcpy(b->ptr + b->len, "\r\n", 2);
    b->len += 2;
    np__kick(c);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Flush waiters and deadlines                                                                    */
/* ---------------------------------------------------------------------------------------------- */

static int
waiter_push(struct np_client *c, np_done_cb cb, void *ud, uint64_t deadline)
{
    struct np__waiter *w = calloc(1, sizeof *w);
    if (!w) return NP_ENOMEM;
    *w = (struct np__waiter){.cb = cb, .ud = ud, .deadline = deadline};
    if (c->wq_tail)
        c->wq_tail->next = w;
    else
        c->wq_head = w;
    c->wq_tail = w;
    return 0;
}

int
np__queue_ping(struct np_client *c, np_done_cb cb, void *ud, uint64_t deadline)
{
    if (np_buf_reserve(&c->pend, sizeof NP_PING - 1) != 0 || waiter_push(c, cb, ud, deadline) != 0)
        return NP_ENOMEM;
    np_buf_add(&c->pend, NP_PING, sizeof NP_PING - 1);
    np__kick(c);
    return 0;
}

struct np__waiter *
np__waiter_pop(struct np_client *c)
{
    struct np__waiter *w = c->wq_head;
    if (!w) return NULL;
    c->wq_head = w->next;
    if (!c->wq_head) c->wq_tail = NULL;
    return w;
}

void
np__drop_lost_waiters(struct np_client *c)
{
    struct np__waiter **p = &c->wq_head;
    c->wq_tail = NULL;
    while (*p) {
        struct np__waiter *w = *p;
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
    if (c->state == NP__ST_CLOSED) return;
    if (uv_is_active((uv_handle_t *)&c->req_timer) && c->timer_due <= due) return;
    uint64_t now = uv_now(c->loop);
    c->timer_due = due;
    uv_timer_start(&c->req_timer, on_deadline, due > now ? due - now : 0, 0);
}

static void
rearm_deadline(struct np_client *c)
{
    uint64_t due = UINT64_MAX;
    void *v;
    for (size_t it = 0; np_map_next(&c->reqs, &it, NULL, NULL, &v);)
        if (((struct np__req *)v)->deadline < due) due = ((struct np__req *)v)->deadline;
    for (struct np__waiter *w = c->wq_head; w; w = w->next)
        if (w->cb && w->deadline && w->deadline < due) due = w->deadline;
    uv_timer_stop(&c->req_timer);
    if (due != UINT64_MAX) arm_deadline(c, due);
}

/*
 * Takes the requests whose deadline is at or before now (all of them for UINT64_MAX) out of the
 * map, as a list: collected first, removed after, since removal may move entries under an iterator.
 */
static struct np__req *
take_expired(struct np_client *c, uint64_t now)
{
    struct np__req *dead = NULL;
    void *v;
    for (size_t it = 0; np_map_next(&c->reqs, &it, NULL, NULL, &v);) {
        struct np__req *r = v;
        if (r->deadline > now) continue;
        r->next = dead;
        dead = r;
    }
    for (struct np__req *r = dead; r; r = r->next)
        np_map_del(&c->reqs, r->key, r->klen);
    return dead;
}

static void
complete_reqs(struct np_client *c, struct np__req *list, int status)
{
    for (struct np__req *r = list, *next; r; r = next) {
        next = r->next;
        np_reply_cb cb = r->cb;
        void *ud = r->ud;
        free(r);
        cb(c, status, NULL, ud);
    }
}

/* An expired flush keeps its queue slot (cb cleared) so later PONGs still match their PINGs. */
static void
on_deadline(uv_timer_t *t)
{
    struct np_client *c = t->data;
    uint64_t now = uv_now(c->loop);
    for (;;) {
        struct np__waiter *w = c->wq_head;
        while (w && !(w->cb && w->deadline && w->deadline <= now))
            w = w->next;
        if (!w) break;
        np_done_cb cb = w->cb;
        w->cb = NULL;
        cb(c, NP_CLIENT_ETIMEOUT, w->ud);
    }
    complete_reqs(c, take_expired(c, now), NP_CLIENT_ETIMEOUT);
    rearm_deadline(c);
}

void
np__fail_pending(struct np_client *c, int status)
{
    complete_reqs(c, take_expired(c, UINT64_MAX), status);
    for (struct np__waiter *w; (w = np__waiter_pop(c)) != NULL;) {
        np_done_cb cb = w->cb;
        void *ud = w->ud;
        free(w);
        if (cb) cb(c, status, ud);
    }
    c->pend.len = 0;
    if (c->state != NP__ST_CLOSED) uv_timer_stop(&c->req_timer);
}

int
np_client_flush(struct np_client *c, np_done_cb cb, void *ud)
{
    if (!np__usable(c) || c->state == NP__ST_NEW) return NP_CLIENT_ECLOSED;
    uint64_t due = uv_now(c->loop) + np__timeout(c);
    if (np__queue_ping(c, cb, ud, due) != 0) return NP_ENOMEM;
    arm_deadline(c, due);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Requests                                                                                       */
/* ---------------------------------------------------------------------------------------------- */

void
np_client_new_inbox(struct np_client *c, char *out, size_t cap)
{
    size_t plen = sizeof NP__INBOX_PREFIX - 1;
    if (cap < plen + NP_NUID_LEN + 1) {
        if (cap) out[0] = '\0';
        return;
    }
    memcpy(out, NP__INBOX_PREFIX, plen);
    np_rand_fill(&c->rng, out + plen, NP_NUID_LEN, NP_RAND_BASE62);
    out[plen + NP_NUID_LEN] = '\0';
}

static void
on_reply(struct np_client *c, const struct np_msg *m, void *ud)
{
    size_t plen = c->mux_prefix_len;
    (void)ud;
    if (m->subject.len <= plen) return;
    struct np__req *r = np_map_del(&c->reqs, m->subject.ptr + plen, m->subject.len - plen);
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
    if (!np__usable(c) || c->state == NP__ST_NEW) return NP_CLIENT_ECLOSED;
    if (!cb) return NP_EINVAL;
    int rc = ensure_mux(c);
    if (rc != 0) return rc;
    struct np__req *r = calloc(1, sizeof *r);
    if (!r) return NP_ENOMEM;
    r->klen = np__fmt_u64(r->key, ++c->next_req);
    r->deadline = uv_now(c->loop) + (timeout_ms ? timeout_ms : np__timeout(c));
    r->cb = cb;
    r->ud = ud;
    char reply[sizeof c->mux_prefix + NP__U64_DIGITS];
    size_t plen = c->mux_prefix_len;
    memcpy(reply, c->mux_prefix, plen);
    memcpy(reply + plen, r->key, r->klen + 1);
    rc = np_client_publish(c, subject, reply, headers, data);
    if (rc == 0) rc = np_map_put(&c->reqs, r->key, r->klen, r);
    if (rc != 0) {
        free(r);
        return rc;
    }
    arm_deadline(c, r->deadline);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Drain and close                                                                                */
/* ---------------------------------------------------------------------------------------------- */

void
np_client_close(struct np_client *c, np_done_cb cb, void *ud)
{
    if (c->state == NP__ST_CLOSED) return;
    c->close_cb = cb;
    c->close_ud = ud;
    np__close_with(c, NP_CLIENT_ECLOSED);
}

static void
drain_done(struct np_client *c, int status, void *ud)
{
    (void)ud;
    np__close_with(c, status);
}

int
np_client_drain(struct np_client *c, np_done_cb cb, void *ud)
{
    if (c->state == NP__ST_CLOSED || c->state == NP__ST_DRAINING || c->drain_cb)
        return NP_CLIENT_ECLOSED;
    c->drain_cb = cb;
    c->drain_ud = ud;
    if (c->state != NP__ST_CONNECTED) {
        np__close_with(c, NP_CLIENT_ECLOSED);
        return 0;
    }
    void *v;
    for (size_t it = 0; np_map_next(&c->subs, &it, NULL, NULL, &v);)
        if (queue_unsub(c, v) != 0) goto nomem;
    uint64_t due = uv_now(c->loop) + np__timeout(c);
    if (np__queue_ping(c, drain_done, NULL, due) != 0) goto nomem;
    c->state = NP__ST_DRAINING;
    arm_deadline(c, due);
    return 0;
nomem:
    np__close_with(c, NP_ENOMEM);
    return 0;
}
