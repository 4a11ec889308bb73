/*
 * The JetStream API on $JS.API.>: one internal subscription, a table from subject tokens to
 * handlers, and nats-server's response shapes (spec 1.2-1.4, 1.9). Every request with a reply
 * subject gets exactly one answer; a malformed one gets an error, never silence.
 */
#include "nb_consumer.h"
#include "nb_js.h"
#include "nb_srv.h"
#include "np.h"
#include "np_b64.h"
#include "np_buf.h"
#include "np_time.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_PREFIX "io.nats.jetstream.api.v1."
#define MAX_TOKENS  16
#define NAMES_LIMIT 1024
#define LIST_LIMIT  256

/* One request: its subject split into tokens after "$JS.API", and its body. */
struct req {
    struct nb_js *js;
    const struct nb_msg *msg;
    struct np_str tok[MAX_TOKENS];
    int ntok;
    const char *body;
    size_t body_len;
    const char *type; /* the response type, "stream_info_response"... */
    cJSON *json;      /* the parsed body, NULL when empty */
};

/* ---- responses ---------------------------------------------------------------------------------- */

static cJSON *
response(const struct req *r)
{
    char type[96];
    snprintf(type, sizeof type, TYPE_PREFIX "%s", r->type);
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "type", type)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void
send_json(struct req *r, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    if (text) nb__js_reply(r->js, r->msg->reply, r->msg->reply_len, text, strlen(text));
    free(text);
    cJSON_Delete(o);
}

static void
send_error(struct req *r, const struct nb_jserr *err)
{
    r->js->api_errors++;
    cJSON *o = response(r), *e = o ? cJSON_AddObjectToObject(o, "error") : NULL;
    if (e) {
        cJSON_AddNumberToObject(e, "code", err->code);
        cJSON_AddNumberToObject(e, "err_code", err->err_code);
        cJSON_AddStringToObject(e, "description", err->description);
    }
    send_json(r, o);
}

static void
send_err_id(struct req *r, enum nb_jserr_id id, const char *arg)
{
    struct nb_jserr err;
    nb_jserr_set(&err, id, arg);
    send_error(r, &err);
}

/* ---- request helpers ---------------------------------------------------------------------------- */

static bool
tok_is(const struct req *r, int i, const char *s)
{
    return i < r->ntok && r->tok[i].len == strlen(s) &&
           memcmp(r->tok[i].ptr, s, r->tok[i].len) == 0;
}

static bool
body_empty(const struct req *r)
{
    for (size_t i = 0; i < r->body_len; i++) {
        if (!strchr(" \t\r\n", r->body[i])) return false;
    }
    return true;
}

/* Parses the body into r->json; an empty body is NULL. Answers and returns false when malformed. */
static bool
parse_body(struct req *r)
{
    if (body_empty(r)) return true;
    r->json = cJSON_ParseWithLength(r->body, r->body_len);
    if (cJSON_IsObject(r->json)) return true;
    send_err_id(r, NB_JSERR_INVALID_JSON, r->json ? "expected an object" : "malformed request");
    return false;
}

/* The stream named by token i; answers 10059 and returns NULL when there is none. */
static struct nb_stream *
find_stream(struct req *r, int i)
{
    struct nb_stream *st =
        i < r->ntok ? np_map_get(&r->js->names, r->tok[i].ptr, r->tok[i].len) : NULL;
    if (!st) send_err_id(r, NB_JSERR_STREAM_NOT_FOUND, NULL);
    return st;
}

/* A non-negative integer field of the body; false when present and not one. */
static bool
get_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = 0;
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1.8e19 ||
        v->valuedouble != floor(v->valuedouble))
        return false;
    *out = (uint64_t)v->valuedouble;
    return true;
}

static const char *
get_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
get_bool(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* ---- account ------------------------------------------------------------------------------------ */

static void
api_info(struct req *r)
{
    struct nb_js *js = r->js;
    const struct nb_config *c = &js->srv->cfg;
    size_t n = np_map_count(&js->names);
    cJSON *o = response(r), *lim = NULL, *api = NULL;
    bool ok =
        o && nb__json_u64(o, "memory", nb__js_usage(js, NB_STORE_MEMORY)) &&
        nb__json_u64(o, "storage", nb__js_usage(js, NB_STORE_FILE)) &&
        nb__json_u64(o, "streams", n) && nb__json_u64(o, "consumers", 0) &&
        (lim = cJSON_AddObjectToObject(o, "limits")) &&
        nb__json_i64(lim, "max_memory", c->js_max_memory) &&
        nb__json_i64(lim, "max_storage", c->js_max_file) && nb__json_i64(lim, "max_streams", -1) &&
        nb__json_i64(lim, "max_consumers", -1) && nb__json_i64(lim, "max_ack_pending", -1) &&
        nb__json_i64(lim, "memory_max_stream_bytes", -1) &&
        nb__json_i64(lim, "storage_max_stream_bytes", -1) &&
        cJSON_AddFalseToObject(lim, "max_bytes_required") &&
        (api = cJSON_AddObjectToObject(o, "api")) && nb__json_u64(api, "total", js->api_total) &&
        nb__json_u64(api, "errors", js->api_errors);
    if (!ok) cJSON_Delete(o);
    send_json(r, ok ? o : NULL);
}

/* ---- streams ------------------------------------------------------------------------------------ */

/* Answers with the StreamInfo of st, its fields added after "type". */
static void
send_info(struct req *r, struct nb_stream *st, const char *filter, bool deleted, bool created)
{
    cJSON *o = response(r), *info = nb__stream_info(st, filter, deleted);
    if (!o || !info) {
        cJSON_Delete(o);
        cJSON_Delete(info);
        return send_err_id(r, NB_JSERR_STREAM_CREATE, "out of memory");
    }
    while (info->child) {
        cJSON *item = cJSON_DetachItemViaPointer(info, info->child);
        cJSON_AddItemToObject(o, item->string, item);
    }
    cJSON_Delete(info);
    if (created) cJSON_AddTrueToObject(o, "did_create");
    send_json(r, o);
}

/* Parses and checks a configuration body for CREATE and UPDATE; answers and fails when bad. */
static bool
parse_config(struct req *r, struct nb_stream_config *cfg)
{
    struct nb_jserr err = {0};
    if (body_empty(r)) {
        send_err_id(r, NB_JSERR_STREAM_INVALID_CONFIG, "stream configuration required");
        return false;
    }
    if (nb_streamcfg_parse(cfg, r->body, r->body_len, &err) != 0) {
        send_error(r, &err);
        return false;
    }
    if (strlen(cfg->name) != r->tok[2].len || memcmp(cfg->name, r->tok[2].ptr, r->tok[2].len)) {
        nb_streamcfg_release(cfg);
        send_err_id(r, NB_JSERR_STREAM_MISMATCH, NULL);
        return false;
    }
    return true;
}

static void
api_stream_create(struct req *r)
{
    struct nb_stream_config cfg;
    if (!parse_config(r, &cfg)) return;
    struct nb_stream *st = np_map_get(&r->js->names, cfg.name, strlen(cfg.name));
    struct nb_jserr err = {0};
    if (cfg.sealed) {
        send_err_id(r, NB_JSERR_STREAM_INVALID_CONFIG,
                    "stream configuration for create can not be sealed");
    } else if (st) {
        if (nb_streamcfg_equal(&st->cfg, &cfg))
            send_info(r, st, NULL, false, true);
        else
            send_err_id(r, NB_JSERR_STREAM_NAME_EXIST, NULL);
    } else if (nb__js_overlaps(r->js, &cfg, NULL)) {
        send_err_id(r, NB_JSERR_STREAM_SUBJECT_OVERLAP, NULL);
    } else if (nb__stream_open(r->js, &cfg, 0, &st, &err) != 0) {
        send_error(r, &err);
    } else {
        nb__js_add_stream(r->js, st);
        send_info(r, st, NULL, false, true);
    }
    nb_streamcfg_release(&cfg);
}

static void
api_stream_update(struct req *r)
{
    struct nb_stream_config cfg;
    if (!parse_config(r, &cfg)) return;
    struct nb_stream *st = find_stream(r, 2);
    struct nb_jserr err = {0};
    if (!st) {
    } else if (nb_streamcfg_check_update(&st->cfg, &cfg, &err) != 0) {
        send_error(r, &err);
    } else if (nb__js_overlaps(r->js, &cfg, st)) {
        send_err_id(r, NB_JSERR_STREAM_SUBJECT_OVERLAP, NULL);
    } else if (nb__stream_update(st, &cfg, &err) != 0) {
        send_error(r, &err);
    } else {
        send_info(r, st, NULL, false, false);
    }
    nb_streamcfg_release(&cfg);
}

static void
api_stream_info(struct req *r)
{
    struct nb_stream *st = find_stream(r, 2);
    if (st)
        send_info(r, st, get_str(r->json, "subjects_filter"), get_bool(r->json, "deleted_details"),
                  false);
}

static void
send_success(struct req *r, const char *key, uint64_t n)
{
    cJSON *o = response(r);
    if (o) cJSON_AddTrueToObject(o, "success");
    if (o && key) nb__json_u64(o, key, n);
    send_json(r, o);
}

static void
api_stream_delete(struct req *r)
{
    struct nb_stream *st = find_stream(r, 2);
    if (!st) return;
    nb__js_remove_stream(r->js, st);
    nb__stream_close(st, true);
    send_success(r, NULL, 0);
}

static void
api_stream_purge(struct req *r)
{
    struct nb_stream *st = find_stream(r, 2);
    if (!st) return;
    uint64_t seq, keep, purged = 0;
    const char *filter = get_str(r->json, "filter");
    struct nb_jserr err = {0};
    if (!get_u64(r->json, "seq", &seq) || !get_u64(r->json, "keep", &keep) || (seq && keep) ||
        (filter && !np_subject_valid(filter, strlen(filter))))
        return send_err_id(r, NB_JSERR_BAD_REQUEST, NULL);
    if (nb__stream_purge(st, filter, seq, keep, &purged, &err) != 0) return send_error(r, &err);
    send_success(r, "purged", purged);
}

/* The sorted names of the streams whose subjects intersect subject (NULL: all). */
static size_t
matching_streams(struct nb_js *js, const char *subject, struct nb_stream **out, size_t cap)
{
    size_t n = 0;
    for (struct nb_stream *st = js->streams; st && n < cap; st = st->next) {
        bool match = !subject;
        for (size_t i = 0; !match && i < st->cfg.nsubjects; i++) {
            const char *p = st->cfg.subjects[i];
            match = np_subject_intersect(p, strlen(p), subject, strlen(subject));
        }
        if (match) out[n++] = st;
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t k = i; k > 0 && strcmp(out[k - 1]->cfg.name, out[k]->cfg.name) > 0; k--) {
            struct nb_stream *t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    }
    return n;
}

static void
api_stream_names_or_list(struct req *r, bool list)
{
    uint64_t offset;
    const char *subject = get_str(r->json, "subject");
    if (!get_u64(r->json, "offset", &offset) ||
        (subject && !np_subject_valid(subject, strlen(subject))))
        return send_err_id(r, NB_JSERR_BAD_REQUEST, NULL);
    size_t cap = np_map_count(&r->js->names) + 1;
    struct nb_stream **all = malloc(cap * sizeof *all);
    if (!all) return;
    size_t n = matching_streams(r->js, subject, all, cap), limit = list ? LIST_LIMIT : NAMES_LIMIT;
    cJSON *o = response(r), *arr = NULL;
    bool ok = o && nb__json_u64(o, "total", n) && nb__json_u64(o, "offset", offset) &&
              nb__json_u64(o, "limit", limit);
    /* nats-server writes null, not [], when no stream matches; clients accept both. */
    if (ok && n > offset)
        ok = (arr = cJSON_AddArrayToObject(o, "streams")) != NULL;
    else if (ok)
        ok = cJSON_AddNullToObject(o, "streams") != NULL;
    for (size_t i = offset; ok && i < n && i < offset + limit; i++) {
        cJSON *item =
            list ? nb__stream_info(all[i], NULL, false) : cJSON_CreateString(all[i]->cfg.name);
        ok = item && cJSON_AddItemToArray(arr, item);
    }
    free(all);
    if (!ok) cJSON_Delete(o);
    send_json(r, ok ? o : NULL);
}

static void
api_stream_names(struct req *r)
{
    api_stream_names_or_list(r, false);
}

static void
api_stream_list(struct req *r)
{
    api_stream_names_or_list(r, true);
}

/* ---- messages ----------------------------------------------------------------------------------- */

/* Finds the message a MSG.GET or DIRECT.GET body asks for; returns 0, NB_STORE_ENOTFOUND or -1 (bad). */
static int
lookup(struct nb_stream *st, const cJSON *q, struct nb_store_msg *m)
{
    uint64_t seq;
    const char *last = get_str(q, "last_by_subj"), *next = get_str(q, "next_by_subj");
    if (!get_u64(q, "seq", &seq) || (last && (seq || next))) return -1;
    if (last) return nb_store_last_for(st->store, last, strlen(last), m);
    if (next) return nb_store_next(st->store, seq ? seq : 1, next, m);
    if (!seq) return -1;
    return nb_store_get(st->store, seq, m);
}

static bool
add_b64(cJSON *o, const char *key, const char *p, size_t len)
{
    if (!len) return true;
    struct np_buf b = {0};
    bool ok = np_b64_encode(p, len, &b) == 0 && cJSON_AddStringToObject(o, key, b.ptr);
    np_buf_release(&b);
    return ok;
}

static void
api_msg_get(struct req *r)
{
    struct nb_stream *st = find_stream(r, 3);
    if (!st) return;
    struct nb_store_msg m;
    int rc = r->json ? lookup(st, r->json, &m) : -1;
    if (rc == -1) return send_err_id(r, NB_JSERR_BAD_REQUEST, NULL);
    if (rc != 0) return send_err_id(r, NB_JSERR_NO_MESSAGE_FOUND, NULL);
    char *subject = strndup(m.subject, m.subject_len);
    cJSON *o = response(r), *msg = o ? cJSON_AddObjectToObject(o, "message") : NULL;
    bool ok = msg && subject && cJSON_AddStringToObject(msg, "subject", subject) &&
              nb__json_u64(msg, "seq", m.seq) && add_b64(msg, "hdrs", m.hdr, m.hdr_len) &&
              add_b64(msg, "data", m.data, m.data_len) && nb__json_time(msg, "time", m.ts);
    free(subject);
    if (!ok) cJSON_Delete(o);
    send_json(r, ok ? o : NULL);
}

static void
api_msg_delete(struct req *r)
{
    struct nb_stream *st = find_stream(r, 3);
    if (!st) return;
    uint64_t seq;
    if (!r->json || !get_u64(r->json, "seq", &seq) || !seq)
        return send_err_id(r, NB_JSERR_BAD_REQUEST, NULL);
    if (st->cfg.sealed) return send_err_id(r, NB_JSERR_STREAM_SEALED, NULL);
    if (st->cfg.deny_delete)
        return send_err_id(r, NB_JSERR_STREAM_MSG_DELETE_FAILED, "message delete not permitted");
    int rc = nb_store_remove(st->store, seq, NB_RM_DURABLE);
    if (rc == NB_STORE_ENOTFOUND) {
        char num[24];
        snprintf(num, sizeof num, "%" PRIu64, seq);
        return send_err_id(r, NB_JSERR_SEQUENCE_NOT_FOUND, num);
    }
    if (rc) {
        nb__stream_undone(st);
        return send_err_id(r, NB_JSERR_STREAM_MSG_DELETE_FAILED, nb_strerror(rc));
    }
    st->dirty = true;
    send_success(r, NULL, 0);
}

/* ---- direct get ---------------------------------------------------------------------------------- */

static void
send_status(struct req *r, int code, const char *text)
{
    char hdr[96];
    int n = snprintf(hdr, sizeof hdr, "NATS/1.0 %d %s\r\n\r\n", code, text);
    struct nb_msg m = {.subject = r->msg->reply,
                       .subject_len = r->msg->reply_len,
                       .data = hdr,
                       .hdr_len = (size_t)n,
                       .len = (size_t)n};
    nb_server_publish(r->js->srv, &m);
}

/* The stored headers (without their closing blank line) and the direct-get fields, then the body. */
static void
send_direct(struct req *r, struct nb_stream *st, const struct nb_store_msg *m)
{
    struct np_buf b = {0};
    char ts[NP_TIME_MAX], line[160];
    np_time_format(m->ts, ts, sizeof ts);
    bool closed = m->hdr_len >= 4 && memcmp(m->hdr + m->hdr_len - 4, "\r\n\r\n", 4) == 0;
    int rc = closed ? np_buf_add(&b, m->hdr, m->hdr_len - 2) : np_buf_adds(&b, "NATS/1.0\r\n");
    snprintf(line, sizeof line, "Nats-Stream: %s\r\nNats-Subject: ", st->cfg.name);
    rc |= np_buf_adds(&b, line);
    rc |= np_buf_add(&b, m->subject, m->subject_len);
    snprintf(line, sizeof line, "\r\nNats-Sequence: %" PRIu64 "\r\nNats-Time-Stamp: %s\r\n\r\n",
             m->seq, ts);
    rc |= np_buf_adds(&b, line);
    size_t hdr_len = b.len;
    rc |= np_buf_add(&b, m->data, m->data_len);
    if (rc == 0) {
        struct nb_msg out = {.subject = r->msg->reply,
                             .subject_len = r->msg->reply_len,
                             .data = b.ptr,
                             .hdr_len = hdr_len,
                             .len = b.len};
        nb_server_publish(r->js->srv, &out);
    }
    np_buf_release(&b);
}

static void
api_direct_get(struct req *r)
{
    struct nb_stream *st =
        r->ntok > 2 ? np_map_get(&r->js->names, r->tok[2].ptr, r->tok[2].len) : NULL;
    if (!st || !st->cfg.allow_direct) return; /* as nats-server: nobody answers */
    struct nb_store_msg m;
    int rc;
    if (r->ntok > 3) {
        if (!body_empty(r)) return send_status(r, 408, "Bad Request");
        const char *subject = r->tok[3].ptr;
        size_t len = (size_t)(r->msg->subject + r->msg->subject_len - subject);
        rc = nb_store_last_for(st->store, subject, len, &m);
    } else {
        if (body_empty(r)) return send_status(r, 408, "Empty Request");
        cJSON *q = cJSON_ParseWithLength(r->body, r->body_len);
        rc = cJSON_IsObject(q) ? lookup(st, q, &m) : -1;
        cJSON_Delete(q);
        if (rc == -1) return send_status(r, 408, "Malformed Request");
    }
    if (rc != 0) return send_status(r, 404, "Message Not Found");
    send_direct(r, st, &m);
}

/* ---- consumers ---------------------------------------------------------------------------------- */

static void
send_err_raw(struct req *r, int code, int err_code, const char *text)
{
    struct nb_jserr err = {.code = code, .err_code = err_code};
    snprintf(err.description, sizeof err.description, "%s", text);
    send_error(r, &err);
}

/* Answers with an error and returns false, for checks that refuse a request. */
static bool
refuse(struct req *r, int code, int err_code, const char *text)
{
    send_err_raw(r, code, err_code, text);
    return false;
}

/* Sends ConsumerInfo of c with the response type, its fields after "type". */
static void
send_consumer(struct req *r, struct nb_consumer *c)
{
    cJSON *o = response(r), *info = nb__consumer_info(c);
    if (!o || !info) {
        cJSON_Delete(o);
        cJSON_Delete(info);
        return send_err_id(r, NB_JSERR_CONSUMER_CREATE, "out of memory");
    }
    while (info->child) {
        cJSON *item = cJSON_DetachItemViaPointer(info, info->child);
        cJSON_AddItemToObject(o, item->string, item);
    }
    cJSON_Delete(info);
    send_json(r, o);
}

/* The consumer named by token i of stream st; answers 10014 and returns NULL when there is none. */
static struct nb_consumer *
find_consumer(struct req *r, struct nb_stream *st, int i)
{
    struct nb_consumer *c =
        i < r->ntok ? nb__consumer_find(st, r->tok[i].ptr, r->tok[i].len) : NULL;
    if (!c) send_err_id(r, NB_JSERR_CONSUMER_NOT_FOUND, NULL);
    return c;
}

static bool
str_eq(const char *s, struct np_str t)
{
    return s && strlen(s) == t.len && memcmp(s, t.ptr, t.len) == 0;
}

/* The consumer name the create subject asks for (spec 1.5); answers and fails when it is wrong. */
static bool
resolve_name(struct req *r, struct nb_consumer_config *cfg, char **name)
{
    bool durable_api = tok_is(r, 1, "DURABLE");
    *name = NULL;
    if (durable_api) {
        if (!cfg->durable_name)
            return refuse(r, 400, 10018,
                          "consumer expected to be durable but a durable name was not set");
        if (!str_eq(cfg->durable_name, r->tok[4]))
            return refuse(r, 400, 10017,
                          "consumer name in subject does not match durable name in request");
        *name = strndup(r->tok[4].ptr, r->tok[4].len);
    } else if (r->ntok == 3) {
        if (cfg->durable_name)
            return refuse(r, 400, 10020,
                          "consumer expected to be ephemeral but a durable name was set in "
                          "request");
        if (cfg->name) {
            *name = strdup(cfg->name);
        } else {
            char gen[9];
            np_rand_fill(&r->js->srv->rng, gen, 8,
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
            gen[8] = '\0';
            *name = strdup(gen);
        }
    } else {
        if ((cfg->durable_name && !str_eq(cfg->durable_name, r->tok[3])) ||
            (cfg->name && !str_eq(cfg->name, r->tok[3])))
            return refuse(r, 400, 10017,
                          "consumer name in subject does not match durable name in request");
        if (r->ntok > 4) {
            const char *f = r->tok[4].ptr;
            size_t flen = (size_t)(r->msg->subject + r->msg->subject_len - f);
            if (cfg->nfilter_subjects)
                return refuse(r, 400, 10137,
                              "consumer with multiple subject filters cannot use subject "
                              "based API");
            if (!cfg->filter_subject || strlen(cfg->filter_subject) != flen ||
                memcmp(cfg->filter_subject, f, flen) != 0)
                return refuse(r, 400, 10131,
                              "Consumer create request did not match filtered subject from "
                              "create subject");
        }
        *name = strndup(r->tok[3].ptr, r->tok[3].len);
    }
    if (!*name || !nb_js_name_valid(*name)) {
        free(*name);
        *name = NULL;
        send_err_id(r, NB_JSERR_CONSUMER_CREATE, "consumer name is invalid");
        return false;
    }
    return true;
}

static bool
filters_overlap(const struct nb_consumer_config *a, const struct nb_consumer_config *b)
{
    const char *fa = a->filter_subject ? a->filter_subject : ">";
    const char *fb = b->filter_subject ? b->filter_subject : ">";
    return np_subject_intersect(fa, strlen(fa), fb, strlen(fb));
}

/* Work queues: one consumer per message, so filters may not overlap (spec 2.2). */
static bool
workqueue_ok(struct req *r, struct nb_stream *st, const struct nb_consumer_config *cfg)
{
    if (st->cfg.retention != NB_RETENTION_WORKQUEUE) return true;
    for (struct nb_consumer *c = st->consumers; c; c = nb__consumer_next(c)) {
        const struct nb_consumer_config *o = nb__consumer_config(c);
        if (strcmp(o->name, cfg->name) == 0) continue;
        if (!o->filter_subject || !cfg->filter_subject)
            return refuse(r, 400, 10099,
                          "multiple non-filtered consumers not allowed on workqueue stream");
        if (filters_overlap(o, cfg))
            return refuse(r, 400, 10100, "filtered consumer not unique on workqueue stream");
    }
    return true;
}

static void
create_or_update(struct req *r, struct nb_stream *st, struct nb_consumer_config *cfg)
{
    const char *action = get_str(r->json, "action");
    struct nb_consumer *c = nb__consumer_find(st, cfg->name, strlen(cfg->name));
    struct nb_jserr err = {0};
    if (!c) {
        if (action && strcmp(action, "update") == 0)
            return send_err_raw(r, 400, 10149, "consumer does not exist");
        if (!workqueue_ok(r, st, cfg)) return;
        if (nb__consumer_create(st, cfg, &c, &err) != 0) return send_error(r, &err);
        return send_consumer(r, c);
    }
    const struct nb_consumer_config *old = nb__consumer_config(c);
    if (nb_consumercfg_equal(old, cfg)) return send_consumer(r, c);
    if (action && strcmp(action, "create") == 0)
        return send_err_raw(r, 400, 10148, "consumer already exists");
    if (nb_consumercfg_check_update(old, cfg, &err) != 0) return send_error(r, &err);
    bool moved = (old->deliver_subject && cfg->deliver_subject &&
                  strcmp(old->deliver_subject, cfg->deliver_subject) != 0);
    if (moved && nb__consumer_bound(c)) return send_err_id(r, NB_JSERR_CONSUMER_NAME_EXIST, NULL);
    if (nb__consumer_update(c, cfg, &err) != 0) return send_error(r, &err);
    send_consumer(r, c);
}

static void
api_consumer_create(struct req *r)
{
    int stream_tok = tok_is(r, 1, "DURABLE") ? 3 : 2;
    if (tok_is(r, 1, "DURABLE") && (r->ntok != 5 || !tok_is(r, 2, "CREATE")))
        return send_err_id(r, NB_JSERR_BAD_REQUEST, NULL);
    struct nb_stream *st = find_stream(r, stream_tok);
    if (!st) return;
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(r->json, "config");
    if (!cJSON_IsObject(config)) return send_err_raw(r, 400, 10078, "consumer config required");
    const char *sname = get_str(r->json, "stream_name");
    if (sname && !str_eq(sname, r->tok[stream_tok]))
        return send_err_id(r, NB_JSERR_STREAM_MISMATCH, NULL);
    struct nb_consumer_config cfg;
    struct nb_jserr err = {0};
    if (nb_consumercfg_from_json(&cfg, config, &st->cfg, &err) != 0) return send_error(r, &err);
    char *name;
    if (resolve_name(r, &cfg, &name)) {
        free(cfg.name);
        cfg.name = name;
        create_or_update(r, st, &cfg);
    }
    nb_consumercfg_release(&cfg);
}

static void
api_consumer_info(struct req *r)
{
    struct nb_stream *st = find_stream(r, 2);
    struct nb_consumer *c = st ? find_consumer(r, st, 3) : NULL;
    if (c) send_consumer(r, c);
}

static void
api_consumer_delete(struct req *r)
{
    struct nb_stream *st = find_stream(r, 2);
    struct nb_consumer *c = st ? find_consumer(r, st, 3) : NULL;
    if (!c) return;
    uint64_t floor = nb__consumer_floor(c);
    nb__consumer_delete(c, true);
    /* What only this consumer still wanted leaves an interest stream with it. */
    nb__consumers_release(st, floor + 1);
    send_success(r, NULL, 0);
}

static int
cmp_consumers(const void *a, const void *b)
{
    const struct nb_consumer *const *x = a, *const *y = b;
    return strcmp(nb__consumer_config(*x)->name, nb__consumer_config(*y)->name);
}

static void
api_consumer_names(struct req *r)
{
    struct nb_stream *st = find_stream(r, 2);
    if (!st) return;
    bool list = tok_is(r, 1, "LIST");
    uint64_t offset;
    if (!get_u64(r->json, "offset", &offset)) return send_err_id(r, NB_JSERR_BAD_REQUEST, NULL);
    size_t n = 0, limit = list ? LIST_LIMIT : NAMES_LIMIT;
    for (struct nb_consumer *c = st->consumers; c; c = nb__consumer_next(c))
        n++;
    struct nb_consumer **all = malloc((n + 1) * sizeof *all);
    if (!all) return;
    n = 0;
    for (struct nb_consumer *c = st->consumers; c; c = nb__consumer_next(c))
        all[n++] = c;
    qsort(all, n, sizeof *all, cmp_consumers);
    cJSON *o = response(r), *arr = NULL;
    bool ok = o && nb__json_u64(o, "total", n) && nb__json_u64(o, "offset", offset) &&
              nb__json_u64(o, "limit", limit) && (arr = cJSON_AddArrayToObject(o, "consumers"));
    for (size_t i = offset; ok && i < n && i < offset + limit; i++) {
        cJSON *item = list ? nb__consumer_info(all[i])
                           : cJSON_CreateString(nb__consumer_config(all[i])->name);
        ok = item && cJSON_AddItemToArray(arr, item);
    }
    free(all);
    if (!ok) cJSON_Delete(o);
    send_json(r, ok ? o : NULL);
}

/* Pull requests to a consumer that does not exist get no answer, as from nats-server. */
static void
api_consumer_next(struct req *r)
{
    struct nb_stream *st = np_map_get(&r->js->names, r->tok[3].ptr, r->tok[3].len);
    struct nb_consumer *c = st ? nb__consumer_find(st, r->tok[4].ptr, r->tok[4].len) : NULL;
    if (c) nb__consumer_pull(c, r->msg);
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

struct route {
    const char *t0, *t1, *t2; /* tokens after $JS.API; NULL matches anything */
    int min_tokens, max_tokens;
    const char *type;
    void (*fn)(struct req *r);
};

static const struct route routes[] = {
    {"INFO", NULL, NULL, 1, 1, "account_info_response", api_info},
    {"STREAM", "CREATE", NULL, 3, 3, "stream_create_response", api_stream_create},
    {"STREAM", "UPDATE", NULL, 3, 3, "stream_update_response", api_stream_update},
    {"STREAM", "INFO", NULL, 3, 3, "stream_info_response", api_stream_info},
    {"STREAM", "DELETE", NULL, 3, 3, "stream_delete_response", api_stream_delete},
    {"STREAM", "PURGE", NULL, 3, 3, "stream_purge_response", api_stream_purge},
    {"STREAM", "NAMES", NULL, 2, 2, "stream_names_response", api_stream_names},
    {"STREAM", "LIST", NULL, 2, 2, "stream_list_response", api_stream_list},
    {"STREAM", "MSG", "GET", 4, 4, "stream_msg_get_response", api_msg_get},
    {"STREAM", "MSG", "DELETE", 4, 4, "stream_msg_delete_response", api_msg_delete},
    {"DIRECT", "GET", NULL, 3, MAX_TOKENS, NULL, api_direct_get},
    {"CONSUMER", "NAMES", NULL, 3, 3, "consumer_names_response", api_consumer_names},
    {"CONSUMER", "LIST", NULL, 3, 3, "consumer_list_response", api_consumer_names},
    {"CONSUMER", "INFO", NULL, 4, 4, "consumer_info_response", api_consumer_info},
    {"CONSUMER", "MSG", "NEXT", 5, 5, NULL, api_consumer_next},
    {"CONSUMER", "DELETE", NULL, 4, 4, "consumer_delete_response", api_consumer_delete},
    {"CONSUMER", "DURABLE", NULL, 5, 5, "consumer_create_response", api_consumer_create},
    {"CONSUMER", "CREATE", NULL, 3, MAX_TOKENS, "consumer_create_response", api_consumer_create},
};

static const struct route *
find_route(const struct req *r)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *rt = &routes[i];
        if (r->ntok < rt->min_tokens || r->ntok > rt->max_tokens) continue;
        if (!tok_is(r, 0, rt->t0) || (rt->t1 && !tok_is(r, 1, rt->t1)) ||
            (rt->t2 && !tok_is(r, 2, rt->t2)))
            continue;
        return rt;
    }
    return NULL;
}

void
nb__jsapi_handle(struct nb_server *srv, const struct nb_msg *msg, void *ud)
{
    (void)srv;
    struct nb_js *js = ud;
    if (!msg->reply_len) return; /* nobody to answer, as nats-server */
    struct np_str all[MAX_TOKENS + 2];
    int n = np_subject_tokens(msg->subject, msg->subject_len, all, MAX_TOKENS + 2);
    struct req r = {.js = js,
                    .msg = msg,
                    .body = msg->data + msg->hdr_len,
                    .body_len = msg->len - msg->hdr_len,
                    .type = "system_response"};
    js->api_total++;
    if (n > 2) {
        r.ntok = n - 2;
        memcpy(r.tok, all + 2, (size_t)r.ntok * sizeof r.tok[0]);
    }
    const struct route *rt = n > 2 ? find_route(&r) : NULL;
    if (!rt) return send_err_id(&r, NB_JSERR_BAD_REQUEST, NULL);
    if (!rt->fn) return;
    if (rt->type) r.type = rt->type;
    if (rt->type && !parse_body(&r)) return;
    rt->fn(&r);
    cJSON_Delete(r.json);
}
