/*
 * Message delivery: the hot path from one PUB to every MSG it causes.
 *
 * For each receiver the MSG line is encoded straight into the tail of its outbound queue and the
 * payload copied after it; nothing is allocated once the chunk pool is warm, and the connection is
 * only put on the pending-flush list (the actual write happens once per loop iteration). The match
 * result belongs to the sublist and stays valid only until the next insert or remove, so
 * subscriptions that reach their auto-unsubscribe limit are removed after the loop, not in it.
 */
#include "nb_int.h"

#include <stdlib.h>
#include <string.h>

/* Room for "HMSG " + subject + sid + reply + two sizes + separators and CRLF. */
#define LINE_OVERHEAD 64

static const char no_responders_hdr[] = "NATS/1.0 503\r\n\r\n";

static void
defer_unsub(struct nb_server *srv, struct nb_sub *sub)
{
    if (srv->ndeferred == srv->deferred_cap) {
        size_t cap = srv->deferred_cap ? srv->deferred_cap * 2 : 16;
        struct nb_sub **p = realloc(srv->deferred_unsubs, cap * sizeof *p);
        if (!p) return; /* the sub stays, past its max it just receives nothing more */
        srv->deferred_unsubs = p;
        srv->deferred_cap = cap;
    }
    srv->deferred_unsubs[srv->ndeferred++] = sub;
}

static void
slow_consumer(struct nb_client *c)
{
    struct nb_server *srv = c->srv;
    nb__log(srv, NB_LOG_INFO, "%s - cid:%llu - Slow Consumer Detected: MaxPending of %lld Exceeded",
            c->ip, (unsigned long long)c->cid, (long long)srv->cfg.max_pending);
    srv->stats.slow_consumers++;
    nb__client_close(c, NB_CLOSE_SLOW_PENDING, false);
}

/* Queues one MSG/HMSG to c. Returns false when c could not take it. */
static bool
write_msg(struct nb_client *c, struct np_str subject, struct np_str sid, struct np_str reply,
          size_t hdr_len, struct np_str payload)
{
    struct nb_server *srv = c->srv;
    /* A client that did not ask for headers gets the body alone, as nats-server does. */
    if (hdr_len && !c->headers) {
        payload.ptr += hdr_len;
        payload.len -= hdr_len;
        hdr_len = 0;
    }
    size_t line_max = subject.len + sid.len + reply.len + LINE_OVERHEAD;
    bool inline_payload = payload.len + line_max <= NB_CHUNK_SIZE;
    char *dst = nb__outq_reserve(&c->out, &srv->pool,
                                 inline_payload ? line_max + payload.len + 2 : line_max);
    if (!dst) return false;
    size_t n = hdr_len ? np_enc_hmsg(dst, line_max, subject, sid, reply, hdr_len, payload.len)
                       : np_enc_msg(dst, line_max, subject, sid, reply, payload.len);
    if (inline_payload) {
        if (payload.len) memcpy(dst + n, payload.ptr, payload.len);
        memcpy(dst + n + payload.len, "\r\n", 2);
        nb__outq_commit(&c->out, n + payload.len + 2);
    } else {
        nb__outq_commit(&c->out, n);
        if (nb__outq_append(&c->out, &srv->pool, payload.ptr, payload.len) != 0 ||
            nb__outq_append(&c->out, &srv->pool, "\r\n", 2) != 0)
            return false;
    }
    c->out_msgs++;
    c->out_bytes += payload.len;
    srv->stats.out_msgs++;
    srv->stats.out_bytes += payload.len;
    nb__schedule_flush(c);
    if (c->out.pending > (uint64_t)srv->cfg.max_pending) slow_consumer(c);
    return true;
}

/* Delivers to one subscription; returns false when the subscription cannot take the message. */
static bool
deliver_sub(struct nb_client *from, struct nb_sub *sub, const struct np_op *op)
{
    struct nb_client *c = sub->client;
    if (c->closing || (c == from && !from->echo)) return false;
    if (sub->max && sub->delivered >= sub->max) return false;
    if (++sub->delivered == sub->max) defer_unsub(c->srv, sub);
    struct np_str sid = {sub->sid, sub->sid_len};
    if (!write_msg(c, op->subject, sid, op->reply, op->hdr_len, op->payload)) {
        nb__client_close(c, NB_CLOSE_NO_MEMORY, false);
        return false;
    }
    if (c != from && c->out.pending > (uint64_t)c->srv->cfg.max_pending / 2 && !c->closing)
        nb__client_stall(from);
    return true;
}

/* One member per group, starting at a random member and moving on past any that cannot take it. */
static bool
deliver_queue(struct nb_client *from, const struct nb_qgroup *g, const struct np_op *op)
{
    uint32_t start = (uint32_t)(nb__rand(from->srv) % g->n);
    for (uint32_t i = 0; i < g->n; i++) {
        if (deliver_sub(from, g->members[(start + i) % g->n], op)) return true;
    }
    return false;
}

/* Spec 2.6: a requester that asked for it hears at once that nobody is listening. */
static void
no_responders(struct nb_client *c, const struct np_op *op)
{
    size_t it = 0;
    const char *key;
    size_t klen;
    void *val;
    while (nb_map_next(&c->subs, &it, &key, &klen, &val)) {
        struct nb_sub *sub = val;
        if (sub->queue ||
            !np_subject_match(sub->subject, sub->subject_len, op->reply.ptr, op->reply.len))
            continue;
        struct np_str hdr = {no_responders_hdr, sizeof no_responders_hdr - 1};
        write_msg(c, op->reply, (struct np_str){sub->sid, sub->sid_len}, (struct np_str){0},
                  hdr.len, hdr);
        return;
    }
}

static void
run_deferred_unsubs(struct nb_server *srv)
{
    for (size_t i = 0; i < srv->ndeferred; i++) {
        struct nb_sub *sub = srv->deferred_unsubs[i];
        nb__sub_remove(sub->client, sub);
    }
    srv->ndeferred = 0;
}

size_t
nb__deliver(struct nb_client *from, const struct np_op *op)
{
    struct nb_server *srv = from->srv;
    const struct nb_result *r = nb_sublist_match(srv->sublist, op->subject.ptr, op->subject.len);
    size_t delivered = 0;
    if (r) {
        for (uint32_t i = 0; i < r->npsubs; i++)
            delivered += deliver_sub(from, r->psubs[i], op);
        for (uint32_t i = 0; i < r->nqgroups; i++)
            delivered += deliver_queue(from, &r->qgroups[i], op);
    }
    if (srv->ndeferred) run_deferred_unsubs(srv);
    if (delivered == 0 && op->reply.len && from->no_responders) no_responders(from, op);
    return delivered;
}
