/*
 * A consumer's cursor and delivery state (spec 4.2): the next stream sequence to examine (sseq),
 * the next delivery sequence (dseq), the pending deliveries waiting for an ack, the redelivery
 * queue, and the pull requests waiting for messages.
 *
 * Pending deliveries are kept three ways so that no operation scans them all: a map by stream
 * sequence (acks), a list in stream order (the ack floor is its head), and a list by due time
 * (redelivery pops its head). The server's 100 ms ticker drives redeliveries, pull request
 * expiries, heartbeats and the inactivity of ephemerals.
 */
#include "nb_consumer.h"
#include "nb_consumerstore.h"
#include "nb_deliver.h"
#include "nb_srv.h"
#include "np.h"
#include "np_time.h"
#include "np_units.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FC_WINDOW       (2u * 1024 * 1024) /* bytes delivered between flow-control requests */
#define MAX_ACK_SUBJECT 640
#define RUN_CLOCK       256  /* deliveries of a run that share one reading of the clocks */
#define MAX_FREE_PENDS  1024 /* recycled pending records: no allocation per delivery */

struct pend {
    uint64_t sseq, dseq, dc; /* dc: deliveries so far */
    uint64_t due_ms;
    struct pend *sprev, *snext; /* in stream order */
    struct pend *tprev, *tnext; /* by due time; not linked while queued for redelivery */
    struct pend *qnext;         /* the redelivery queue */
    bool queued;
    char key[8]; /* the map key: sseq */
};

struct waiting {
    struct waiting *next;
    uint64_t batch, max_bytes, sent, sent_bytes;
    uint64_t expires_ms, hb_ms, last_sent_ms;
    bool no_wait;
    size_t reply_len;
    char reply[];
};

struct nb_consumer {
    struct nb_consumer *next;
    struct nb_stream *st;
    struct nb_consumer_config cfg;
    int64_t created_ns;
    uint64_t sseq, dseq, npc; /* npc: messages not yet delivered once */
    uint64_t floor_s, floor_d;
    int64_t last_delivered_ns, last_ack_ns;
    struct np_map pend;
    struct pend *s_head, *s_tail, *t_head, *t_tail, *q_head, *q_tail;
    uint64_t nredelivered;
    uint64_t *lps; /* last_per_subject: the sequences still to deliver first */
    size_t nlps, ilps;
    struct waiting *w_head, *w_tail;
    size_t nwaiting;
    struct nb_isub *ack_sub, *fc_sub;
    uint64_t last_seen_ms; /* interest or a pull request, for inactive_threshold */
    uint64_t last_hb_ms;   /* push: the last delivery or heartbeat */
    uint64_t fc_bytes;
    char fc_subject[96]; /* the outstanding flow-control request, "" when none */
    char *ack_prefix;    /* "$JS.ACK.<stream>.<consumer>.", built once: it starts every reply */
    size_t ack_prefix_len;
    /* A run of deliveries (kick): the push target's interest and the clocks, read once per run
     * or per RUN_CLOCK deliveries rather than per message; nothing can change the interest
     * during a run, since what the deliveries trigger runs after it. */
    bool run_bound;
    unsigned run_left;
    uint64_t run_ms;
    int64_t run_ns;
    bool dirty;              /* durable state changed since it was saved */
    struct nb_cstore *cs;    /* where the durable state goes, NULL when it has none */
    struct pend *free_pends; /* linked by snext */
    size_t nfree_pends;
    /* replay original: until the cursor passes replay_until, deliveries keep the stored gaps */
    bool replaying;
    uint64_t replay_until;
    int64_t replay_last_ts; /* the stored time of the last delivery, 0 before the first */
    uint64_t replay_due_ms; /* when the held next delivery may go, 0 when none is held */
};

/* ---- small helpers ------------------------------------------------------------------------------ */

static struct nb_server *
server_of(const struct nb_consumer *c)
{
    return c->st->js->srv;
}

/*
 * The loop's time, refreshed: deadlines computed from the time cached at the start of a long
 * iteration would expire late, and clients that time out on their own (nats.c gives the server
 * its fetch timeout minus 10 ms) would see the 408 of a request they already gave up on.
 */
static uint64_t
now_ms(const struct nb_consumer *c)
{
    uv_update_time(server_of(c)->loop);
    return nb__now_ms(server_of(c));
}

static bool
acks_required(const struct nb_consumer *c)
{
    return c->cfg.ack_policy != NB_ACK_NONE;
}

static uint64_t
wait_ms_for(const struct nb_consumer *c, uint64_t dc)
{
    int64_t ns = c->cfg.ack_wait;
    if (c->cfg.nbackoff) {
        size_t i = dc ? dc - 1 : 0;
        ns = c->cfg.backoff[i < c->cfg.nbackoff ? i : c->cfg.nbackoff - 1];
    }
    return ns > 0 ? (uint64_t)(ns / 1000000) : 30000;
}

static bool
matches(const struct nb_consumer *c, const char *subject, size_t len)
{
    return nb_consumercfg_matches(&c->cfg, subject, len);
}

/* The store filter for nb_store_next: the one filter subject, or NULL (then check matches()). */
static const char *
store_filter(const struct nb_consumer *c)
{
    return c->cfg.nfilter_subjects ? NULL : c->cfg.filter_subject;
}

/* ---- pending deliveries -------------------------------------------------------------------------- */

static void
key_of(uint64_t seq, char key[8])
{
    memcpy(key, &seq, 8);
}

static struct pend *
pend_find(struct nb_consumer *c, uint64_t sseq)
{
    /* Acks mostly come in delivery order: the oldest pending one needs no lookup. */
    if (c->s_head && c->s_head->sseq == sseq) return c->s_head;
    char key[8];
    key_of(sseq, key);
    return np_map_get(&c->pend, key, 8);
}

static void
t_unlink(struct nb_consumer *c, struct pend *p)
{
    if (p->tprev)
        p->tprev->tnext = p->tnext;
    else if (c->t_head == p)
        c->t_head = p->tnext;
    if (p->tnext)
        p->tnext->tprev = p->tprev;
    else if (c->t_tail == p)
        c->t_tail = p->tprev;
    p->tprev = p->tnext = NULL;
}

/* Inserts by due time, from the tail: nearly every new due time is the latest. */
static void
t_insert(struct nb_consumer *c, struct pend *p)
{
    struct pend *after = c->t_tail;
    while (after && after->due_ms > p->due_ms)
        after = after->tprev;
    p->tprev = after;
    p->tnext = after ? after->tnext : c->t_head;
    if (p->tnext)
        p->tnext->tprev = p;
    else
        c->t_tail = p;
    if (after)
        after->tnext = p;
    else
        c->t_head = p;
    nb__js_wake_at(c->st->js, p->due_ms);
}

static void
q_push(struct nb_consumer *c, struct pend *p)
{
    t_unlink(c, p);
    p->queued = true;
    p->qnext = NULL;
    if (c->q_tail)
        c->q_tail->qnext = p;
    else
        c->q_head = p;
    c->q_tail = p;
}

static struct pend *
q_pop(struct nb_consumer *c)
{
    struct pend *p = c->q_head;
    if (!p) return NULL;
    c->q_head = p->qnext;
    if (!c->q_head) c->q_tail = NULL;
    p->queued = false;
    return p;
}

static void
q_remove(struct nb_consumer *c, struct pend *p)
{
    struct pend **pp = &c->q_head, *prev = NULL;
    while (*pp && *pp != p) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp) return;
    *pp = p->qnext;
    if (c->q_tail == p) c->q_tail = prev;
    p->queued = false;
}

/* The ack floor: everything below the oldest pending delivery is settled. */
static void
move_floor(struct nb_consumer *c)
{
    if (c->s_head) {
        c->floor_s = c->s_head->sseq - 1;
        c->floor_d = c->s_head->dseq - 1;
    } else {
        c->floor_s = c->sseq - 1;
        c->floor_d = c->dseq - 1;
    }
}

static void
pend_free(struct nb_consumer *c, struct pend *p)
{
    if (c->nfree_pends == MAX_FREE_PENDS) {
        free(p);
        return;
    }
    p->snext = c->free_pends;
    c->free_pends = p;
    c->nfree_pends++;
}

static struct pend *
pend_add(struct nb_consumer *c, uint64_t sseq, uint64_t dseq)
{
    struct pend *p = c->free_pends;
    if (p) {
        c->free_pends = p->snext;
        c->nfree_pends--;
        memset(p, 0, sizeof *p);
    } else if (!(p = calloc(1, sizeof *p))) {
        return NULL;
    }
    p->sseq = sseq;
    p->dseq = dseq;
    p->dc = 1;
    key_of(sseq, p->key);
    if (np_map_put(&c->pend, p->key, 8, p) != 0) {
        pend_free(c, p);
        return NULL;
    }
    p->sprev = c->s_tail;
    if (c->s_tail)
        c->s_tail->snext = p;
    else
        c->s_head = p;
    c->s_tail = p;
    return p;
}

static void
pend_drop(struct nb_consumer *c, struct pend *p)
{
    np_map_del(&c->pend, p->key, 8);
    if (p->queued)
        q_remove(c, p);
    else
        t_unlink(c, p);
    if (p->sprev)
        p->sprev->snext = p->snext;
    else
        c->s_head = p->snext;
    if (p->snext)
        p->snext->sprev = p->sprev;
    else
        c->s_tail = p->sprev;
    if (p->dc > 1 && c->nredelivered) c->nredelivered--;
    if (c->cs) nb__cstore_note_removal(c->cs, p->sseq);
    pend_free(c, p);
    c->dirty = true;
}

/* ---- status messages ------------------------------------------------------------------------------ */

/* An HMSG carrying only a header block, to subject to, with reply (may be empty). */
static void
send_status(struct nb_consumer *c, const char *to, size_t to_len, const char *reply,
            size_t reply_len, const char *hdr, size_t hdr_len)
{
    struct nb_msg m = {.subject = to,
                       .subject_len = to_len,
                       .reply = reply,
                       .reply_len = reply_len,
                       .data = hdr,
                       .hdr_len = hdr_len,
                       .len = hdr_len};
    nb_server_deliver(server_of(c), to, to_len, &m);
}

static void
send_pull_status(struct nb_consumer *c, const struct waiting *w, int code, const char *text,
                 bool pending)
{
    char hdr[256];
    int n = pending ? snprintf(hdr, sizeof hdr,
                               "NATS/1.0 %d %s\r\nNats-Pending-Messages: %" PRIu64
                               "\r\nNats-Pending-Bytes: %" PRIu64 "\r\n\r\n",
                               code, text, w->batch - w->sent,
                               w->max_bytes ? w->max_bytes - w->sent_bytes : 0)
                    : snprintf(hdr, sizeof hdr, "NATS/1.0 %d %s\r\n\r\n", code, text);
    send_status(c, w->reply, w->reply_len, NULL, 0, hdr, (size_t)n);
}

static void
send_heartbeat(struct nb_consumer *c, const char *to, size_t to_len)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr,
                     "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: %" PRIu64
                     "\r\nNats-Last-Stream: %" PRIu64 "\r\n%s%s%s\r\n",
                     c->dseq - 1, c->sseq - 1, c->fc_subject[0] ? "Nats-Consumer-Stalled: " : "",
                     c->fc_subject, c->fc_subject[0] ? "\r\n" : "");
    send_status(c, to, to_len, NULL, 0, hdr, (size_t)n);
}

/*
 * The advisories dead-letter handling listens for, as nats-server 2.9 marshals them: MAX_DELIVERIES
 * (max_deliver reached) and MSG_TERMINATED (+TERM, which also names the consumer sequence dseq).
 */
static void
advisory(struct nb_consumer *c, const char *kind, uint64_t sseq, uint64_t dseq, uint64_t dc)
{
    char subject[600], body[700], id[23], cseq[48] = "";
    np_rand_fill(&server_of(c)->rng, id, 22,
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    id[22] = '\0';
    char ts[NP_TIME_MAX];
    np_time_format(nb__wall_ns(), ts, sizeof ts);
    snprintf(subject, sizeof subject, "$JS.EVENT.ADVISORY.CONSUMER.%s.%s.%s", kind, c->st->cfg.name,
             c->cfg.name);
    bool term = strcmp(kind, "MSG_TERMINATED") == 0;
    if (term) snprintf(cseq, sizeof cseq, ",\"consumer_seq\":%" PRIu64, dseq);
    int n = snprintf(body, sizeof body,
                     "{\"type\":\"io.nats.jetstream.advisory.v1.%s\",\"id\":\"%s\",\"timestamp\":"
                     "\"%s\",\"stream\":\"%s\",\"consumer\":\"%s\"%s,\"stream_seq\":%" PRIu64
                     ",\"deliveries\":%" PRIu64 "}",
                     term ? "terminated" : "max_deliver", id, ts, c->st->cfg.name, c->cfg.name,
                     cseq, sseq, dc);
    struct nb_msg m = {
        .subject = subject, .subject_len = strlen(subject), .data = body, .len = (size_t)n};
    nb_server_publish(server_of(c), &m);
}

/* ---- delivery ------------------------------------------------------------------------------------ */

/* headers_only: the stored headers plus Nats-Msg-Size, no body. */
static bool
headers_only(const struct nb_store_msg *m, struct np_buf *b)
{
    char line[64];
    bool closed = m->hdr_len >= 4 && memcmp(m->hdr + m->hdr_len - 4, "\r\n\r\n", 4) == 0;
    int rc = closed ? np_buf_add(b, m->hdr, m->hdr_len - 2) : np_buf_adds(b, "NATS/1.0\r\n");
    snprintf(line, sizeof line, "Nats-Msg-Size: %zu\r\n\r\n", m->data_len);
    rc |= np_buf_adds(b, line);
    return rc == 0;
}

/* Sends one stored message to to, with the $JS.ACK reply that names this delivery. */
/*
 * "<prefix><delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>" into buf: the reply of
 * every delivery, so it is built without printf. A timestamp before 1970 shows as 0.
 */
static size_t
ack_reply(const struct nb_consumer *c, char *buf, uint64_t dc, uint64_t sseq, uint64_t dseq,
          int64_t ts)
{
    uint64_t fields[5] = {dc, sseq, dseq, ts > 0 ? (uint64_t)ts : 0, c->npc};
    memcpy(buf, c->ack_prefix, c->ack_prefix_len);
    size_t n = c->ack_prefix_len;
    for (size_t i = 0; i < 5; i++) {
        if (i) buf[n++] = '.';
        n += np_enc_u64(buf + n, fields[i]);
    }
    return n;
}

static bool
send_msg(struct nb_consumer *c, const char *to, size_t to_len, const struct nb_store_msg *m,
         uint64_t dc, uint64_t dseq)
{
    char reply[MAX_ACK_SUBJECT];
    size_t rn = ack_reply(c, reply, dc, m->seq, dseq, m->ts);
    struct nb_msg out = {
        .subject = m->subject, .subject_len = m->subject_len, .reply = reply, .reply_len = rn};
    struct np_buf b = {0};
    if (c->cfg.headers_only) {
        if (!headers_only(m, &b)) {
            np_buf_release(&b);
            return false;
        }
        out.data = b.ptr;
        out.hdr_len = out.len = b.len;
    } else if (m->hdr_len && m->hdr + m->hdr_len == m->data) {
        out.data = m->hdr;
        out.hdr_len = m->hdr_len;
        out.len = m->hdr_len + m->data_len;
    } else if (m->hdr_len) {
        if (np_buf_add(&b, m->hdr, m->hdr_len) || np_buf_add(&b, m->data, m->data_len)) {
            np_buf_release(&b);
            return false;
        }
        out.data = b.ptr;
        out.hdr_len = m->hdr_len;
        out.len = b.len;
    } else {
        out.data = m->data;
        out.len = m->data_len;
    }
    nb_server_deliver(server_of(c), to, to_len, &out);
    np_buf_release(&b);
    c->fc_bytes += out.len;
    c->last_delivered_ns = c->run_ns;
    c->last_hb_ms = c->run_ms;
    return true;
}

/* The next first delivery: the last_per_subject list, then the stream from sseq. */
static bool
next_new(struct nb_consumer *c, struct nb_store_msg *m)
{
    struct nb_store *store = c->st->store;
    while (c->ilps < c->nlps) {
        if (nb_store_get(store, c->lps[c->ilps++], m) == 0) return true;
    }
    while (nb_store_next(store, c->sseq, store_filter(c), m) == 0) {
        c->sseq = m->seq + 1;
        if (matches(c, m->subject, m->subject_len)) return true;
    }
    return false;
}

/* Where the next message goes: the deliver subject, or the oldest live pull request. */
static struct waiting *
next_request(struct nb_consumer *c)
{
    while (c->w_head) {
        struct waiting *w = c->w_head;
        if (nb_server_has_interest(server_of(c), w->reply, w->reply_len)) return w;
        c->w_head = w->next;
        if (!c->w_head) c->w_tail = NULL;
        c->nwaiting--;
        free(w);
    }
    return NULL;
}

static void
drop_request(struct nb_consumer *c, struct waiting *w)
{
    struct waiting **pp = &c->w_head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = w->next;
    if (c->w_tail == w) c->w_tail = prev;
    c->nwaiting--;
    free(w);
}

static bool
can_push(struct nb_consumer *c)
{
    return !c->fc_subject[0] && c->run_bound;
}

static void
run_clock(struct nb_consumer *c)
{
    if (c->run_left--) return;
    c->run_left = RUN_CLOCK - 1;
    c->run_ms = now_ms(c);
    c->run_ns = nb__js_coarse_ns();
}

static void request_flow_control(struct nb_consumer *c);
static void retire(struct nb_consumer *c, uint64_t sseq);

/* After a delivery to w: a pull request whose batch is done leaves the queue. */
static void
request_sent(struct nb_consumer *c, struct waiting *w, size_t bytes)
{
    w->sent++;
    w->sent_bytes += bytes;
    w->last_sent_ms = c->run_ms;
    if (w->sent >= w->batch) drop_request(c, w);
}

static void
q_push_front(struct nb_consumer *c, struct pend *p)
{
    p->queued = true;
    p->qnext = c->q_head;
    c->q_head = p;
    if (!c->q_tail) c->q_tail = p;
}

/*
 * A pull request's byte budget (max_bytes) cannot take m: the request ends with 409 and the
 * message waits for the next one.
 */
static bool
over_budget(struct nb_consumer *c, struct waiting *w, const struct nb_store_msg *m)
{
    uint64_t size = m->subject_len + m->hdr_len + m->data_len;
    if (!w->max_bytes || w->sent_bytes + size <= w->max_bytes) return false;
    send_pull_status(c, w, 409, "Message Size Exceeds MaxBytes", true);
    drop_request(c, w);
    return true;
}

/*
 * replay_policy original (nats-server's loopAndGatherMsgs): a delivery waits for the gap between
 * its stored time and the previous delivery's, counted from when it was first picked. The wait is
 * an event timer, not a sleep; the message stays where it was until the timer comes. Returns
 * whether m must wait; otherwise m's time becomes the reference for the next one.
 */
static bool
replay_hold(struct nb_consumer *c, const struct nb_store_msg *m)
{
    if (!c->replaying) return false;
    int64_t gap = c->replay_last_ts ? m->ts - c->replay_last_ts : 0;
    uint64_t now = now_ms(c);
    if (gap > 1000000 && !c->replay_due_ms)
        c->replay_due_ms = now + (uint64_t)(gap + 999999) / 1000000;
    if (c->replay_due_ms > now) {
        nb__js_wake_at(c->st->js, c->replay_due_ms);
        return true;
    }
    c->replay_due_ms = 0;
    c->replay_last_ts = m->ts;
    return false;
}

/* At creation and at a restart, as nats-server when a consumer's delivery loop starts. */
static void
replay_start(struct nb_consumer *c)
{
    if (c->cfg.replay_policy != NB_REPLAY_ORIGINAL) return;
    struct nb_store_state s;
    nb_store_state(c->st->store, &s);
    c->replaying = true;
    c->replay_until = s.last_seq;
}

/* Delivers one message; returns false when nothing more can go out now. */
static bool
deliver_next(struct nb_consumer *c)
{
    struct waiting *w = NULL;
    if (c->cfg.deliver_subject) {
        if (!can_push(c)) return false;
    } else if (!(w = next_request(c))) {
        return false;
    }
    const char *to = w ? w->reply : c->cfg.deliver_subject;
    size_t to_len = w ? w->reply_len : strlen(c->cfg.deliver_subject);
    struct nb_store_msg m;
    struct pend *p;
    run_clock(c);
    while ((p = q_pop(c))) {
        if (nb_store_get(c->st->store, p->sseq, &m) != 0) {
            pend_drop(c, p);
            continue;
        }
        if (w && over_budget(c, w, &m)) {
            q_push_front(c, p);
            return true;
        }
        if (replay_hold(c, &m)) {
            q_push_front(c, p);
            return false;
        }
        if (p->dc == 1) c->nredelivered++;
        p->dc++;
        p->dseq = c->dseq++;
        p->due_ms = c->run_ms + wait_ms_for(c, p->dc);
        t_insert(c, p);
        if (c->cs) nb__cstore_note_delivery(c->cs, p->sseq, p->dseq, p->dc);
        send_msg(c, to, to_len, &m, p->dc, p->dseq);
        if (w) request_sent(c, w, m.subject_len + m.hdr_len + m.data_len);
        c->dirty = true;
        return true;
    }
    if (acks_required(c) && c->cfg.max_ack_pending > 0 &&
        np_map_count(&c->pend) >= (size_t)c->cfg.max_ack_pending)
        return false;
    uint64_t was_sseq = c->sseq;
    size_t was_ilps = c->ilps;
    if (!next_new(c, &m)) return false;
    bool budget = w && over_budget(c, w, &m);
    if (budget || replay_hold(c, &m)) {
        c->sseq = was_sseq; /* not delivered: the next request or the replay timer gets it */
        c->ilps = was_ilps;
        return budget;
    }
    if (c->npc) c->npc--;
    uint64_t dseq = c->dseq++;
    if (acks_required(c)) {
        p = pend_add(c, m.seq, dseq);
        if (p) {
            p->due_ms = c->run_ms + wait_ms_for(c, 1);
            t_insert(c, p);
            if (c->cs) nb__cstore_note_delivery(c->cs, p->sseq, dseq, 1);
        }
    }
    uint64_t sseq = m.seq;
    send_msg(c, to, to_len, &m, 1, dseq);
    if (!acks_required(c)) {
        move_floor(c);
        retire(c, sseq);
    }
    if (w) request_sent(c, w, m.subject_len + m.hdr_len + m.data_len);
    c->dirty = true;
    return true;
}

/*
 * no_wait requests end once nothing more can go out now (nats-server's processWaiting after a
 * run): 408 with what is left of the batch when they got something, 404 when they got nothing and
 * have no expiry to wait for. A delivery held by replay original is as good as on its way.
 */
static void
end_no_wait(struct nb_consumer *c)
{
    if (c->replay_due_ms) return;
    struct waiting *w = c->w_head;
    while (w) {
        struct waiting *next = w->next;
        if (w->no_wait && w->sent) {
            send_pull_status(c, w, 408, "Request Timeout", true);
            drop_request(c, w);
        } else if (w->no_wait && !w->expires_ms) {
            send_pull_status(c, w, 404, "No Messages", false);
            drop_request(c, w);
        }
        w = next;
    }
}

static void
kick(struct nb_consumer *c)
{
    c->run_bound = nb__consumer_bound(c);
    c->run_left = 0;
    while (deliver_next(c)) {
        if (c->cfg.flow_control && c->fc_bytes >= FC_WINDOW) {
            request_flow_control(c);
            break;
        }
    }
    /* As nats-server, replay ends once the consumer waits with the stream's start-time last
     * message behind it: later messages go out as they come. */
    if (c->replaying && !c->replay_due_ms && c->sseq > c->replay_until) c->replaying = false;
    end_no_wait(c);
}

void
nb__consumers_kick(struct nb_stream *st)
{
    for (struct nb_consumer *c = st->consumers; c; c = c->next)
        kick(c);
}

/* ---- flow control -------------------------------------------------------------------------------- */

static void
request_flow_control(struct nb_consumer *c)
{
    char rnd[5];
    np_rand_fill(&server_of(c)->rng, rnd, 4, "abcdefghijklmnopqrstuvwxyz0123456789");
    rnd[4] = '\0';
    snprintf(c->fc_subject, sizeof c->fc_subject, "$JS.FC.%s.%s.%s", c->st->cfg.name, c->cfg.name,
             rnd);
    static const char hdr[] = "NATS/1.0 100 FlowControl Request\r\n\r\n";
    send_status(c, c->cfg.deliver_subject, strlen(c->cfg.deliver_subject), c->fc_subject,
                strlen(c->fc_subject), hdr, sizeof hdr - 1);
}

static void
on_flow_control(struct nb_server *srv, const struct nb_msg *msg, void *ud)
{
    (void)srv;
    struct nb_consumer *c = ud;
    if (!c->fc_subject[0] || strlen(c->fc_subject) != msg->subject_len ||
        memcmp(c->fc_subject, msg->subject, msg->subject_len) != 0)
        return;
    c->fc_subject[0] = '\0';
    c->fc_bytes = 0;
    kick(c);
}

/* ---- acks ---------------------------------------------------------------------------------------- */

/* A message every consumer is done with leaves an interest or work-queue stream. */
static void
retire(struct nb_consumer *c, uint64_t sseq)
{
    struct nb_stream *st = c->st;
    if (st->cfg.retention == NB_RETENTION_LIMITS) return;
    struct nb_store_msg m;
    if (nb_store_get(st->store, sseq, &m) != 0) return;
    if (st->cfg.retention == NB_RETENTION_INTEREST &&
        nb__consumers_want(st, sseq, m.subject, m.subject_len))
        return;
    if (nb_store_remove(st->store, sseq, NB_RM_DURABLE) != 0) nb__stream_undone(st);
    st->dirty = true;
}

static void
ack_one(struct nb_consumer *c, struct pend *p)
{
    uint64_t sseq = p->sseq;
    pend_drop(c, p);
    c->last_ack_ns = nb__js_coarse_ns();
    move_floor(c);
    retire(c, sseq);
}

static void
ack_upto(struct nb_consumer *c, uint64_t sseq)
{
    while (c->s_head && c->s_head->sseq <= sseq)
        ack_one(c, c->s_head);
}

/* -NAK {"delay":ns} or -NAK <duration>: redeliver after the delay, or as soon as possible. */
static uint64_t
nak_delay_ms(const char *arg, size_t len)
{
    while (len && (*arg == ' ')) {
        arg++;
        len--;
    }
    if (!len) return 0;
    int64_t ns = 0;
    if (arg[0] == '{') {
        cJSON *j = cJSON_ParseWithLength(arg, len);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delay");
        if (cJSON_IsNumber(d) && d->valuedouble > 0) ns = (int64_t)d->valuedouble;
        cJSON_Delete(j);
    } else if (np_duration_parse(arg, len, &ns) != 0) {
        ns = 0;
    }
    return ns > 0 ? (uint64_t)(ns / 1000000) : 0;
}

static void
nak(struct nb_consumer *c, struct pend *p, uint64_t delay_ms)
{
    if (p->queued) return;
    if (!delay_ms) {
        q_push(c, p);
        kick(c);
        return;
    }
    t_unlink(c, p);
    p->due_ms = now_ms(c) + delay_ms;
    t_insert(c, p);
}

static bool
is_cmd(const char *data, size_t len, const char *cmd)
{
    size_t n = strlen(cmd);
    return len >= n && memcmp(data, cmd, n) == 0 && (len == n || data[n] == ' ');
}

struct ack_info {
    uint64_t dc, sseq, dseq;
};

static bool
parse_u64(struct np_str t, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < t.len; i++) {
        if (t.ptr[i] < '0' || t.ptr[i] > '9') return false;
        v = v * 10 + (uint64_t)(t.ptr[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses the numbers of $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>. */
/* The subscription guarantees the prefix: only the five numbers after it are read. */
static bool
parse_ack(const struct nb_consumer *c, const struct nb_msg *msg, struct ack_info *a)
{
    struct np_str tok[6];
    if (msg->subject_len <= c->ack_prefix_len) return false;
    int n = np_subject_tokens(msg->subject + c->ack_prefix_len,
                              msg->subject_len - c->ack_prefix_len, tok, 6);
    return n == 5 && parse_u64(tok[0], &a->dc) && parse_u64(tok[1], &a->sseq) &&
           parse_u64(tok[2], &a->dseq);
}

static void pull_request(struct nb_consumer *c, const char *reply, size_t reply_len,
                         const char *body, size_t len);

static void
on_ack(struct nb_server *srv, const struct nb_msg *msg, void *ud)
{
    struct nb_consumer *c = ud;
    struct ack_info a;
    if (!parse_ack(c, msg, &a)) return;
    uint64_t sseq = a.sseq;
    const char *d = msg->data + msg->hdr_len;
    size_t len = msg->len - msg->hdr_len;
    struct pend *p = pend_find(c, sseq);
    bool next = is_cmd(d, len, "+NXT"), term = is_cmd(d, len, "+TERM"), settled = false;
    if (len == 0 || is_cmd(d, len, "+ACK") || is_cmd(d, len, "+OK") || next || term) {
        /* +TERM settles like an ack; as nats-server, its advisory goes out even when the
         * message was no longer pending */
        settled = !term || p || c->cfg.ack_policy == NB_ACK_ALL;
        if (c->cfg.ack_policy == NB_ACK_ALL)
            ack_upto(c, sseq);
        else if (p)
            ack_one(c, p);
        if (term) advisory(c, "MSG_TERMINATED", sseq, a.dseq, a.dc);
    } else if (is_cmd(d, len, "-NAK")) {
        if (p) nak(c, p, nak_delay_ms(d + 4, len - 4));
    } else if (is_cmd(d, len, "+WPI")) {
        if (p && !p->queued) {
            t_unlink(c, p);
            p->due_ms = now_ms(c) + wait_ms_for(c, p->dc);
            t_insert(c, p);
        }
    } else {
        return;
    }
    if (next && msg->reply_len) {
        pull_request(c, msg->reply, msg->reply_len, d + 4, len > 4 ? len - 4 : 0);
    } else if (msg->reply_len) {
        /* The confirmation promises the ack outlives a crash: it is logged first. */
        if (settled && c->cs) nb__cstore_sync(c->cs, c);
        struct nb_msg empty = {.subject = msg->reply, .subject_len = msg->reply_len};
        nb_server_publish(srv, &empty);
    }
    kick(c);
}

/* ---- pull requests ------------------------------------------------------------------------------- */

struct pull_opts {
    uint64_t batch, max_bytes;
    int64_t expires, hb;
    bool no_wait;
};

/* Body: empty (batch 1), a bare integer (the batch), or a JSON object. */
static bool
parse_pull(const char *body, size_t len, struct pull_opts *o, const char **why)
{
    *o = (struct pull_opts){.batch = 1};
    while (len && strchr(" \t\r\n", body[len - 1]))
        len--;
    if (!len) return true;
    cJSON *j = cJSON_ParseWithLength(body, len);
    bool ok = j != NULL;
    if (cJSON_IsNumber(j)) {
        o->batch = j->valuedouble >= 1 ? (uint64_t)j->valuedouble : 1;
    } else if (cJSON_IsObject(j)) {
        const cJSON *v;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "batch")) && v->valuedouble >= 1)
            o->batch = (uint64_t)v->valuedouble;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "expires")) &&
            v->valuedouble > 0)
            o->expires = (int64_t)v->valuedouble;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "max_bytes")) &&
            v->valuedouble > 0)
            o->max_bytes = (uint64_t)v->valuedouble;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "idle_heartbeat")) &&
            v->valuedouble > 0)
            o->hb = (int64_t)v->valuedouble;
        o->no_wait = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "no_wait"));
    } else {
        ok = false;
    }
    cJSON_Delete(j);
    if (!ok) *why = "Bad Request - malformed request";
    if (ok && o->hb && o->expires && o->hb * 2 > o->expires) {
        *why = "Bad Request - heartbeat value too large";
        ok = false;
    }
    return ok;
}

static bool
check_pull_limits(struct nb_consumer *c, const struct pull_opts *o, char *why, size_t cap)
{
    if (c->cfg.max_batch > 0 && o->batch > (uint64_t)c->cfg.max_batch) {
        snprintf(why, cap, "Exceeded MaxRequestBatch of %" PRId64, c->cfg.max_batch);
        return false;
    }
    if (c->cfg.max_expires > 0 && o->expires > c->cfg.max_expires) {
        char d[32];
        snprintf(d, sizeof d, "%" PRId64 "ms", c->cfg.max_expires / 1000000);
        snprintf(why, cap, "Exceeded MaxRequestExpires of %s", d);
        return false;
    }
    if (c->cfg.max_request_max_bytes > 0 && o->max_bytes > (uint64_t)c->cfg.max_request_max_bytes) {
        snprintf(why, cap, "Exceeded MaxRequestMaxBytes of %" PRId64, c->cfg.max_request_max_bytes);
        return false;
    }
    return true;
}

static void
pull_request(struct nb_consumer *c, const char *reply, size_t reply_len, const char *body,
             size_t len)
{
    struct pull_opts o;
    const char *bad = NULL;
    char why[96];
    c->last_seen_ms = now_ms(c);
    struct waiting *w = calloc(1, sizeof *w + reply_len + 1);
    if (!w) return;
    memcpy(w->reply, reply, reply_len);
    w->reply_len = reply_len;
    if (c->cfg.deliver_subject) {
        send_pull_status(c, w, 409, "Consumer is push based", false);
    } else if (!parse_pull(body, len, &o, &bad)) {
        send_pull_status(c, w, 400, bad, false);
    } else if (!check_pull_limits(c, &o, why, sizeof why)) {
        send_pull_status(c, w, 409, why, false);
    } else if (c->cfg.max_waiting > 0 && c->nwaiting >= (size_t)c->cfg.max_waiting) {
        if (!o.hb) send_pull_status(c, w, 409, "Exceeded MaxWaiting", false);
    } else {
        w->batch = o.batch;
        w->max_bytes = o.max_bytes;
        w->no_wait = o.no_wait;
        w->expires_ms = o.expires ? now_ms(c) + (uint64_t)(o.expires / 1000000) : 0;
        w->hb_ms = o.hb ? (uint64_t)(o.hb / 1000000) : 0;
        w->last_sent_ms = now_ms(c);
        if (w->expires_ms) nb__js_wake_at(c->st->js, w->expires_ms);
        if (w->hb_ms) nb__js_wake_at(c->st->js, w->last_sent_ms + w->hb_ms);
        if (c->w_tail)
            c->w_tail->next = w;
        else
            c->w_head = w;
        c->w_tail = w;
        c->nwaiting++;
        kick(c);
        return;
    }
    free(w);
}

void
nb__consumer_pull(struct nb_consumer *c, const struct nb_msg *req)
{
    pull_request(c, req->reply, req->reply_len, req->data + req->hdr_len, req->len - req->hdr_len);
}

/* ---- the ticker --------------------------------------------------------------------------------- */

static void
expire_pending(struct nb_consumer *c, uint64_t now)
{
    while (c->t_head && c->t_head->due_ms <= now) {
        struct pend *p = c->t_head;
        if (c->cfg.max_deliver > 0 && p->dc >= (uint64_t)c->cfg.max_deliver) {
            uint64_t sseq = p->sseq, dc = p->dc;
            pend_drop(c, p);
            move_floor(c);
            advisory(c, "MAX_DELIVERIES", sseq, 0, dc);
            continue;
        }
        q_push(c, p);
    }
    if (c->t_head) nb__js_wake_at(c->st->js, c->t_head->due_ms);
}

static void
tick_requests(struct nb_consumer *c, uint64_t now)
{
    struct waiting *w = c->w_head;
    while (w) {
        struct waiting *next = w->next;
        if (w->expires_ms && now >= w->expires_ms) {
            send_pull_status(c, w, 408, "Request Timeout", true);
            drop_request(c, w);
        } else if (w->hb_ms && now - w->last_sent_ms >= w->hb_ms) {
            send_heartbeat(c, w->reply, w->reply_len);
            w->last_sent_ms = now;
        }
        w = next;
    }
    for (w = c->w_head; w; w = w->next) {
        if (w->expires_ms) nb__js_wake_at(c->st->js, w->expires_ms);
        if (w->hb_ms) nb__js_wake_at(c->st->js, w->last_sent_ms + w->hb_ms);
    }
}

/* Ephemerals go after inactive_threshold without interest (push) or pull requests (pull). */
static bool
inactive(struct nb_consumer *c, uint64_t now)
{
    bool active = c->cfg.deliver_subject ? nb__consumer_bound(c) : c->nwaiting > 0;
    if (active || !c->last_seen_ms) c->last_seen_ms = now;
    if (c->cfg.inactive_threshold <= 0) return false;
    return now - c->last_seen_ms >= (uint64_t)(c->cfg.inactive_threshold / 1000000);
}

void
nb__consumers_tick(struct nb_stream *st, uint64_t now)
{
    struct nb_consumer *c = st->consumers;
    while (c) {
        struct nb_consumer *next = c->next;
        if (inactive(c, now)) {
            nb__consumer_delete(c, true);
            c = next;
            continue;
        }
        expire_pending(c, now);
        tick_requests(c, now);
        kick(c);
        if (c->cfg.deliver_subject && c->cfg.idle_heartbeat > 0 &&
            now - c->last_hb_ms >= (uint64_t)(c->cfg.idle_heartbeat / 1000000) &&
            nb__consumer_bound(c)) {
            send_heartbeat(c, c->cfg.deliver_subject, strlen(c->cfg.deliver_subject));
            c->last_hb_ms = now;
        }
        c = next;
    }
}

/* ---- creation ------------------------------------------------------------------------------------ */

struct last_ctx {
    const struct nb_consumer *c;
    uint64_t max;
    uint64_t *seqs;
    size_t n, cap;
    bool ok;
};

static bool
collect_last(void *ud, const char *subject, size_t len, const struct nb_store_subject *s)
{
    struct last_ctx *x = ud;
    if (!matches(x->c, subject, len)) return true;
    if (s->last > x->max) x->max = s->last;
    if (!x->seqs && x->cap == 0) return true; /* only the maximum is wanted */
    if (x->n == x->cap) {
        size_t cap = x->cap * 2;
        uint64_t *v = realloc(x->seqs, cap * sizeof *v);
        if (!v) return x->ok = false;
        x->seqs = v;
        x->cap = cap;
    }
    x->seqs[x->n++] = s->last;
    return true;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Counts the messages from sseq on that the consumer will deliver the first time. */
static uint64_t
count_from(struct nb_consumer *c, uint64_t seq)
{
    if (!c->cfg.nfilter_subjects) return nb_store_count(c->st->store, seq, c->cfg.filter_subject);
    struct nb_store_msg m;
    uint64_t n = 0;
    while (nb_store_next(c->st->store, seq, store_filter(c), &m) == 0) {
        if (matches(c, m.subject, m.subject_len)) n++;
        seq = m.seq + 1;
    }
    return n;
}

/* spec 4.2, selecting the starting sequence. */
static bool
set_start(struct nb_consumer *c)
{
    struct nb_store_state s;
    nb_store_state(c->st->store, &s);
    uint64_t first = s.msgs ? s.first_seq : s.last_seq + 1;
    struct last_ctx x = {.c = c, .ok = true};
    switch (c->cfg.deliver_policy) {
    case NB_DELIVER_ALL:
        c->sseq = first;
        break;
    case NB_DELIVER_NEW:
        c->sseq = s.last_seq + 1;
        break;
    case NB_DELIVER_LAST:
        nb_store_each_subject(c->st->store, NULL, collect_last, &x);
        c->sseq = x.max ? x.max : s.last_seq + 1;
        break;
    case NB_DELIVER_BY_START_SEQUENCE:
        c->sseq = c->cfg.opt_start_seq < first ? first : c->cfg.opt_start_seq;
        break;
    case NB_DELIVER_BY_START_TIME: {
        uint64_t at = nb__stream_seq_at_time(c->st, c->cfg.opt_start_time);
        c->sseq = at ? at : s.last_seq + 1;
        break;
    }
    case NB_DELIVER_LAST_PER_SUBJECT:
        x.cap = 16;
        x.seqs = malloc(x.cap * sizeof *x.seqs);
        if (!x.seqs) return false;
        nb_store_each_subject(c->st->store, NULL, collect_last, &x);
        if (!x.ok) {
            free(x.seqs);
            return false;
        }
        qsort(x.seqs, x.n, sizeof *x.seqs, cmp_u64);
        c->lps = x.seqs;
        c->nlps = x.n;
        c->sseq = s.last_seq + 1;
        break;
    }
    c->dseq = 1;
    c->npc = c->nlps + count_from(c, c->sseq);
    /* A fresh consumer reports delivered.stream_seq = sseq - 1 (spec 4.2). */
    if (c->nlps) c->sseq = c->lps[0];
    move_floor(c);
    if (c->nlps) c->sseq = s.last_seq + 1;
    return true;
}

static int
subscribe_acks(struct nb_consumer *c)
{
    char subject[600];
    int n = snprintf(subject, sizeof subject, "$JS.ACK.%s.%s.", c->st->cfg.name, c->cfg.name);
    /* Names are bounded by the config checks, so that the numbers always fit after them. */
    if (n < 0 || (size_t)n + 5 * (NP_U64_DIGITS + 1) > MAX_ACK_SUBJECT ||
        !(c->ack_prefix = strndup(subject, (size_t)n)))
        return NB_ENOMEM;
    c->ack_prefix_len = (size_t)n;
    strcat(subject, ">");
    int rc = nb__subscribe_acks(server_of(c), subject, on_ack, c, &c->ack_sub);
    if (rc || !c->cfg.flow_control) return rc;
    snprintf(subject, sizeof subject, "$JS.FC.%s.%s.*", c->st->cfg.name, c->cfg.name);
    return nb_server_subscribe(server_of(c), subject, NULL, on_flow_control, c, &c->fc_sub);
}

static void
free_consumer(struct nb_consumer *c)
{
    nb__cstore_free(c->cs);
    c->cs = NULL;
    if (c->ack_sub) nb_server_unsubscribe(server_of(c), c->ack_sub);
    if (c->fc_sub) nb_server_unsubscribe(server_of(c), c->fc_sub);
    while (c->s_head)
        pend_drop(c, c->s_head);
    while (c->free_pends) {
        struct pend *p = c->free_pends;
        c->free_pends = p->snext;
        free(p);
    }
    np_map_release(&c->pend);
    while (c->w_head)
        drop_request(c, c->w_head);
    free(c->lps);
    free(c->ack_prefix);
    nb_consumercfg_release(&c->cfg);
    free(c);
}

static struct nb_consumer *
consumer_new(struct nb_stream *st, const struct nb_consumer_config *cfg, int64_t created_ns)
{
    struct nb_consumer *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->st = st;
    c->created_ns = created_ns;
    if (nb_consumercfg_copy(&c->cfg, cfg) != 0) {
        free(c);
        return NULL;
    }
    if (nb__cstore_new(c, &c->cs) != 0 || subscribe_acks(c) != 0) {
        free_consumer(c);
        return NULL;
    }
    c->last_seen_ms = now_ms(c);
    c->last_hb_ms = now_ms(c);
    replay_start(c);
    c->next = st->consumers;
    st->consumers = c;
    return c;
}

int
nb__consumer_create(struct nb_stream *st, const struct nb_consumer_config *cfg,
                    struct nb_consumer **out, struct nb_jserr *err)
{
    struct nb_consumer *c = consumer_new(st, cfg, nb__wall_ns());
    if (!c || !set_start(c)) {
        if (c) nb__consumer_delete(c, true);
        nb_jserr_set(err, NB_JSERR_CONSUMER_CREATE, "out of memory");
        return -1;
    }
    nb__cstore_save_config(c);
    c->dirty = true;
    *out = c;
    return 0;
}

struct nb_consumer *
nb__consumer_find(struct nb_stream *st, const char *name, size_t len)
{
    for (struct nb_consumer *c = st->consumers; c; c = c->next) {
        if (strlen(c->cfg.name) == len && memcmp(c->cfg.name, name, len) == 0) return c;
    }
    return NULL;
}

struct nb_consumer *
nb__consumer_next(const struct nb_consumer *c)
{
    return c->next;
}

const struct nb_consumer_config *
nb__consumer_config(const struct nb_consumer *c)
{
    return &c->cfg;
}

bool
nb__consumer_bound(const struct nb_consumer *c)
{
    const char *d = c->cfg.deliver_subject;
    return d && nb_server_has_interest(server_of(c), d, strlen(d));
}

int
nb__consumer_update(struct nb_consumer *c, const struct nb_consumer_config *cfg,
                    struct nb_jserr *err)
{
    struct nb_consumer_config copy;
    if (nb_consumercfg_copy(&copy, cfg) != 0) {
        nb_jserr_set(err, NB_JSERR_CONSUMER_CREATE, "out of memory");
        return -1;
    }
    nb_consumercfg_release(&c->cfg);
    c->cfg = copy;
    nb__cstore_save_config(c);
    kick(c);
    return 0;
}

void
nb__consumer_delete(struct nb_consumer *c, bool forget)
{
    struct nb_stream *st = c->st;
    for (struct nb_consumer **pp = &st->consumers; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    for (struct waiting *w = c->w_head; w; w = w->next)
        send_pull_status(c, w, 409, "Consumer Deleted", false);
    if (forget) nb__cstore_remove(c);
    free_consumer(c);
}

/* ---- info ---------------------------------------------------------------------------------------- */

static bool
add_seq_info(cJSON *o, const char *key, uint64_t dseq, uint64_t sseq, int64_t active)
{
    cJSON *x = cJSON_AddObjectToObject(o, key);
    return x && nb__json_u64(x, "consumer_seq", dseq) && nb__json_u64(x, "stream_seq", sseq) &&
           (!active || nb__json_time(x, "last_active", active));
}

cJSON *
nb__consumer_info(struct nb_consumer *c)
{
    cJSON *o = cJSON_CreateObject(), *cfg = nb_consumercfg_to_json(&c->cfg);
    uint64_t delivered_s = c->nlps && c->ilps < c->nlps ? c->lps[c->ilps] - 1 : c->sseq - 1;
    bool ok = o && cfg && cJSON_AddStringToObject(o, "stream_name", c->st->cfg.name) &&
              cJSON_AddStringToObject(o, "name", c->cfg.name) &&
              nb__json_time(o, "created", c->created_ns) && cJSON_AddItemToObject(o, "config", cfg);
    if (!ok) cJSON_Delete(cfg);
    ok = ok && add_seq_info(o, "delivered", c->dseq - 1, delivered_s, c->last_delivered_ns) &&
         add_seq_info(o, "ack_floor", c->floor_d, c->floor_s, c->last_ack_ns) &&
         nb__json_u64(o, "num_ack_pending", np_map_count(&c->pend)) &&
         nb__json_u64(o, "num_redelivered", c->nredelivered) &&
         nb__json_u64(o, "num_waiting", c->nwaiting) && nb__json_u64(o, "num_pending", c->npc);
    if (ok && nb__consumer_bound(c)) ok = cJSON_AddTrueToObject(o, "push_bound") != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- the stream's events ------------------------------------------------------------------------- */

void
nb__consumers_appended(struct nb_stream *st, uint64_t seq, const char *subject, size_t len)
{
    for (struct nb_consumer *c = st->consumers; c; c = c->next) {
        if (seq >= c->sseq && matches(c, subject, len)) c->npc++;
    }
}

void
nb__consumers_removing(struct nb_stream *st, uint64_t seq)
{
    struct nb_store_msg m;
    bool loaded = false;
    for (struct nb_consumer *c = st->consumers; c; c = c->next) {
        if (seq < c->sseq || !c->npc) continue;
        if (!loaded && nb_store_get(st->store, seq, &m) != 0) return;
        loaded = true;
        if (matches(c, m.subject, m.subject_len)) c->npc--;
    }
}

void
nb__consumers_purged(struct nb_stream *st)
{
    struct nb_store_state s;
    nb_store_state(st->store, &s);
    for (struct nb_consumer *c = st->consumers; c; c = c->next) {
        if (c->sseq < s.first_seq) c->sseq = s.first_seq;
        c->npc = count_from(c, c->sseq);
        move_floor(c);
    }
}

bool
nb__consumers_want(struct nb_stream *st, uint64_t seq, const char *subject, size_t len)
{
    for (struct nb_consumer *c = st->consumers; c; c = c->next) {
        if (!matches(c, subject, len)) continue;
        if (seq >= c->sseq || pend_find(c, seq)) return true;
    }
    return false;
}

uint64_t
nb__consumer_floor(const struct nb_consumer *c)
{
    return c->floor_s;
}

void
nb__consumers_release(struct nb_stream *st, uint64_t from)
{
    if (st->cfg.retention != NB_RETENTION_INTEREST) return;
    struct nb_store_msg m;
    uint64_t seq = from;
    while (nb_store_next(st->store, seq, NULL, &m) == 0) {
        seq = m.seq + 1;
        if (nb__consumers_want(st, m.seq, m.subject, m.subject_len)) continue;
        if (nb_store_remove(st->store, m.seq, NB_RM_DURABLE) != 0) {
            nb__stream_undone(st);
            break;
        }
        st->dirty = true;
    }
}

void
nb__consumers_close(struct nb_stream *st, bool forget)
{
    if (!forget) nb__consumers_save(st);
    while (st->consumers)
        nb__consumer_delete(st->consumers, forget);
}

/* ---- durable state (nb_consumerstore.c saves and restores it) ---------------------------------- */

void
nb__consumers_save(struct nb_stream *st)
{
    for (struct nb_consumer *c = st->consumers; c; c = c->next)
        if (c->dirty && (!c->cs || nb__cstore_save_state(c->cs, c))) c->dirty = false;
}

struct nb_stream *
nb__consumer_stream(const struct nb_consumer *c)
{
    return c->st;
}

struct nb_cstore *
nb__consumer_cstore(const struct nb_consumer *c)
{
    return c->cs;
}

int64_t
nb__consumer_created(const struct nb_consumer *c)
{
    return c->created_ns;
}

void
nb__consumer_cursor(const struct nb_consumer *c, struct nb_consumer_cursor *out)
{
    *out = (struct nb_consumer_cursor){.sseq = c->sseq,
                                       .dseq = c->dseq,
                                       .ilps = c->ilps,
                                       .redelivered = c->nredelivered,
                                       .lps = c->lps,
                                       .nlps = c->nlps};
}

bool
nb__consumer_each_pending(const struct nb_consumer *c,
                          bool (*fn)(void *ud, uint64_t sseq, uint64_t dseq, uint64_t dc), void *ud)
{
    for (const struct pend *p = c->s_head; p; p = p->snext)
        if (!fn(ud, p->sseq, p->dseq, p->dc)) return false;
    return true;
}

struct nb_consumer *
nb__consumer_restore(struct nb_stream *st, const struct nb_consumer_config *cfg, int64_t created_ns)
{
    return consumer_new(st, cfg, created_ns);
}

void
nb__consumer_restore_cursor(struct nb_consumer *c, const struct nb_consumer_cursor *cur)
{
    c->sseq = cur->sseq;
    c->dseq = cur->dseq;
    c->ilps = cur->ilps;
    c->nredelivered = cur->redelivered;
    if (cur->lps != c->lps) {
        free(c->lps);
        c->lps = cur->lps;
        c->nlps = cur->nlps;
    }
}

bool
nb__consumer_restore_pending(struct nb_consumer *c, uint64_t sseq, uint64_t dseq, uint64_t dc)
{
    struct pend *p = pend_add(c, sseq, dseq);
    if (!p) return false;
    p->dc = dc;
    p->due_ms = now_ms(c) + wait_ms_for(c, dc); /* redelivered one ack_wait after the restart */
    t_insert(c, p);
    return true;
}

bool
nb__consumer_restore_delivery(struct nb_consumer *c, uint64_t sseq, uint64_t dseq, uint64_t dc)
{
    struct pend *p = pend_find(c, sseq);
    if (p) {
        if (p->dc == 1 && dc > 1) c->nredelivered++;
        p->dseq = dseq;
        p->dc = dc;
    } else if (!nb__consumer_restore_pending(c, sseq, dseq, dc)) {
        return false;
    }
    if (c->sseq <= sseq) c->sseq = sseq + 1;
    if (c->dseq <= dseq) c->dseq = dseq + 1;
    return true;
}

bool
nb__consumer_start(struct nb_consumer *c)
{
    return set_start(c);
}

/*
 * A logged ack past the saved cursor: deliveries happened after the last state rewrite. Everything
 * up to seq was delivered (deliveries go in stream order), so the messages before it become pending
 * again (redelivered after ack_wait) and seq itself is delivered, about to be acked.
 */
static void
catch_up(struct nb_consumer *c, uint64_t seq)
{
    struct nb_store_msg m;
    uint64_t now = now_ms(c);
    while (c->sseq <= seq && nb_store_next(c->st->store, c->sseq, store_filter(c), &m) == 0 &&
           m.seq <= seq) {
        c->sseq = m.seq + 1;
        if (!matches(c, m.subject, m.subject_len)) continue;
        struct pend *p = pend_add(c, m.seq, c->dseq++);
        if (!p) return;
        p->due_ms = now + wait_ms_for(c, 1);
        t_insert(c, p);
    }
    if (c->sseq <= seq) c->sseq = seq + 1;
}

void
nb__consumer_restore_ack(struct nb_consumer *c, uint64_t seq, bool upto)
{
    if (seq >= c->sseq) catch_up(c, seq);
    struct pend *p = pend_find(c, seq);
    if (upto)
        ack_upto(c, seq);
    else if (p)
        ack_one(c, p);
}

void
nb__consumer_restored(struct nb_consumer *c)
{
    struct nb_store_state s;
    nb_store_state(c->st->store, &s);
    /* A stream that came back shorter than the consumer's position pulls the cursor back. */
    if (c->sseq > s.last_seq + 1) c->sseq = s.last_seq + 1;
    c->npc = (c->nlps > c->ilps ? c->nlps - c->ilps : 0) + count_from(c, c->sseq);
    move_floor(c);
    c->dirty = true;
}
