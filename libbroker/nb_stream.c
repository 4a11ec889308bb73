/*
 * One stream: the publish path (nats-server 2.9's order of checks, spec 3.2), its limits, and what
 * the API reports about it.
 *
 * Limits are enforced after every store and again when the stream loads, so evictions by limits
 * need not be written to disk at once (NB_RM_LIMIT); deletes a user asked for are (NB_RM_DURABLE).
 */
#include "nb_consumer.h"
#include "nb_js.h"
#include "nb_srv.h"
#include "np.h"
#include "np_time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_HDR_BYTES (64 * 1024)

/* What the headers of a published message ask for. */
struct expect {
    struct np_str stream, msg_id, last_msg_id, rollup;
    uint64_t last_seq, last_subj_seq;
    bool has_last_seq, has_last_subj_seq, has_last_msg_id;
};

/* The result of one publish, before it becomes a PubAck. */
struct outcome {
    struct nb_jserr err;
    uint64_t seq;
    bool duplicate;
};

/* ---- headers ------------------------------------------------------------------------------------ */

static bool
hdr_u64(const struct np_hdr *h, const char *name, uint64_t *out)
{
    struct np_str v;
    if (!np_hdr_get(h, name, &v) || v.len == 0 || v.len > 20) return false;
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') return false;
        n = n * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    *out = n;
    return true;
}

static void
read_expect(const struct nb_msg *msg, struct expect *ex)
{
    memset(ex, 0, sizeof *ex);
    struct np_hdr h;
    if (msg->hdr_len == 0 || np_hdr_parse(&h, msg->data, msg->hdr_len) != 0) return;
    np_hdr_get(&h, "Nats-Expected-Stream", &ex->stream);
    np_hdr_get(&h, "Nats-Msg-Id", &ex->msg_id);
    np_hdr_get(&h, "Nats-Rollup", &ex->rollup);
    ex->has_last_msg_id = np_hdr_get(&h, "Nats-Expected-Last-Msg-Id", &ex->last_msg_id);
    ex->has_last_seq = hdr_u64(&h, "Nats-Expected-Last-Sequence", &ex->last_seq);
    ex->has_last_subj_seq = hdr_u64(&h, "Nats-Expected-Last-Subject-Sequence", &ex->last_subj_seq);
}

/* The Nats-Msg-Id of a stored message, or a zero view. */
static struct np_str
stored_msg_id(const struct nb_store_msg *m)
{
    struct np_hdr h;
    struct np_str id = {NULL, 0};
    if (m->hdr_len && np_hdr_parse(&h, m->hdr, m->hdr_len) == 0) np_hdr_get(&h, "Nats-Msg-Id", &id);
    return id;
}

/* ---- limits ------------------------------------------------------------------------------------- */

static void
remove_first(struct nb_stream *st)
{
    struct nb_store_state s;
    nb_store_state(st->store, &s);
    if (st->consumers) nb__consumers_removing(st, s.first_seq);
    nb_store_remove(st->store, s.first_seq, NB_RM_LIMIT);
}

static void
trim_subject(struct nb_stream *st, const char *subject, size_t len)
{
    if (st->cfg.max_msgs_per_subject <= 0) return;
    struct nb_store_subject ss;
    nb_store_subject_state(st->store, subject, len, &ss);
    while (ss.count > (uint64_t)st->cfg.max_msgs_per_subject) {
        if (st->consumers) nb__consumers_removing(st, ss.first);
        if (nb_store_remove(st->store, ss.first, NB_RM_LIMIT) != 0) break;
        nb_store_subject_state(st->store, subject, len, &ss);
    }
}

/* Evicts from the head while a count or size limit is exceeded. */
static void
trim_head(struct nb_stream *st)
{
    struct nb_store_state s;
    for (;;) {
        nb_store_state(st->store, &s);
        bool over = (st->cfg.max_msgs > 0 && s.msgs > (uint64_t)st->cfg.max_msgs) ||
                    (st->cfg.max_bytes > 0 && s.bytes > (uint64_t)st->cfg.max_bytes);
        if (!over || s.msgs == 0) return;
        remove_first(st);
    }
}

static void arm_age_timer(struct nb_stream *st);

/* Removes what max_age has aged out and sets the timer for the next message to age. */
static void
expire_aged(struct nb_stream *st)
{
    if (st->cfg.max_age <= 0) return;
    int64_t cutoff = nb__wall_ns() - st->cfg.max_age;
    struct nb_store_msg m;
    while (nb_store_next(st->store, 0, NULL, &m) == 0 && m.ts <= cutoff) {
        if (st->consumers) nb__consumers_removing(st, m.seq);
        if (nb_store_remove(st->store, m.seq, NB_RM_LIMIT) != 0) break;
    }
    arm_age_timer(st);
}

static void
on_age_timer(uv_timer_t *t)
{
    expire_aged(t->data);
}

static void
arm_age_timer(struct nb_stream *st)
{
    struct nb_store_msg m;
    if (st->cfg.max_age <= 0 || nb_store_next(st->store, 0, NULL, &m) != 0) {
        uv_timer_stop(&st->age_timer);
        return;
    }
    int64_t due_ns = m.ts + st->cfg.max_age - nb__wall_ns();
    uint64_t due_ms = due_ns <= 0 ? 0 : (uint64_t)(due_ns / 1000000) + 1;
    uv_timer_start(&st->age_timer, on_age_timer, due_ms, 0);
}

/* The subjects over max_msgs_per_subject, copied: trimming while iterating would move the map. */
struct over_ctx {
    int64_t max;
    char **subjects;
    size_t n, cap;
    bool ok;
};

static bool
collect_over(void *ud, const char *subject, size_t len, const struct nb_store_subject *s)
{
    struct over_ctx *x = ud;
    if (s->count <= (uint64_t)x->max) return true;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        char **v = realloc(x->subjects, cap * sizeof *v);
        if (!v) return x->ok = false;
        x->subjects = v;
        x->cap = cap;
    }
    if (!(x->subjects[x->n] = strndup(subject, len))) return x->ok = false;
    x->n++;
    return true;
}

static void
trim_all_subjects(struct nb_stream *st)
{
    if (st->cfg.max_msgs_per_subject <= 0) return;
    struct over_ctx x = {.max = st->cfg.max_msgs_per_subject, .ok = true};
    nb_store_each_subject(st->store, NULL, collect_over, &x);
    for (size_t i = 0; i < x.n; i++) {
        trim_subject(st, x.subjects[i], strlen(x.subjects[i]));
        free(x.subjects[i]);
    }
    free(x.subjects);
}

/* Every limit, as after a load or a configuration change. */
static void
enforce_all_limits(struct nb_stream *st)
{
    trim_all_subjects(st);
    trim_head(st);
    expire_aged(st);
}

/* ---- the duplicate window ------------------------------------------------------------------------ */

/*
 * The window is rebuilt from the stored messages the first time a publish needs it, not at load:
 * a restart then costs nothing for streams that never see a Nats-Msg-Id.
 */
static int
load_dedupe(struct nb_stream *st)
{
    if (st->dedupe) return 0;
    st->dedupe = nb__dedupe_new();
    if (!st->dedupe) return -1;
    int64_t since = nb__wall_ns() - st->cfg.duplicate_window;
    struct nb_store_msg m;
    uint64_t seq = nb__stream_seq_at_time(st, since);
    while (seq && nb_store_next(st->store, seq, NULL, &m) == 0) {
        struct np_str id = stored_msg_id(&m);
        if (id.len && nb__dedupe_add(st->dedupe, id.ptr, id.len, m.seq, m.ts) != 0) return -1;
        seq = m.seq + 1;
    }
    return 0;
}

uint64_t
nb__stream_seq_at_time(struct nb_stream *st, int64_t ts)
{
    struct nb_store_state s;
    struct nb_store_msg m;
    nb_store_state(st->store, &s);
    if (s.msgs == 0) return 0;
    /* Timestamps grow with sequences (bar clock steps), so a binary search finds the start. */
    uint64_t lo = s.first_seq, hi = s.last_seq + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (nb_store_next(st->store, mid, NULL, &m) != 0 || m.ts >= ts)
            hi = mid;
        else
            lo = m.seq + 1;
    }
    return lo > s.last_seq ? 0 : lo;
}

/* Kept in a reused buffer: a publish with a message id allocates nothing. */
static void
set_last_msg_id(struct nb_stream *st, struct np_str id)
{
    if (id.len >= st->last_msg_id_cap) {
        size_t cap = id.len < 64 ? 64 : id.len + 1;
        char *p = realloc(st->last_msg_id, cap);
        if (!p) {
            free(st->last_msg_id);
            st->last_msg_id = NULL;
            st->last_msg_id_len = st->last_msg_id_cap = 0;
            return;
        }
        st->last_msg_id = p;
        st->last_msg_id_cap = cap;
    }
    if (id.len) memcpy(st->last_msg_id, id.ptr, id.len);
    st->last_msg_id[id.len] = '\0';
    st->last_msg_id_len = id.len;
}

/* ---- publish ------------------------------------------------------------------------------------- */

static bool
fail(struct outcome *o, enum nb_jserr_id id, const char *arg)
{
    nb_jserr_set(&o->err, id, arg);
    return false;
}

static bool
check_expectations(struct nb_stream *st, const struct nb_msg *msg, const struct expect *ex,
                   struct outcome *o)
{
    char num[24];
    if (ex->has_last_subj_seq) {
        struct nb_store_subject ss;
        nb_store_subject_state(st->store, msg->subject, msg->subject_len, &ss);
        if (ss.last != ex->last_subj_seq) {
            snprintf(num, sizeof num, "%" PRIu64, ss.last);
            return fail(o, NB_JSERR_STREAM_WRONG_LAST_SEQUENCE, num);
        }
    }
    if (ex->has_last_seq) {
        struct nb_store_state s;
        nb_store_state(st->store, &s);
        if (s.last_seq != ex->last_seq) {
            snprintf(num, sizeof num, "%" PRIu64, s.last_seq);
            return fail(o, NB_JSERR_STREAM_WRONG_LAST_SEQUENCE, num);
        }
    }
    if (ex->has_last_msg_id) {
        if (st->last_msg_id_len != ex->last_msg_id.len ||
            (ex->last_msg_id.len &&
             memcmp(st->last_msg_id, ex->last_msg_id.ptr, ex->last_msg_id.len) != 0))
            return fail(o, NB_JSERR_STREAM_WRONG_LAST_MSG_ID,
                        st->last_msg_id_len ? st->last_msg_id : "");
    }
    if (ex->rollup.len) {
        if (!st->cfg.allow_rollup_hdrs || st->cfg.deny_purge)
            return fail(o, NB_JSERR_STREAM_ROLLUP_FAILED, "rollup not permitted");
        bool known = (ex->rollup.len == 3 && memcmp(ex->rollup.ptr, "sub", 3) == 0) ||
                     (ex->rollup.len == 3 && memcmp(ex->rollup.ptr, "all", 3) == 0);
        if (!known) {
            nb_jserr_setf(&o->err, NB_JSERR_STREAM_ROLLUP_FAILED, "rollup value invalid: %.*s",
                          (int)ex->rollup.len, ex->rollup.ptr);
            return false;
        }
    }
    return true;
}

/* discard new, and the server's storage limits, refuse a message before it is stored. */
static bool
check_room(struct nb_stream *st, const struct nb_msg *msg, uint64_t size, struct outcome *o)
{
    const struct nb_stream_config *c = &st->cfg;
    struct nb_store_subject ss = {0};
    if (c->max_msgs_per_subject > 0)
        nb_store_subject_state(st->store, msg->subject, msg->subject_len, &ss);
    bool replaces = c->max_msgs_per_subject > 0 && ss.count >= (uint64_t)c->max_msgs_per_subject;
    if (c->discard == NB_DISCARD_NEW) {
        struct nb_store_state s;
        nb_store_state(st->store, &s);
        if (replaces && c->discard_new_per_subject)
            return fail(o, NB_JSERR_STREAM_STORE_FAILED, "maximum messages per subject exceeded");
        if (c->max_msgs > 0 && s.msgs >= (uint64_t)c->max_msgs && !replaces)
            return fail(o, NB_JSERR_STREAM_STORE_FAILED, "maximum messages exceeded");
        if (c->max_bytes > 0 && s.bytes + size >= (uint64_t)c->max_bytes && !replaces)
            return fail(o, NB_JSERR_STREAM_STORE_FAILED, "maximum bytes exceeded");
    }
    const struct nb_config *sc = &st->js->srv->cfg;
    int64_t limit = c->storage == NB_STORE_FILE ? sc->js_max_file : sc->js_max_memory;
    if (limit >= 0 && nb__js_usage(st->js, c->storage) + size > (uint64_t)limit)
        return fail(o, NB_JSERR_INSUFFICIENT_RESOURCES, NULL);
    return true;
}

static bool
store_msg(struct nb_stream *st, const struct nb_msg *msg, struct outcome *o)
{
    size_t hlen = msg->hdr_len, dlen = msg->len - msg->hdr_len;
    uint64_t size = nb_store_record_size(st->store, msg->subject_len, hlen, dlen);
    if (!check_room(st, msg, size, o)) return false;
    int rc = nb_store_append(st->store, msg->subject, msg->subject_len, msg->data, hlen,
                             msg->data + hlen, dlen, nb__wall_ns(), &o->seq);
    /* The record is only buffered: nb__stream_flush() writes it before its PubAck goes out. */
    if (rc != 0) {
        nb__log(st->js->srv, NB_LOG_ERROR, "JetStream failed to store a message in '$G > %s': %s",
                st->cfg.name, nb_strerror(rc));
        nb__stream_undone(st);
        return fail(o, NB_JSERR_INSUFFICIENT_RESOURCES, NULL);
    }
    st->dirty = true;
    return true;
}

/* After a store: the duplicate window, rollups, and the limits that evict. */
static void
after_store(struct nb_stream *st, const struct nb_msg *msg, const struct expect *ex, uint64_t seq)
{
    if (ex->msg_id.len && st->dedupe)
        nb__dedupe_add(st->dedupe, ex->msg_id.ptr, ex->msg_id.len, seq, nb__wall_ns());
    set_last_msg_id(st, ex->msg_id);
    if (st->consumers) nb__consumers_appended(st, seq, msg->subject, msg->subject_len);
    uint64_t purged;
    int rc = 0;
    if (ex->rollup.len && ex->rollup.ptr[0] == 's') {
        char *subject = strndup(msg->subject, msg->subject_len);
        rc = subject ? nb_store_purge(st->store, subject, seq, 0, &purged) : NB_ENOMEM;
        free(subject);
    } else if (ex->rollup.len) {
        rc = nb_store_purge(st->store, NULL, seq, 0, &purged);
    }
    /* The purge writes the rollup message first; when that failed, the message is gone too. */
    if (rc) nb__stream_undone(st);
    if (ex->rollup.len && st->consumers) nb__consumers_purged(st);
    if (st->cfg.storage == NB_STORE_FILE) {
        /* Evicting before the new message is written could lose both if the write fails. */
        if (!st->trim_due) st->unflushed_from = seq;
        st->trim_due = true;
        nb__js_flush_soon(st);
        return;
    }
    trim_subject(st, msg->subject, msg->subject_len);
    if (st->cfg.discard == NB_DISCARD_OLD) trim_head(st);
    if (st->cfg.max_age > 0 && !uv_is_active((uv_handle_t *)&st->age_timer)) arm_age_timer(st);
    if (st->consumers) nb__consumers_kick(st);
}

static bool
is_duplicate(struct nb_stream *st, const struct expect *ex, struct outcome *o)
{
    if (!ex->msg_id.len) return false;
    if (load_dedupe(st) != 0) return false;
    nb__dedupe_expire(st->dedupe, nb__wall_ns() - st->cfg.duplicate_window);
    o->seq = nb__dedupe_find(st->dedupe, ex->msg_id.ptr, ex->msg_id.len);
    o->duplicate = o->seq != 0;
    return o->duplicate;
}

static void
publish(struct nb_stream *st, const struct nb_msg *msg, struct outcome *o)
{
    struct expect ex;
    if (st->cfg.sealed) return (void)fail(o, NB_JSERR_STREAM_SEALED, NULL);
    if (msg->hdr_len > MAX_HDR_BYTES)
        return (void)fail(o, NB_JSERR_STREAM_HEADER_EXCEEDS_MAX, NULL);
    read_expect(msg, &ex);
    if (ex.stream.len && (strlen(st->cfg.name) != ex.stream.len ||
                          memcmp(st->cfg.name, ex.stream.ptr, ex.stream.len) != 0))
        return (void)fail(o, NB_JSERR_STREAM_NOT_MATCH, NULL);
    if (is_duplicate(st, &ex, o)) return;
    if (!check_expectations(st, msg, &ex, o)) return;
    if (st->cfg.max_msg_size >= 0 && msg->len > (uint64_t)st->cfg.max_msg_size)
        return (void)fail(o, NB_JSERR_STREAM_MESSAGE_EXCEEDS_MAX, NULL);
    if (st->cfg.retention == NB_RETENTION_INTEREST &&
        !nb__consumers_want(st, UINT64_MAX, msg->subject, msg->subject_len)) {
        /* No consumer has interest: the sequence is used, the message is not kept. */
        if (nb_store_skip(st->store, nb__wall_ns(), &o->seq) != 0) {
            nb__stream_undone(st);
            fail(o, NB_JSERR_INSUFFICIENT_RESOURCES, NULL);
        }
        return;
    }
    if (store_msg(st, msg, o)) after_store(st, msg, &ex, o->seq);
}

static void
send_error(struct nb_stream *st, const struct nb_msg *msg, const struct nb_jserr *err)
{
    cJSON *ack = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(ack, "error");
    bool ok = e && cJSON_AddNumberToObject(e, "code", err->code) &&
              cJSON_AddNumberToObject(e, "err_code", err->err_code) &&
              cJSON_AddStringToObject(e, "description", err->description) &&
              cJSON_AddStringToObject(ack, "stream", st->cfg.name) &&
              cJSON_AddNumberToObject(ack, "seq", 0);
    char *body = ok ? cJSON_PrintUnformatted(ack) : NULL;
    if (body) nb__js_reply(st->js, msg->reply, msg->reply_len, body, strlen(body));
    free(body);
    cJSON_Delete(ack);
}

/* Writes n in decimal at p; returns the end. */
static char *
put_u64(char *p, uint64_t n)
{
    char tmp[20];
    size_t i = 0;
    do {
        tmp[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i)
        *p++ = tmp[--i];
    return p;
}

/* The PubAck is built by hand: it is on the path of every stored message. */
static void
send_puback(struct nb_stream *st, const struct nb_msg *msg, const struct outcome *o)
{
    if (o->err.code) return send_error(st, msg, &o->err);
    static const char dup[] = ",\"duplicate\":true}";
    char body[2048]; /* a name is at most 255 bytes, 1530 once escaped */
    if (st->ack_prefix_len + sizeof dup + 20 > sizeof body) return;
    memcpy(body, st->ack_prefix, st->ack_prefix_len);
    char *p = put_u64(body + st->ack_prefix_len, o->seq);
    if (o->duplicate) {
        memcpy(p, dup, sizeof dup - 1);
        p += sizeof dup - 1;
    } else {
        *p++ = '}';
    }
    nb__js_ack(st, o->seq, msg->reply, msg->reply_len, body, (size_t)(p - body));
}

void
nb__stream_ingest(struct nb_stream *st, const struct nb_msg *msg)
{
    struct outcome o = {0};
    publish(st, msg, &o);
    if (msg->reply_len && !st->cfg.no_ack) send_puback(st, msg, &o);
}

/* ---- writing ------------------------------------------------------------------------------------- */

/* Answers each PubAck of the list with the insufficient resources error and frees it. */
static void
fail_acks(struct nb_stream *st, struct nb_held_ack *a)
{
    struct nb_jserr err;
    nb_jserr_set(&err, NB_JSERR_INSUFFICIENT_RESOURCES, NULL);
    while (a) {
        struct nb_held_ack *next = a->next;
        struct nb_msg m = {.reply = a->data, .reply_len = a->reply_len};
        send_error(st, &m, &err);
        nb__js_free_ack(st->js, a);
        a = next;
    }
}

void
nb__stream_undone(struct nb_stream *st)
{
    struct nb_store_state s;
    nb_store_state(st->store, &s);
    struct nb_held_ack *kept = NULL, **kept_tail = &kept, *lost = NULL, **lost_tail = &lost;
    for (struct nb_held_ack *a = st->acks, *next; a; a = next) {
        next = a->next;
        a->next = NULL;
        if (a->seq > s.last_seq) {
            *lost_tail = a;
            lost_tail = &a->next;
        } else {
            *kept_tail = a;
            kept_tail = &a->next;
        }
    }
    st->acks = kept;
    st->acks_tail = kept_tail;
    fail_acks(st, lost);
    /* Both may name messages that were undone; they are rebuilt from what the store holds. */
    nb__dedupe_free(st->dedupe);
    st->dedupe = NULL;
    struct nb_store_msg last;
    struct np_str none = {NULL, 0};
    set_last_msg_id(st, s.msgs && nb_store_get(st->store, s.last_seq, &last) == 0
                            ? stored_msg_id(&last)
                            : none);
}

/* The limits the appends of this iteration were waiting for, now that they are written. */
static void
apply_due_limits(struct nb_stream *st)
{
    if (!st->trim_due) return;
    st->trim_due = false;
    struct nb_store_msg m;
    uint64_t seq = st->unflushed_from;
    while (st->cfg.max_msgs_per_subject > 0 && nb_store_next(st->store, seq, NULL, &m) == 0) {
        /* A copy: the view dies with the next store call. Usual subjects need no allocation. */
        char small[256];
        char *subject = m.subject_len < sizeof small ? small : malloc(m.subject_len);
        if (!subject) break;
        memcpy(subject, m.subject, m.subject_len);
        seq = m.seq + 1;
        trim_subject(st, subject, m.subject_len);
        if (subject != small) free(subject);
    }
    if (st->cfg.discard == NB_DISCARD_OLD) trim_head(st);
    if (st->cfg.max_age > 0 && !uv_is_active((uv_handle_t *)&st->age_timer)) arm_age_timer(st);
}

void
nb__stream_flush(struct nb_stream *st, struct nb_held_ack **ready)
{
    *ready = NULL;
    int rc = nb_store_flush(st->store);
    if (rc) {
        nb__log(st->js->srv, NB_LOG_ERROR, "JetStream failed to write to '$G > %s': %s",
                st->cfg.name, nb_strerror(rc));
        st->trim_due = false;
        nb__stream_undone(st);
        fail_acks(st, st->acks);
    } else {
        apply_due_limits(st);
        *ready = st->acks;
        /* Consumers see a message only once it is written: it can no longer be undone. */
        if (st->consumers) nb__consumers_kick(st);
    }
    st->acks = NULL;
    st->acks_tail = &st->acks;
}

/* ---- life cycle ---------------------------------------------------------------------------------- */

static void
on_capture(struct nb_server *srv, const struct nb_msg *msg, void *ud)
{
    (void)srv;
    nb__stream_ingest(ud, msg);
}

static void
unsubscribe_all(struct nb_stream *st)
{
    for (size_t i = 0; i < st->nsubs; i++)
        nb_server_unsubscribe(st->js->srv, st->subs[i]);
    free(st->subs);
    st->subs = NULL;
    st->nsubs = 0;
}

static int
subscribe_all(struct nb_stream *st)
{
    st->subs = calloc(st->cfg.nsubjects, sizeof *st->subs);
    if (!st->subs) return NB_ENOMEM;
    for (size_t i = 0; i < st->cfg.nsubjects; i++) {
        int rc = nb_server_subscribe(st->js->srv, st->cfg.subjects[i], NULL, on_capture, st,
                                     &st->subs[i]);
        if (rc) return rc;
        st->nsubs++;
    }
    return 0;
}

/* meta.json: the configuration and creation time, replaced atomically (temp file, rename). */
static int
write_meta(struct nb_stream *st)
{
    if (!st->dir) return 0;
    cJSON *meta = cJSON_CreateObject();
    cJSON *cfg = nb_streamcfg_to_json(&st->cfg);
    bool ok = meta && cfg && cJSON_AddItemToObject(meta, "config", cfg) &&
              nb__json_time(meta, "created", st->created_ns);
    if (!ok) cJSON_Delete(cfg);
    char *text = ok ? cJSON_PrintUnformatted(meta) : NULL;
    cJSON_Delete(meta);
    if (!text) return NB_ENOMEM;
    int rc = nb__write_file_atomic(st->dir, "meta.json", text, strlen(text), true);
    free(text);
    return rc;
}

static int
open_store(struct nb_stream *st)
{
    char msgs[4096];
    struct nb_store_opts opts = {.kind = st->cfg.storage, .first_seq = st->cfg.first_seq};
    if (st->dir) {
        snprintf(msgs, sizeof msgs, "%s/msgs", st->dir);
        opts.dir = msgs;
    }
    struct nb_store_recovery rec = {0};
    int rc = nb_store_open(&st->store, &opts, &rec);
    if (rc == 0 && rec.detail[0]) {
        nb__log(st->js->srv, NB_LOG_WARN,
                "JetStream stream '$G > %s' lost %" PRIu64 " messages (%" PRIu64
                " bytes) in recovery: %s",
                st->cfg.name, rec.lost_msgs, rec.lost_bytes, rec.detail);
    }
    return rc;
}

/* {"stream":"NAME","seq": , the part of every PubAck that never changes. */
static int
make_ack_prefix(struct nb_stream *st)
{
    cJSON *name = cJSON_CreateString(st->cfg.name);
    char *json = name ? cJSON_PrintUnformatted(name) : NULL;
    cJSON_Delete(name);
    if (!json) return NB_ENOMEM;
    size_t n = strlen(json) + sizeof "{\"stream\":,\"seq\":";
    st->ack_prefix = malloc(n);
    if (st->ack_prefix) snprintf(st->ack_prefix, n, "{\"stream\":%s,\"seq\":", json);
    free(json);
    if (!st->ack_prefix) return NB_ENOMEM;
    st->ack_prefix_len = strlen(st->ack_prefix);
    return 0;
}

static struct nb_stream *
stream_new(struct nb_js *js, const struct nb_stream_config *cfg, int64_t created_ns)
{
    struct nb_stream *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->js = js;
    st->created_ns = created_ns;
    st->acks_tail = &st->acks;
    if (nb_streamcfg_copy(&st->cfg, cfg) != 0) {
        free(st);
        return NULL;
    }
    if (make_ack_prefix(st) != 0) {
        nb_streamcfg_release(&st->cfg);
        free(st);
        return NULL;
    }
    uv_timer_init(js->srv->loop, &st->age_timer);
    st->age_timer.data = st;
    return st;
}

int
nb__stream_open(struct nb_js *js, const struct nb_stream_config *cfg, int64_t created_ns,
                struct nb_stream **out, struct nb_jserr *err)
{
    bool load = created_ns != 0;
    struct nb_stream *st = stream_new(js, cfg, load ? created_ns : nb__wall_ns());
    if (!st) {
        nb_jserr_set(err, NB_JSERR_STREAM_CREATE, "out of memory");
        return -1;
    }
    int rc = 0;
    if (cfg->storage == NB_STORE_FILE) {
        st->dir = nb__path_join(js->streams_dir, cfg->name);
        rc = st->dir ? nb__mkdir_p(st->dir) : NB_ENOMEM;
        if (rc == 0 && !load) rc = write_meta(st);
    }
    if (rc == 0) rc = open_store(st);
    if (rc == 0) rc = subscribe_all(st);
    if (rc) {
        nb_jserr_setf(err, NB_JSERR_STREAM_CREATE, "could not open stream: %s", nb_strerror(rc));
        nb__stream_close(st, !load);
        return -1;
    }
    struct nb_store_msg last;
    struct nb_store_state s;
    nb_store_state(st->store, &s);
    if (s.msgs && nb_store_get(st->store, s.last_seq, &last) == 0)
        set_last_msg_id(st, stored_msg_id(&last));
    if (load) nb__consumers_load(st);
    enforce_all_limits(st);
    *out = st;
    return 0;
}

int
nb__stream_update(struct nb_stream *st, const struct nb_stream_config *cfg, struct nb_jserr *err)
{
    struct nb_stream_config old = st->cfg;
    if (nb_streamcfg_copy(&st->cfg, cfg) != 0) {
        st->cfg = old;
        nb_jserr_set(err, NB_JSERR_STREAM_INVALID_CONFIG, "out of memory");
        return -1;
    }
    /* Evictions by the old limits are made durable before looser limits could bring them back. */
    nb_store_checkpoint(st->store);
    unsubscribe_all(st);
    int rc = subscribe_all(st);
    if (rc == 0) rc = write_meta(st);
    if (rc) {
        nb_jserr_setf(err, NB_JSERR_STREAM_INVALID_CONFIG, "could not update stream: %s",
                      nb_strerror(rc));
        nb_streamcfg_release(&st->cfg);
        st->cfg = old;
        unsubscribe_all(st);
        subscribe_all(st);
        return -1;
    }
    /* The set of streams keys on the name inside cfg: point it at the new copy. */
    np_map_put(&st->js->names, st->cfg.name, strlen(st->cfg.name), st);
    nb_streamcfg_release(&old);
    if (st->cfg.duplicate_window != old.duplicate_window && st->dedupe)
        nb__dedupe_expire(st->dedupe, nb__wall_ns() - st->cfg.duplicate_window);
    enforce_all_limits(st);
    return 0;
}

static void
free_stream(uv_handle_t *h)
{
    struct nb_stream *st = h->data;
    struct nb_server *srv = st->js->srv;
    bool counted = st->counted;
    free(st);
    if (counted) nb__server_handle_closed(srv);
}

void
nb__stream_close(struct nb_stream *st, bool remove)
{
    nb__consumers_close(st, remove);
    unsubscribe_all(st);
    if (st->store) {
        if (remove)
            nb_store_destroy(st->store);
        else
            nb_store_close(st->store);
    }
    if (remove && st->dir) nb__remove_tree(st->dir);
    nb__dedupe_free(st->dedupe);
    nb_streamcfg_release(&st->cfg);
    free(st->last_msg_id);
    nb__js_release_acks(st->js, st->acks, false);
    free(st->ack_prefix);
    free(st->dir);
    uv_close((uv_handle_t *)&st->age_timer, free_stream);
}

/* ---- what the API shows ------------------------------------------------------------------------- */

struct subjects_ctx {
    cJSON *map;
    bool ok;
};

static bool
add_subject(void *ud, const char *subject, size_t len, const struct nb_store_subject *s)
{
    struct subjects_ctx *x = ud;
    char key[1024];
    if (len >= sizeof key) return true;
    memcpy(key, subject, len);
    key[len] = '\0';
    x->ok = x->ok && nb__json_u64(x->map, key, s->count);
    return x->ok;
}

static bool
add_deleted(cJSON *state, struct nb_store *store, uint64_t n)
{
    uint64_t *seqs = n ? malloc(n * sizeof *seqs) : NULL;
    if (n && !seqs) return false;
    n = nb_store_deleted(store, seqs, n);
    cJSON *arr = cJSON_AddArrayToObject(state, "deleted");
    bool ok = arr != NULL;
    for (uint64_t i = 0; ok && i < n; i++) {
        char num[24];
        snprintf(num, sizeof num, "%" PRIu64, seqs[i]);
        cJSON *v = cJSON_CreateRaw(num);
        ok = v && cJSON_AddItemToArray(arr, v);
    }
    free(seqs);
    return ok;
}

static cJSON *
state_json(struct nb_stream *st, const char *filter, bool deleted)
{
    struct nb_store_state s;
    nb_store_state(st->store, &s);
    bool never = s.last_seq == 0;
    cJSON *o = cJSON_CreateObject();
    bool ok = o && nb__json_u64(o, "messages", s.msgs) && nb__json_u64(o, "bytes", s.bytes) &&
              nb__json_u64(o, "first_seq", never ? 0 : s.first_seq) &&
              nb__json_time(o, "first_ts", s.msgs ? s.first_ts : 0) &&
              nb__json_u64(o, "last_seq", s.last_seq) &&
              nb__json_time(o, "last_ts", s.last_seq ? s.last_ts : 0);
    if (ok && s.num_subjects) ok = nb__json_u64(o, "num_subjects", s.num_subjects);
    if (ok && filter && s.num_subjects) {
        struct subjects_ctx x = {cJSON_AddObjectToObject(o, "subjects"), true};
        x.ok = x.map != NULL;
        if (x.ok) nb_store_each_subject(st->store, filter, add_subject, &x);
        ok = x.ok;
    }
    if (ok && s.num_deleted) ok = nb__json_u64(o, "num_deleted", s.num_deleted);
    if (ok && deleted && s.num_deleted) ok = add_deleted(o, st->store, s.num_deleted);
    if (ok && s.lost_msgs) {
        cJSON *lost = cJSON_AddObjectToObject(o, "lost");
        ok = lost && nb__json_u64(lost, "msgs", s.lost_msgs) &&
             nb__json_u64(lost, "bytes", s.lost_bytes);
    }
    size_t consumers = 0;
    for (struct nb_consumer *c = st->consumers; c; c = nb__consumer_next(c))
        consumers++;
    if (ok) ok = nb__json_u64(o, "consumer_count", consumers);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
nb__stream_info(struct nb_stream *st, const char *subjects_filter, bool deleted)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON *cfg = nb_streamcfg_to_json(&st->cfg);
    if (!cfg || !cJSON_AddItemToObject(o, "config", cfg)) {
        cJSON_Delete(cfg);
        goto fail;
    }
    if (!nb__json_time(o, "created", st->created_ns)) goto fail;
    cJSON *state = state_json(st, subjects_filter, deleted);
    if (!state || !cJSON_AddItemToObject(o, "state", state)) {
        cJSON_Delete(state);
        goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

int
nb__stream_purge(struct nb_stream *st, const char *filter, uint64_t upto, uint64_t keep,
                 uint64_t *purged, struct nb_jserr *err)
{
    if (st->cfg.sealed) {
        nb_jserr_set(err, NB_JSERR_STREAM_SEALED, NULL);
        return -1;
    }
    if (st->cfg.deny_purge) {
        nb_jserr_set(err, NB_JSERR_STREAM_PURGE_FAILED, "stream purge not permitted");
        return -1;
    }
    int rc = nb_store_purge(st->store, filter, upto, keep, purged);
    if (st->consumers) nb__consumers_purged(st);
    if (rc) {
        nb__stream_undone(st);
        nb_jserr_setf(err, NB_JSERR_STREAM_PURGE_FAILED, "%s", nb_strerror(rc));
        return -1;
    }
    st->dirty = true;
    arm_age_timer(st);
    return 0;
}
