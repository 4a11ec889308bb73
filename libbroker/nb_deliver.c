/*
 * The message path: from one published message to everything it causes (spec 2.4, 5.5).
 *
 * nb__publish() matches the subject once and hands the message to each receiver by kind:
 * - a client gets its MSG line encoded straight into the tail of its outbound queue with the
 *   payload copied after it; nothing is allocated once the chunk pool is warm, and the connection
 *   is only put on the pending-flush list (the write happens once per loop iteration);
 * - a route is marked as a target, once however many of its subscriptions match, and gets one RMSG
 *   after the match loop, naming the queue groups whose chosen member it holds;
 * - an internal subscription gets a copy of the message queued for its callback, which runs when
 *   the outermost delivery has finished. A callback may therefore publish (a reply), subscribe or
 *   unsubscribe without invalidating the match result that is being walked.
 *
 * The match result belongs to the sublist and stays valid only until the next insert or remove,
 * so subscriptions that reach their auto-unsubscribe limit are also removed after the loop.
 */
#include "nb_deliver.h"
#include "nb_account.h"
#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_srv.h"

#include <stdlib.h>
#include <string.h>

/* Room for "HMSG " + subject + sid + reply + two sizes + separators and CRLF. */
#define LINE_OVERHEAD 64

struct nb_isub {
    struct nb_sub sub; /* first: the sublist's pointer is the internal subscription's */
    struct nb_isub *next, *prev;
    nb_msg_fn cb;
    void *ud;
    uint32_t queued; /* deliveries waiting for the callback */
    bool dead;       /* unsubscribed: freed when nothing is queued for it any more */
    bool acks;       /* also in nb_delivery.acks, under its subject without the '>' */
    bool sole;       /* nothing else matches its prefix, as of sublist generation gen */
    uint64_t gen;
    struct nb_account *acc; /* the account whose sublist holds it */
};

/* A message copied for an internal subscription's callback. */
struct nb_queued {
    struct nb_queued *next;
    struct nb_isub *isub;
    struct nb_msg msg; /* views into data */
    char data[];
};

static bool
grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p) return false;
    *arr = p;
    *cap = n;
    return true;
}

static void
defer_unsub(struct nb_delivery *d, struct nb_sub *sub)
{
    /* Without memory the subscription stays; past its max it just receives nothing more. */
    if (!grow((void **)&d->deferred_unsubs, &d->deferred_cap, d->ndeferred + 1, sizeof sub)) return;
    d->deferred_unsubs[d->ndeferred++] = sub;
}

/* ---- clients ------------------------------------------------------------------------------------- */

static void
slow_consumer(struct nb_conn *c)
{
    struct nb_server *srv = c->srv;
    nb__conn_log(c, NB_LOG_INFO, "Slow Consumer Detected: MaxPending of %lld Exceeded",
                 (long long)srv->cfg.max_pending);
    srv->stats.slow_consumers++;
    if (nb__conn_is_client(c)) nb__account_stats(nb__client_of(c)->acc)->slow_consumers++;
    nb__conn_close(c, NB_CLOSE_SLOW_PENDING, false);
}

/*
 * A frame is a control line and the message's bytes. Small frames are written contiguously into
 * the tail chunk; a payload too big for a standard chunk is appended separately, so that it is not
 * forced into one oversized chunk together with its line.
 */
static bool
frame_inline(size_t line_max, size_t len)
{
    return len + line_max <= NB_CHUNK_SIZE;
}

static char *
frame_begin(struct nb_conn *c, size_t line_max, size_t len)
{
    size_t need = frame_inline(line_max, len) ? line_max + len + 2 : line_max;
    return nb__outq_reserve(&c->out, &c->srv->pool, need);
}

/* Completes a frame whose n-byte line was encoded at dst. Returns false without memory. */
static bool
frame_end(struct nb_conn *c, char *dst, size_t n, size_t line_max, const char *data, size_t len)
{
    struct nb_server *srv = c->srv;
    if (srv->cfg.trace) nb__conn_log(c, NB_LOG_TRACE, "->> [%.*s]", (int)n - 2, dst);
    if (frame_inline(line_max, len)) {
        if (len) memcpy(dst + n, data, len);
        memcpy(dst + n + len, "\r\n", 2);
        nb__outq_commit(&c->out, n + len + 2);
    } else {
        nb__outq_commit(&c->out, n);
        if (nb__outq_append(&c->out, &srv->pool, data, len) != 0 ||
            nb__outq_append(&c->out, &srv->pool, "\r\n", 2) != 0)
            return false;
    }
    c->out_msgs++;
    c->out_bytes += len;
    srv->stats.out_msgs++;
    srv->stats.out_bytes += len;
    if (nb__conn_is_client(c)) {
        struct nb_stats *as = nb__account_stats(nb__client_of(c)->acc);
        as->out_msgs++;
        as->out_bytes += len;
    }
    nb__conn_schedule_flush(c);
    if (c->out.pending > (uint64_t)srv->cfg.max_pending) slow_consumer(c);
    return true;
}

/* A receiver that did not ask for headers gets the body alone, as nats-server does. */
static void
strip_headers(const struct nb_conn *c, const struct nb_msg *msg, const char **data, size_t *len,
              size_t *hdr_len)
{
    *data = msg->data;
    *len = msg->len;
    *hdr_len = msg->hdr_len;
    if (*hdr_len && !c->headers) {
        *data += *hdr_len;
        *len -= *hdr_len;
        *hdr_len = 0;
    }
}

/* Queues one MSG/HMSG to a client. Returns false when it could not take it. */
static bool
write_msg(struct nb_conn *c, const struct nb_sub *sub, const struct nb_msg *msg)
{
    const char *data;
    size_t len, hdr_len;
    strip_headers(c, msg, &data, &len, &hdr_len);
    struct np_str subject = {msg->subject, msg->subject_len}, reply = {msg->reply, msg->reply_len};
    struct np_str sid = {sub->sid, sub->sid_len};
    size_t line_max = msg->subject_len + sub->sid_len + msg->reply_len + LINE_OVERHEAD;
    char *dst = frame_begin(c, line_max, len);
    if (!dst) return false;
    size_t n = hdr_len ? np_enc_hmsg(dst, line_max, subject, sid, reply, hdr_len, len)
                       : np_enc_msg(dst, line_max, subject, sid, reply, len);
    return frame_end(c, dst, n, line_max, data, len);
}

/* Delivers to a client's subscription; false when the subscription cannot take the message. */
static bool
deliver_client(struct nb_conn *from, struct nb_sub *sub, const struct nb_msg *msg)
{
    struct nb_client *cl = sub->owner;
    struct nb_conn *c = &cl->conn;
    if (c->closing || (c == from && !cl->echo)) return false;
    if (sub->filtered && !nb__perm_may_deliver(cl->perm, msg->subject, msg->subject_len))
        return false;
    if (!write_msg(c, sub, msg)) {
        nb__conn_close(c, NB_CLOSE_NO_MEMORY, false);
        return false;
    }
    if (cl->track_replies && msg->reply_len)
        nb__perm_reply_received(cl->perm, msg->reply, msg->reply_len, nb__now_ms(c->srv));
    /* Only a client is stalled, as in nats-server: pausing a route would pause all its traffic. */
    if (from && c != from && c->out.pending > (uint64_t)c->srv->cfg.max_pending / 2 &&
        !c->closing && nb__conn_is_client(from))
        nb__conn_stall(from);
    return true;
}

/* ---- routes -------------------------------------------------------------------------------------- */

/* Marks route as a target of this message (once) and returns its index, or -1 without memory. */
static long
route_target(struct nb_delivery *d, struct nb_conn *route)
{
    for (size_t i = 0; i < d->ntargets; i++) {
        if (d->targets[i] == route) return (long)i;
    }
    if (!grow((void **)&d->targets, &d->targets_cap, d->ntargets + 1, sizeof d->targets[0]))
        return -1;
    d->targets[d->ntargets] = route;
    return (long)d->ntargets++;
}

static bool
deliver_route(struct nb_delivery *d, struct nb_conn *from, struct nb_sub *sub)
{
    struct nb_conn *route = sub->owner;
    /* One hop: what came from a route is never sent on to another (spec 5.5). */
    if (route->closing || (from && !nb__conn_is_client(from))) return false;
    long t = route_target(d, route);
    if (t < 0) return false;
    if (!sub->queue) return true;
    if (!grow((void **)&d->rqueues, &d->rqueues_cap, d->nrqueues + 1, sizeof d->rqueues[0]))
        return false;
    d->rqueues[d->nrqueues++] = (struct nb_route_queue){(uint32_t)t, {sub->queue, sub->queue_len}};
    return true;
}

/* The RMSG (or HMSG) for one target route, with the queue groups it was picked for. */
static void
write_route_msg(struct nb_delivery *d, size_t t, const struct nb_msg *msg, struct np_str reply)
{
    struct nb_conn *c = d->targets[t];
    size_t nnames = 0, names_len = 0;
    for (size_t i = 0; i < d->nrqueues; i++) {
        if (d->rqueues[i].target != t) continue;
        if (!grow((void **)&d->names, &d->names_cap, nnames + 1, sizeof d->names[0])) return;
        d->names[nnames++] = d->rqueues[i].name;
        names_len += d->rqueues[i].name.len + 1;
    }
    const char *data;
    size_t len, hdr_len;
    strip_headers(c, msg, &data, &len, &hdr_len);
    struct np_rmsg_line rl = {
        .account = {nb__account_name(d->acc), nb__account_name_len(d->acc)},
        .subject = {msg->subject, msg->subject_len},
        .reply = reply,
        .queues = d->names,
        .nqueues = nnames,
        .hdr_len = hdr_len,
        .total = len,
    };
    size_t line_max = msg->subject_len + reply.len + names_len + LINE_OVERHEAD;
    char *dst = frame_begin(c, line_max, len);
    size_t n = dst ? np_enc_rmsg(dst, line_max, &rl) : 0;
    if (!dst || !frame_end(c, dst, n, line_max, data, len))
        nb__conn_close(c, NB_CLOSE_NO_MEMORY, false);
}

/* ---- internal subscriptions ---------------------------------------------------------------------- */

/*
 * Queued deliveries live in chunks that are reused once the queue has drained (at the end of the
 * outermost delivery), so a warm server allocates nothing per internal delivery either.
 */
#define QUEUE_CHUNK (64 * 1024)

struct nb_qchunk {
    struct nb_qchunk *next;
    size_t used, cap;
    max_align_t mem[];
};

static void *
queue_alloc(struct nb_delivery *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct nb_qchunk *c = d->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > QUEUE_CHUNK ? n : QUEUE_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        *c = (struct nb_qchunk){.next = d->chunks, .cap = cap};
        d->chunks = c;
    }
    void *p = (char *)c->mem + c->used;
    c->used += n;
    return p;
}

/* Keeps one ordinary chunk for the next delivery and frees the others. */
static void
queue_reset(struct nb_delivery *d)
{
    struct nb_qchunk *keep = NULL;
    while (d->chunks) {
        struct nb_qchunk *c = d->chunks;
        d->chunks = c->next;
        if (!keep && c->cap == QUEUE_CHUNK) {
            keep = c;
            continue;
        }
        free(c);
    }
    if (keep) *keep = (struct nb_qchunk){.cap = QUEUE_CHUNK};
    d->chunks = keep;
}

static bool
deliver_internal(struct nb_delivery *d, struct nb_sub *sub, const struct nb_msg *msg)
{
    struct nb_isub *is = sub->owner;
    if (is->dead) return false;
    struct nb_queued *q = queue_alloc(d, sizeof *q + msg->subject_len + msg->reply_len + msg->len);
    if (!q) return false;
    char *p = q->data;
    q->next = NULL;
    q->isub = is;
    q->msg = *msg;
    q->msg.subject = memcpy(p, msg->subject, msg->subject_len);
    p += msg->subject_len;
    q->msg.reply = msg->reply_len ? memcpy(p, msg->reply, msg->reply_len) : NULL;
    p += msg->reply_len;
    q->msg.data = msg->len ? memcpy(p, msg->data, msg->len) : NULL;
    if (d->queued_tail)
        d->queued_tail->next = q;
    else
        d->queued = q;
    d->queued_tail = q;
    is->queued++;
    return true;
}

static void
isub_free(struct nb_delivery *d, struct nb_isub *is)
{
    if (is->prev)
        is->prev->next = is->next;
    else
        d->isubs = is->next;
    if (is->next) is->next->prev = is->prev;
    free(is);
}

/* Pops one queued delivery and runs its callback; callbacks may queue more. */
static void
run_queued(struct nb_server *srv)
{
    struct nb_delivery *d = &srv->delivery;
    while (d->queued) {
        struct nb_queued *q = d->queued;
        d->queued = q->next;
        if (!d->queued) d->queued_tail = NULL;
        struct nb_isub *is = q->isub;
        is->queued--;
        if (!is->dead) is->cb(srv, &q->msg, is->ud);
        if (is->dead && is->queued == 0) isub_free(d, is);
    }
    queue_reset(d);
}

/* ---- the path ------------------------------------------------------------------------------------ */

/* Delivers to one subscription of any kind; false when it cannot take the message. */
static bool
deliver_sub(struct nb_server *srv, struct nb_conn *from, struct nb_sub *sub,
            const struct nb_msg *msg)
{
    struct nb_delivery *d = &srv->delivery;
    if (sub->max && sub->delivered >= sub->max) return false;
    bool taken;
    switch (sub->kind) {
    case NB_RECV_CLIENT:
        taken = deliver_client(from, sub, msg);
        break;
    case NB_RECV_ROUTE:
        taken = deliver_route(d, from, sub);
        break;
    default:
        taken = deliver_internal(d, sub, msg);
        break;
    }
    if (taken && ++sub->delivered == sub->max) defer_unsub(d, sub);
    return taken;
}

/*
 * No local member could take the message: one route, chosen in proportion to how many members each
 * peer has (the weight of its RS+), then the others in turn.
 */
static bool
deliver_remote_member(struct nb_server *srv, struct nb_conn *from, const struct nb_qgroup *g,
                      uint64_t total, const struct nb_msg *msg)
{
    uint64_t pick = nb__rand(srv) % total;
    uint32_t first = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        const struct nb_sub *sub = g->members[i];
        if (sub->kind != NB_RECV_ROUTE) continue;
        uint32_t w = ((const struct nb_rsub *)sub)->weight;
        if (pick < w) {
            first = i;
            break;
        }
        pick -= w;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        struct nb_sub *sub = g->members[(first + i) % g->n];
        if (sub->kind == NB_RECV_ROUTE && deliver_sub(srv, from, sub, msg)) return true;
    }
    return false;
}

/*
 * One member per group: a local one (client or internal) if any can take the message, starting at
 * a random member and moving on past any that cannot; only then a member on a route. nats-server
 * 2.9 picks uniformly among all members for a client's message; preferring local members keeps a
 * message off the network when this server can serve it.
 */
static bool
deliver_queue(struct nb_server *srv, struct nb_conn *from, const struct nb_qgroup *g,
              const struct nb_msg *msg)
{
    uint32_t start = (uint32_t)(nb__rand(srv) % g->n);
    uint64_t remote = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        struct nb_sub *sub = g->members[(start + i) % g->n];
        if (sub->kind == NB_RECV_ROUTE)
            remote += ((const struct nb_rsub *)sub)->weight;
        else if (deliver_sub(srv, from, sub, msg))
            return true;
    }
    return remote && deliver_remote_member(srv, from, g, remote, msg);
}

/* Whether a route's message names group g: only those are served here (spec 5.5). */
static bool
queue_listed(const struct nb_delivery *d, const struct nb_qgroup *g)
{
    struct np_rop names = {.queues = d->route_queues};
    struct np_str q;
    size_t pos = 0;
    while (np_rop_next_queue(&names, &pos, &q)) {
        if (q.len == g->name_len && memcmp(q.ptr, g->name, q.len) == 0) return true;
    }
    return false;
}

static void
remove_sub(struct nb_server *srv, struct nb_sub *sub)
{
    switch (sub->kind) {
    case NB_RECV_CLIENT:
        nb__client_unsub(sub->owner, sub);
        break;
    case NB_RECV_INTERNAL:
        nb_server_unsubscribe(srv, sub->owner);
        break;
    default:
        break; /* a route's interest is the route's to withdraw (RS-) */
    }
}

#define JS_ACK_PREFIX "$JS.ACK."

/*
 * The reply a route gets. A stream message delivered to a consumer's inbox keeps its stored
 * subject, so the inbox travels after its $JS.ACK reply as "<reply>@<inbox>", as nats-server
 * sends it; the receiving server matches the inbox (nb_route.c).
 */
static struct np_str
route_reply(struct nb_delivery *d, const char *to, size_t to_len, const struct nb_msg *msg)
{
    struct np_str reply = {msg->reply, msg->reply_len};
    size_t n = sizeof JS_ACK_PREFIX - 1;
    if ((to_len == msg->subject_len && memcmp(to, msg->subject, to_len) == 0) || reply.len <= n ||
        memcmp(reply.ptr, JS_ACK_PREFIX, n) != 0)
        return reply;
    d->reply_buf.len = 0;
    if (np_buf_add(&d->reply_buf, reply.ptr, reply.len) || np_buf_add(&d->reply_buf, "@", 1) ||
        np_buf_add(&d->reply_buf, to, to_len))
        return reply;
    return (struct np_str){d->reply_buf.ptr, d->reply_buf.len};
}

static void
finish(struct nb_server *srv, const char *to, size_t to_len, const struct nb_msg *msg)
{
    struct nb_delivery *d = &srv->delivery;
    struct np_str reply = d->ntargets ? route_reply(d, to, to_len, msg) : (struct np_str){0};
    for (size_t t = 0; t < d->ntargets; t++)
        write_route_msg(d, t, msg, reply);
    d->ntargets = d->nrqueues = 0;
    for (size_t i = 0; i < d->ndeferred; i++)
        remove_sub(srv, d->deferred_unsubs[i]);
    d->ndeferred = 0;
}

/* ---- acks ---------------------------------------------------------------------------------------- */

/* The ack subscription that alone receives msg, or NULL when msg must be matched. */
static struct nb_isub *
ack_receiver(struct nb_server *srv, const struct nb_account *acc, const struct nb_msg *msg)
{
    struct nb_delivery *d = &srv->delivery;
    size_t fam = sizeof JS_ACK_PREFIX - 1;
    if (d->depth || np_map_count(&d->acks) == 0 || msg->subject_len <= fam || acc != srv->gacc ||
        memcmp(msg->subject, JS_ACK_PREFIX, fam) != 0)
        return NULL;
    /* The prefix ends after the stream and consumer tokens. */
    const char *s = msg->subject + fam, *end = msg->subject + msg->subject_len;
    const char *dot = memchr(s, '.', (size_t)(end - s));
    dot = dot ? memchr(dot + 1, '.', (size_t)(end - dot - 1)) : NULL;
    if (!dot) return NULL;
    size_t plen = (size_t)(dot + 1 - msg->subject);
    struct nb_isub *is = np_map_get(&d->acks, msg->subject, plen);
    if (!is) return NULL;
    uint64_t gen = nb_sublist_generation(srv->sublist);
    if (is->gen != gen) {
        is->sole = nb_sublist_sole(srv->sublist, msg->subject, plen, &is->sub);
        is->gen = gen;
    }
    return is->sole ? is : NULL;
}

/* What nb__publish_to() does for a match of is alone, minus the copy: no walk is in progress. */
static size_t
deliver_ack(struct nb_server *srv, struct nb_isub *is, const struct nb_msg *msg)
{
    struct nb_delivery *d = &srv->delivery;
    d->depth++;
    is->sub.delivered++;
    is->cb(srv, msg, is->ud);
    if (d->queued) run_queued(srv);
    d->depth--;
    return 1;
}

int
nb__subscribe_acks(struct nb_server *srv, const char *subject, nb_msg_fn cb, void *ud,
                   struct nb_isub **out)
{
    size_t len = strlen(subject), fam = sizeof JS_ACK_PREFIX - 1;
    if (len < fam + 2 || memcmp(subject, JS_ACK_PREFIX, fam) != 0 ||
        memcmp(subject + len - 2, ".>", 2) != 0)
        return NB_ECONFIG;
    int rc = nb_server_subscribe(srv, subject, NULL, cb, ud, out);
    if (rc) return rc;
    struct nb_isub *is = *out;
    /* Without the map entry acks are still delivered, only through the match. */
    if (np_map_put(&srv->delivery.acks, is->sub.subject, len - 1, is) == 0) is->acks = true;
    return 0;
}

/* The account a publisher is in: a client's own, $G for the server. */
static struct nb_account *
account_of(struct nb_server *srv, struct nb_conn *from)
{
    return from && nb__conn_is_client(from) ? nb__client_of(from)->acc : srv->gacc;
}

size_t
nb__publish(struct nb_server *srv, struct nb_conn *from, const struct nb_msg *msg)
{
    struct nb_isub *ack = ack_receiver(srv, account_of(srv, from), msg);
    if (ack) return deliver_ack(srv, ack, msg);
    return nb__publish_to(srv, from, msg->subject, msg->subject_len, msg);
}

size_t
nb__publish_to(struct nb_server *srv, struct nb_conn *from, const char *to, size_t to_len,
               const struct nb_msg *msg)
{
    return nb__publish_in(srv, account_of(srv, from), from, to, to_len, msg);
}

size_t
nb__publish_in(struct nb_server *srv, struct nb_account *acc, struct nb_conn *from, const char *to,
               size_t to_len, const struct nb_msg *msg)
{
    struct nb_delivery *d = &srv->delivery;
    const struct nb_result *r = nb_sublist_match(nb__account_sublist(acc), to, to_len);
    size_t delivered = 0;
    struct nb_account *outer = d->acc;
    d->acc = acc;
    d->depth++;
    if (r) {
        for (uint32_t i = 0; i < r->npsubs; i++)
            delivered += deliver_sub(srv, from, r->psubs[i], msg);
        bool routed = r->nqgroups && from && !nb__conn_is_client(from);
        for (uint32_t i = 0; i < r->nqgroups; i++) {
            if (routed && !queue_listed(d, &r->qgroups[i])) continue;
            delivered += deliver_queue(srv, from, &r->qgroups[i], msg);
        }
    }
    if (d->ntargets || d->ndeferred) finish(srv, to, to_len, msg);
    if (delivered == 0 && msg->reply_len && from && nb__conn_is_client(from) &&
        nb__client_of(from)->no_responders)
        nb__client_no_responders(nb__client_of(from), msg);
    /* Only the outermost call runs callbacks; what they publish queues behind them. */
    if (d->depth == 1 && d->queued) run_queued(srv);
    d->depth--;
    d->acc = outer;
    return delivered;
}

size_t
nb__publish_routed(struct nb_server *srv, struct nb_account *acc, struct nb_conn *route,
                   const struct nb_msg *msg, struct np_str queues)
{
    struct nb_delivery *d = &srv->delivery;
    struct nb_msg m = *msg;
    const char *to = msg->subject;
    size_t to_len = msg->subject_len, n = sizeof JS_ACK_PREFIX - 1;
    if (m.reply_len > n && memcmp(m.reply, JS_ACK_PREFIX, n) == 0) {
        const char *at = m.reply + m.reply_len - 1;
        while (at > m.reply && *at != '@')
            at--;
        if (*at == '@' && at + 1 < m.reply + m.reply_len) {
            to = at + 1;
            to_len = (size_t)(m.reply + m.reply_len - to);
            m.reply_len = (size_t)(at - m.reply);
        }
    }
    d->route_queues = queues;
    size_t delivered = nb__publish_in(srv, acc, route, to, to_len, &m);
    d->route_queues = (struct np_str){0};
    return delivered;
}

void
nb__delivery_release(struct nb_delivery *d)
{
    d->queued = d->queued_tail = NULL;
    queue_reset(d);
    free(d->chunks);
    np_map_release(&d->acks);
    while (d->isubs)
        isub_free(d, d->isubs);
    free(d->deferred_unsubs);
    free(d->targets);
    free(d->rqueues);
    free(d->names);
    np_buf_release(&d->reply_buf);
    memset(d, 0, sizeof *d);
}

/* ---- the public API ------------------------------------------------------------------------------ */

int
nb_server_publish(struct nb_server *srv, const struct nb_msg *msg)
{
    if (!np_subject_valid_literal(msg->subject, msg->subject_len) || msg->hdr_len > msg->len)
        return NB_ECONFIG;
    return (int)nb__publish(srv, NULL, msg);
}

int
nb_server_deliver(struct nb_server *srv, const char *to, size_t to_len, const struct nb_msg *msg)
{
    if (!np_subject_valid_literal(to, to_len) || msg->hdr_len > msg->len) return NB_ECONFIG;
    return (int)nb__publish_to(srv, NULL, to, to_len, msg);
}

bool
nb_server_has_interest(struct nb_server *srv, const char *subject, size_t len)
{
    const struct nb_result *r = nb_sublist_match(srv->sublist, subject, len);
    return r && (r->npsubs || r->nqgroups);
}

int
nb_server_subscribe(struct nb_server *srv, const char *subject, const char *queue, nb_msg_fn cb,
                    void *ud, struct nb_isub **out)
{
    return nb__subscribe_in(srv, srv->gacc, subject, queue, cb, ud, out);
}

int
nb__subscribe_in(struct nb_server *srv, struct nb_account *acc, const char *subject,
                 const char *queue, nb_msg_fn cb, void *ud, struct nb_isub **out)
{
    size_t slen = strlen(subject), qlen = queue ? strlen(queue) : 0;
    if (!np_subject_valid(subject, slen) || (queue && !np_subject_valid_literal(queue, qlen)))
        return NB_ECONFIG;
    struct nb_isub *is = calloc(1, sizeof *is + slen + qlen + 2);
    if (!is) return NB_ENOMEM;
    char *p = (char *)(is + 1);
    is->sub = (struct nb_sub){.owner = is, .kind = NB_RECV_INTERNAL, .sid = ""};
    is->sub.subject = memcpy(p, subject, slen + 1);
    is->sub.subject_len = (uint32_t)slen;
    if (queue) is->sub.queue = memcpy(p + slen + 1, queue, qlen + 1);
    is->sub.queue_len = (uint32_t)qlen;
    is->cb = cb;
    is->ud = ud;
    is->acc = acc;
    int rc = nb_sublist_insert(nb__account_sublist(acc), &is->sub);
    if (rc != 0) {
        free(is);
        return NB_ENOMEM;
    }
    if (srv->cluster) nb__interest_add(srv, acc, &is->sub);
    struct nb_delivery *d = &srv->delivery;
    is->next = d->isubs;
    if (is->next) is->next->prev = is;
    d->isubs = is;
    *out = is;
    return 0;
}

void
nb_server_unsubscribe(struct nb_server *srv, struct nb_isub *is)
{
    if (is->dead) return;
    is->dead = true;
    if (srv->cluster) nb__interest_del(srv, is->acc, &is->sub);
    nb_sublist_remove(nb__account_sublist(is->acc), &is->sub);
    if (is->acks) np_map_del(&srv->delivery.acks, is->sub.subject, is->sub.subject_len - 1);
    if (is->queued == 0) isub_free(&srv->delivery, is);
}
