/*
 * Consumer configurations (spec 4.1), decoded as nats-server's Go decoder and consumer checks
 * treat them: a value of the wrong JSON type, an unknown enum value or an unparsable
 * opt_start_time fails the request with 10025, while a well-formed but unacceptable
 * configuration gets the specific error nats-server sends (10079..10153). Texts and echoes were
 * checked against nats-server 2.9.10; 2.10 features (filter_subjects, metadata, consumer_limits)
 * follow 2.10.
 *
 * Divergences from 2.9.10, on purpose: max_ack_pending below -1 is normalised to -1 and a
 * negative inactive_threshold to 0 (2.9.10 echoes them, but they mean "unlimited" and "never"
 * anyway); opt_start_time at the Unix epoch or Go's zero time counts as not set, as the struct
 * has no other spelling for it; a negative or too small idle_heartbeat on a push consumer is a
 * 10083; an unset max_deliver is allowed with backoff (2.10; 2.9.10 answered 10116); the filter
 * is not required to be a subset of the stream's subjects (2.10; nats.js sends ">"), but it
 * must be a valid subject (10093); updates compare opt_start_time by value (2.9.10 refused every
 * update of a consumer that had one) and refuse a mem_storage change (2.10). The 2.11 keys
 * (pause_until, priority_*) are refused when set rather than silently ignored.
 */
#include "nb_consumercfg.h"
#include "nb_jsjson.h"
#include "np.h"
#include "np_time.h"
#include "np_units.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN         255
#define DESCRIPTION_MAX_LEN  4096
#define NS_PER_MS            1000000LL
#define NS_PER_SEC           1000000000LL
#define DEFAULT_ACK_WAIT_NS  (30 * NS_PER_SEC)
#define DEFAULT_INACTIVE_NS  (5 * NS_PER_SEC)
#define MIN_HEARTBEAT_NS     (100 * NS_PER_MS)
#define DEFAULT_MAX_WAITING  512
#define DEFAULT_MAX_ACK_PEND 1000

static const char *const deliver_names[] = {
    "all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject",
};
/* How nats-server's 10094 texts name each deliver policy. */
static const char *const deliver_texts[] = {
    "deliver all",           "deliver last",
    "deliver new",           "deliver by start sequence",
    "deliver by start time", "deliver last per subject",
};
static const char *const ack_names[] = {"none", "all", "explicit"};
static const char *const replay_names[] = {"instant", "original"};

static const struct int_field {
    const char *key;
    size_t offset;
} int_fields[] = {
    {"ack_wait", offsetof(struct nb_consumer_config, ack_wait)},
    {"max_deliver", offsetof(struct nb_consumer_config, max_deliver)},
    {"max_waiting", offsetof(struct nb_consumer_config, max_waiting)},
    {"max_ack_pending", offsetof(struct nb_consumer_config, max_ack_pending)},
    {"idle_heartbeat", offsetof(struct nb_consumer_config, idle_heartbeat)},
    {"max_batch", offsetof(struct nb_consumer_config, max_batch)},
    {"max_expires", offsetof(struct nb_consumer_config, max_expires)},
    {"max_bytes", offsetof(struct nb_consumer_config, max_request_max_bytes)},
    {"inactive_threshold", offsetof(struct nb_consumer_config, inactive_threshold)},
};

static const struct bool_field {
    const char *key;
    size_t offset;
} bool_fields[] = {
    {"flow_control", offsetof(struct nb_consumer_config, flow_control)},
    {"headers_only", offsetof(struct nb_consumer_config, headers_only)},
    {"mem_storage", offsetof(struct nb_consumer_config, mem_storage)},
};

static const struct str_field {
    const char *key;
    size_t offset;
} str_fields[] = {
    {"durable_name", offsetof(struct nb_consumer_config, durable_name)},
    {"name", offsetof(struct nb_consumer_config, name)},
    {"description", offsetof(struct nb_consumer_config, description)},
    {"filter_subject", offsetof(struct nb_consumer_config, filter_subject)},
    {"sample_freq", offsetof(struct nb_consumer_config, sample_freq)},
    {"deliver_subject", offsetof(struct nb_consumer_config, deliver_subject)},
    {"deliver_group", offsetof(struct nb_consumer_config, deliver_group)},
};

/* 2.11 features: honouring half of a request that sets one would mislead the client. */
static const char *const unsupported_fields[] = {
    "pause_until",
    "priority_groups",
    "priority_timeout",
    "pinned_ttl",
};

#define COUNT(a)            (sizeof(a) / sizeof((a)[0]))
#define FIELD(cfg, T, off)  ((T *)((char *)(cfg) + (off)))
#define CFIELD(cfg, T, off) ((const T *)((const char *)(cfg) + (off)))

static bool
fail(struct nb_jserr *err, enum nb_jserr_id id)
{
    nb_jserr_set(err, id, NULL);
    return false;
}

static bool
get_enums(const cJSON *obj, struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    int deliver = NB_DELIVER_ALL, ack = NB_ACK_NONE, replay = NB_REPLAY_INSTANT;
    const cJSON *dp = cJSON_GetObjectItemCaseSensitive(obj, "deliver_policy");
    bool undefined = cJSON_IsString(dp) && strcmp(dp->valuestring, "undefined") == 0;
    if ((!undefined &&
         !nb__jj_enum(obj, "deliver_policy", deliver_names, COUNT(deliver_names), &deliver, err)) ||
        !nb__jj_enum(obj, "ack_policy", ack_names, COUNT(ack_names), &ack, err) ||
        !nb__jj_enum(obj, "replay_policy", replay_names, COUNT(replay_names), &replay, err))
        return false;
    cfg->deliver_policy = (enum nb_deliver_policy)deliver;
    cfg->ack_policy = (enum nb_ack_policy)ack;
    cfg->replay_policy = (enum nb_replay_policy)replay;
    return true;
}

static bool
get_scalars(const cJSON *obj, struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    for (size_t i = 0; i < COUNT(int_fields); i++)
        if (!nb__jj_int(obj, int_fields[i].key, INT64_MIN, INT64_MAX,
                        FIELD(cfg, int64_t, int_fields[i].offset), err))
            return false;
    for (size_t i = 0; i < COUNT(bool_fields); i++)
        if (!nb__jj_bool(obj, bool_fields[i].key, FIELD(cfg, bool, bool_fields[i].offset), err))
            return false;
    for (size_t i = 0; i < COUNT(str_fields); i++)
        if (!nb__jj_string(obj, str_fields[i].key, true, FIELD(cfg, char *, str_fields[i].offset),
                           err))
            return false;
    int64_t replicas = 0;
    if (!nb__jj_int(obj, "num_replicas", INT64_MIN, INT64_MAX, &replicas, err)) return false;
    /* Only the sign and "more than one" matter to the checks; this keeps any int64 in an int. */
    cfg->num_replicas = replicas < 0 ? -1 : replicas > 1 ? 2 : (int)replicas;
    return nb__jj_uint(obj, "opt_start_seq", &cfg->opt_start_seq, err) &&
           nb__jj_uint(obj, "rate_limit_bps", &cfg->rate_limit_bps, err);
}

static bool
get_start_time(const cJSON *obj, struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    const cJSON *item = nb__jj_member(obj, "opt_start_time");
    if (!item) return true;
    if (!cJSON_IsString(item) ||
        np_time_parse(item->valuestring, strlen(item->valuestring), &cfg->opt_start_time) != 0)
        return nb__jj_bad(err, "must be an RFC 3339 time", "opt_start_time");
    return true;
}

static bool
get_backoff(const cJSON *obj, struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    const cJSON *arr = nb__jj_member(obj, "backoff");
    if (!arr) return true;
    if (!cJSON_IsArray(arr)) return nb__jj_bad(err, "must be an array of integers", "backoff");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) return true;
    cfg->backoff = calloc(n, sizeof *cfg->backoff);
    if (!cfg->backoff) return nb__jj_nomem(err);
    for (const cJSON *v = arr->child; v; v = v->next) {
        if (!cJSON_IsNumber(v) || !nb__jj_to_int64(v->valuedouble, &cfg->backoff[cfg->nbackoff]))
            return nb__jj_bad(err, "must be an array of integers", "backoff");
        cfg->nbackoff++;
    }
    return true;
}

static bool
unsupported(struct nb_jserr *err, const char *key)
{
    nb_jserr_setf(err, NB_JSERR_CONSUMER_CREATE, "%s is not supported by natsctl", key);
    return false;
}

static bool
check_unsupported(const cJSON *obj, struct nb_jserr *err)
{
    for (size_t i = 0; i < COUNT(unsupported_fields); i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, unsupported_fields[i]);
        if (item && !nb__jj_blank(item)) return unsupported(err, unsupported_fields[i]);
    }
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(obj, "priority_policy");
    if (pp && !nb__jj_blank(pp) && !(cJSON_IsString(pp) && strcmp(pp->valuestring, "none") == 0))
        return unsupported(err, "priority_policy");
    return true;
}

static bool
decode(const cJSON *obj, struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    return get_enums(obj, cfg, err) && get_scalars(obj, cfg, err) &&
           get_start_time(obj, cfg, err) && get_backoff(obj, cfg, err) &&
           nb__jj_strings(obj, "filter_subjects", &cfg->filter_subjects, &cfg->nfilter_subjects,
                          err) &&
           nb__jj_metadata(obj, &cfg->metadata, err) && check_unsupported(obj, err);
}

/* -------------------------------------------------------------------------------------------- */
/* Normalisation                                                                                 */
/* -------------------------------------------------------------------------------------------- */

static bool
is_push(const struct nb_consumer_config *cfg)
{
    return cfg->deliver_subject != NULL;
}

static bool
check_one_name(const char *name, struct nb_jserr *err)
{
    if (!name) return true;
    if (strpbrk(name, "/\\")) return fail(err, NB_JSERR_CONSUMER_NAME_PATH_SEPARATORS);
    if (strlen(name) > NAME_MAX_LEN) {
        nb_jserr_setf(err, NB_JSERR_CONSUMER_NAME_TOO_LONG, "%d", NAME_MAX_LEN);
        return false;
    }
    return nb_js_name_valid(name) || fail(err, NB_JSERR_CONSUMER_BAD_DURABLE_NAME);
}

static bool
check_names(const struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    if (!check_one_name(cfg->durable_name, err) || !check_one_name(cfg->name, err)) return false;
    if (cfg->durable_name && cfg->name && strcmp(cfg->durable_name, cfg->name) != 0)
        return fail(err, NB_JSERR_CONSUMER_DURABLE_NAME_MISMATCH);
    if (cfg->description && strlen(cfg->description) > DESCRIPTION_MAX_LEN) {
        nb_jserr_setf(err, NB_JSERR_CONSUMER_DESCRIPTION_TOO_LONG, "%d", DESCRIPTION_MAX_LEN);
        return false;
    }
    return true;
}

static bool
check_replicas(const struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    if (cfg->num_replicas < 0) return fail(err, NB_JSERR_CONSUMER_REPLICAS_NEGATIVE);
    if (cfg->num_replicas > 1) return fail(err, NB_JSERR_STREAM_REPLICAS_NOT_SUPPORTED);
    return true;
}

static bool
check_deliver_subject(const struct nb_consumer_config *cfg, const struct nb_stream_config *stream,
                      struct nb_jserr *err)
{
    const char *ds = cfg->deliver_subject;
    if (!ds) return true;
    size_t len = strlen(ds);
    if (np_subject_has_wildcard(ds, len)) return fail(err, NB_JSERR_CONSUMER_DELIVER_TO_WILDCARDS);
    if (!np_subject_valid_literal(ds, len))
        return fail(err, NB_JSERR_CONSUMER_INVALID_DELIVER_SUBJECT);
    /* The stream would store its own deliveries and deliver them again. */
    for (size_t i = 0; i < stream->nsubjects; i++)
        if (np_subject_match(stream->subjects[i], strlen(stream->subjects[i]), ds, len))
            return fail(err, NB_JSERR_CONSUMER_DELIVER_CYCLE);
    return true;
}

static bool
check_push_pull(const struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    if (is_push(cfg)) {
        if (cfg->max_waiting != 0) return fail(err, NB_JSERR_CONSUMER_PUSH_MAX_WAITING);
        if (cfg->ack_policy == NB_ACK_NONE && cfg->max_ack_pending > 0)
            return fail(err, NB_JSERR_CONSUMER_MAX_PENDING_ACK_POLICY_REQUIRED);
        if (cfg->idle_heartbeat != 0 && cfg->idle_heartbeat < MIN_HEARTBEAT_NS)
            return fail(err, NB_JSERR_CONSUMER_SMALL_HEARTBEAT);
        if (cfg->flow_control && cfg->idle_heartbeat == 0)
            return fail(err, NB_JSERR_CONSUMER_FC_NEEDS_HEARTBEATS);
        return true;
    }
    if (cfg->idle_heartbeat != 0) return fail(err, NB_JSERR_CONSUMER_HB_REQUIRES_PUSH);
    if (cfg->flow_control) return fail(err, NB_JSERR_CONSUMER_FC_REQUIRES_PUSH);
    if (cfg->rate_limit_bps) return fail(err, NB_JSERR_CONSUMER_PULL_WITH_RATE_LIMIT);
    if (cfg->max_waiting < 0) return fail(err, NB_JSERR_CONSUMER_MAX_WAITING_NEGATIVE);
    if (cfg->max_batch < 0) return fail(err, NB_JSERR_CONSUMER_MAX_REQUEST_BATCH_NEGATIVE);
    if (cfg->max_expires != 0 && cfg->max_expires < NS_PER_MS)
        return fail(err, NB_JSERR_CONSUMER_MAX_REQUEST_EXPIRES_TOO_SMALL);
    return true;
}

/* Go's strconv.Atoi on the text without a trailing '%': optional sign, decimal digits. */
static bool
check_sample_freq(const char *freq, struct nb_jserr *err)
{
    if (!freq) return true;
    size_t len = strlen(freq);
    if (len && freq[len - 1] == '%') len--;
    size_t i = len && (freq[0] == '+' || freq[0] == '-') ? 1 : 0;
    bool digits = i < len && i + 19 > len;
    for (size_t j = i; digits && j < len; j++)
        digits = freq[j] >= '0' && freq[j] <= '9';
    if (digits) return true;
    nb_jserr_setf(err, NB_JSERR_CONSUMER_INVALID_SAMPLING,
                  "strconv.Atoi: parsing \"%.*s\": invalid syntax", (int)len, freq);
    return false;
}

static bool
invalid_policy(struct nb_jserr *err, const struct nb_consumer_config *cfg, const char *what)
{
    nb_jserr_setf(err, NB_JSERR_CONSUMER_INVALID_POLICY, "consumer delivery policy is %s, but %s",
                  deliver_texts[cfg->deliver_policy], what);
    return false;
}

static bool
has_filter(const struct nb_consumer_config *cfg)
{
    return cfg->filter_subject || cfg->nfilter_subjects;
}

static bool
check_deliver_policy(const struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    bool seq = cfg->opt_start_seq != 0, time = cfg->opt_start_time != 0;
    switch (cfg->deliver_policy) {
    case NB_DELIVER_BY_START_SEQUENCE:
        if (!seq) return invalid_policy(err, cfg, "optional start sequence is not set");
        if (time) return invalid_policy(err, cfg, "optional start time is also set");
        return true;
    case NB_DELIVER_BY_START_TIME:
        if (!time) return invalid_policy(err, cfg, "optional start time is not set");
        /* "start start" is nats-server's text, kept for clients that compare it. */
        if (seq) return invalid_policy(err, cfg, "optional start start sequence is also set");
        return true;
    default:
        if (seq) return invalid_policy(err, cfg, "optional start sequence is also set");
        if (time) return invalid_policy(err, cfg, "optional start time is also set");
        if (cfg->deliver_policy == NB_DELIVER_LAST_PER_SUBJECT && !has_filter(cfg))
            return invalid_policy(err, cfg, "optional filter subject is not set");
        return true;
    }
}

static bool
check_backoff(const struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    if (cfg->nbackoff > 0 && cfg->max_deliver > 0 && (uint64_t)cfg->max_deliver <= cfg->nbackoff)
        return fail(err, NB_JSERR_CONSUMER_MAX_DELIVER_BACKOFF);
    return true;
}

static bool
check_filter(const char *f, struct nb_jserr *err)
{
    if (!*f) return fail(err, NB_JSERR_CONSUMER_EMPTY_FILTER);
    return np_subject_valid(f, strlen(f)) || fail(err, NB_JSERR_CONSUMER_FILTER_NOT_SUBSET);
}

static bool
check_filters(const struct nb_consumer_config *cfg, struct nb_jserr *err)
{
    if (cfg->filter_subject && cfg->nfilter_subjects)
        return fail(err, NB_JSERR_CONSUMER_DUPLICATE_FILTER_SUBJECTS);
    if (cfg->filter_subject && !np_subject_valid(cfg->filter_subject, strlen(cfg->filter_subject)))
        return fail(err, NB_JSERR_CONSUMER_FILTER_NOT_SUBSET);
    for (size_t i = 0; i < cfg->nfilter_subjects; i++) {
        const char *f = cfg->filter_subjects[i];
        if (!check_filter(f, err)) return false;
        for (size_t j = 0; j < i; j++) {
            const char *g = cfg->filter_subjects[j];
            if (np_subject_intersect(f, strlen(f), g, strlen(g)))
                return fail(err, NB_JSERR_CONSUMER_OVERLAPPING_FILTERS);
        }
    }
    return true;
}

static bool
check_workqueue(const struct nb_consumer_config *cfg, const struct nb_stream_config *stream,
                struct nb_jserr *err)
{
    if (stream->retention != NB_RETENTION_WORKQUEUE) return true;
    if (!is_push(cfg) && cfg->ack_policy == NB_ACK_NONE)
        return fail(err, NB_JSERR_CONSUMER_PULL_REQUIRES_ACK);
    if (cfg->ack_policy != NB_ACK_EXPLICIT)
        return fail(err, NB_JSERR_CONSUMER_WQ_REQUIRES_EXPLICIT_ACK);
    if (cfg->deliver_policy != NB_DELIVER_ALL)
        return fail(err, NB_JSERR_CONSUMER_WQ_NOT_DELIVER_ALL);
    return true;
}

static bool
check_stream_limits(const struct nb_consumer_config *cfg, const struct nb_stream_config *stream,
                    struct nb_jserr *err)
{
    int64_t max_pending = stream->consumer_max_ack_pending;
    int64_t inactive = stream->consumer_inactive_threshold;
    if (max_pending > 0 && cfg->max_ack_pending > max_pending) {
        nb_jserr_setf(err, NB_JSERR_CONSUMER_MAX_PENDING_ACK_EXCESS, "%" PRId64, max_pending);
        return false;
    }
    if (inactive > 0 && cfg->inactive_threshold > inactive) {
        char text[48];
        np_duration_format(inactive, text, sizeof text);
        nb_jserr_set(err, NB_JSERR_CONSUMER_INACTIVE_THRESHOLD_EXCESS, text);
        return false;
    }
    return true;
}

static void
set_defaults(struct nb_consumer_config *cfg, const struct nb_stream_config *stream)
{
    if (cfg->max_deliver == 0 || cfg->max_deliver < -1) cfg->max_deliver = -1;
    if (cfg->ack_policy != NB_ACK_NONE && cfg->ack_wait == 0) cfg->ack_wait = DEFAULT_ACK_WAIT_NS;
    if (cfg->nbackoff > 0) cfg->ack_wait = cfg->backoff[0];
    if (!is_push(cfg) && cfg->max_waiting == 0) cfg->max_waiting = DEFAULT_MAX_WAITING;
    if (cfg->max_ack_pending < -1) cfg->max_ack_pending = -1;
    if (cfg->ack_policy != NB_ACK_NONE && cfg->max_ack_pending == 0)
        cfg->max_ack_pending = stream->consumer_max_ack_pending ? stream->consumer_max_ack_pending
                                                                : DEFAULT_MAX_ACK_PEND;
    if (cfg->inactive_threshold < 0) cfg->inactive_threshold = 0;
    if (!cfg->durable_name && cfg->inactive_threshold == 0)
        cfg->inactive_threshold = stream->consumer_inactive_threshold
                                      ? stream->consumer_inactive_threshold
                                      : DEFAULT_INACTIVE_NS;
}

static bool
normalise(struct nb_consumer_config *cfg, const struct nb_stream_config *stream,
          struct nb_jserr *err)
{
    if (!check_names(cfg, err) || !check_replicas(cfg, err) ||
        !check_deliver_subject(cfg, stream, err) || !check_push_pull(cfg, err) ||
        !check_sample_freq(cfg->sample_freq, err) || !check_deliver_policy(cfg, err) ||
        !check_filters(cfg, err))
        return false;
    set_defaults(cfg, stream);
    return check_backoff(cfg, err) && check_workqueue(cfg, stream, err) &&
           check_stream_limits(cfg, stream, err);
}

int
nb_consumercfg_from_json(struct nb_consumer_config *cfg, const cJSON *obj,
                         const struct nb_stream_config *stream, struct nb_jserr *err)
{
    memset(cfg, 0, sizeof *cfg);
    err->code = 0;
    if (!cJSON_IsObject(obj)) {
        nb_jserr_set(err, NB_JSERR_INVALID_JSON, "the configuration is not a JSON object");
        return -1;
    }
    if (decode(obj, cfg, err) && normalise(cfg, stream, err)) return 0;
    nb_consumercfg_release(cfg);
    return -1;
}

void
nb_consumercfg_release(struct nb_consumer_config *cfg)
{
    for (size_t i = 0; i < COUNT(str_fields); i++)
        free(*FIELD(cfg, char *, str_fields[i].offset));
    for (size_t i = 0; i < cfg->nfilter_subjects; i++)
        free(cfg->filter_subjects[i]);
    free(cfg->filter_subjects);
    free(cfg->backoff);
    cJSON_Delete(cfg->metadata);
    memset(cfg, 0, sizeof *cfg);
}

/* -------------------------------------------------------------------------------------------- */
/* Copy, comparison, updates                                                                      */
/* -------------------------------------------------------------------------------------------- */

static bool
copy_owned(struct nb_consumer_config *dst, const struct nb_consumer_config *src)
{
    for (size_t i = 0; i < COUNT(str_fields); i++) {
        const char *s = *CFIELD(src, char *, str_fields[i].offset);
        char **d = FIELD(dst, char *, str_fields[i].offset);
        if (s && !(*d = strdup(s))) return false;
    }
    if (src->metadata && !(dst->metadata = cJSON_Duplicate(src->metadata, true))) return false;
    if (src->nbackoff) {
        dst->backoff = malloc(src->nbackoff * sizeof *dst->backoff);
        if (!dst->backoff) return false;
        memcpy(dst->backoff, src->backoff, src->nbackoff * sizeof *dst->backoff);
        dst->nbackoff = src->nbackoff;
    }
    if (src->nfilter_subjects == 0) return true;
    dst->filter_subjects = calloc(src->nfilter_subjects, sizeof *dst->filter_subjects);
    if (!dst->filter_subjects) return false;
    for (; dst->nfilter_subjects < src->nfilter_subjects; dst->nfilter_subjects++) {
        const char *s = src->filter_subjects[dst->nfilter_subjects];
        if (!(dst->filter_subjects[dst->nfilter_subjects] = strdup(s))) return false;
    }
    return true;
}

int
nb_consumercfg_copy(struct nb_consumer_config *dst, const struct nb_consumer_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < COUNT(str_fields); i++)
        *FIELD(dst, char *, str_fields[i].offset) = NULL;
    dst->backoff = NULL;
    dst->nbackoff = 0;
    dst->filter_subjects = NULL;
    dst->nfilter_subjects = 0;
    dst->metadata = NULL;
    if (copy_owned(dst, src)) return 0;
    nb_consumercfg_release(dst);
    return -1;
}

static bool
str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool
lists_equal(const struct nb_consumer_config *a, const struct nb_consumer_config *b)
{
    if (a->nbackoff != b->nbackoff || a->nfilter_subjects != b->nfilter_subjects) return false;
    if (a->nbackoff && memcmp(a->backoff, b->backoff, a->nbackoff * sizeof *a->backoff) != 0)
        return false;
    for (size_t i = 0; i < a->nfilter_subjects; i++)
        if (!str_eq(a->filter_subjects[i], b->filter_subjects[i])) return false;
    if (!a->metadata || !b->metadata) return !a->metadata && !b->metadata;
    return cJSON_Compare(a->metadata, b->metadata, true);
}

static bool
scalars_equal(const struct nb_consumer_config *a, const struct nb_consumer_config *b)
{
    for (size_t i = 0; i < COUNT(int_fields); i++) {
        size_t off = int_fields[i].offset;
        if (*CFIELD(a, int64_t, off) != *CFIELD(b, int64_t, off)) return false;
    }
    for (size_t i = 0; i < COUNT(bool_fields); i++) {
        size_t off = bool_fields[i].offset;
        if (*CFIELD(a, bool, off) != *CFIELD(b, bool, off)) return false;
    }
    for (size_t i = 0; i < COUNT(str_fields); i++) {
        size_t off = str_fields[i].offset;
        if (!str_eq(*CFIELD(a, char *, off), *CFIELD(b, char *, off))) return false;
    }
    return a->deliver_policy == b->deliver_policy && a->ack_policy == b->ack_policy &&
           a->replay_policy == b->replay_policy && a->opt_start_seq == b->opt_start_seq &&
           a->opt_start_time == b->opt_start_time && a->rate_limit_bps == b->rate_limit_bps &&
           a->num_replicas == b->num_replicas;
}

bool
nb_consumercfg_equal(const struct nb_consumer_config *a, const struct nb_consumer_config *b)
{
    return scalars_equal(a, b) && lists_equal(a, b);
}

/* The first field that may not change, in nats-server's order of checks, or NULL. */
static const char *
frozen_change(const struct nb_consumer_config *old, const struct nb_consumer_config *n)
{
    if (old->deliver_policy != n->deliver_policy) return "deliver policy can not be updated";
    if (old->opt_start_seq != n->opt_start_seq) return "start sequence can not be updated";
    if (old->opt_start_time != n->opt_start_time) return "start time can not be updated";
    if (old->ack_policy != n->ack_policy) return "ack policy can not be updated";
    if (old->replay_policy != n->replay_policy) return "replay policy can not be updated";
    if (old->idle_heartbeat != n->idle_heartbeat) return "heart beats can not be updated";
    if (old->flow_control != n->flow_control) return "flow control can not be updated";
    if (old->mem_storage != n->mem_storage) return "storage type can not be updated";
    if (old->max_waiting != n->max_waiting) return "max waiting can not be updated";
    if (!is_push(old) && is_push(n)) return "can not update pull consumer to push based";
    if (is_push(old) && !is_push(n)) return "can not update push consumer to pull based";
    return NULL;
}

int
nb_consumercfg_check_update(const struct nb_consumer_config *old,
                            const struct nb_consumer_config *new_cfg, struct nb_jserr *err)
{
    const char *text = frozen_change(old, new_cfg);
    if (!text) return 0;
    nb_jserr_set(err, NB_JSERR_CONSUMER_CREATE, text);
    return -1;
}

/* -------------------------------------------------------------------------------------------- */
/* Output                                                                                         */
/* -------------------------------------------------------------------------------------------- */

/* Adds an exact 64-bit number: cJSON_CreateNumber would round it through a double. */
static bool
add_int(cJSON *obj, const char *key, int64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
}

static bool
add_uint(cJSON *obj, const char *key, uint64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
}

/* The omitempty fields: left out when zero. */
static bool
opt_int(cJSON *obj, const char *key, int64_t v)
{
    return v == 0 || add_int(obj, key, v);
}

static bool
opt_str(cJSON *obj, const char *key, const char *v)
{
    return !v || cJSON_AddStringToObject(obj, key, v) != NULL;
}

static bool
opt_true(cJSON *obj, const char *key, bool v)
{
    return !v || cJSON_AddTrueToObject(obj, key) != NULL;
}

static bool
add_backoff(cJSON *obj, const struct nb_consumer_config *cfg)
{
    if (cfg->nbackoff == 0) return true;
    cJSON *arr = cJSON_AddArrayToObject(obj, "backoff");
    for (size_t i = 0; arr && i < cfg->nbackoff; i++) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, cfg->backoff[i]);
        cJSON *v = cJSON_CreateRaw(text);
        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            return false;
        }
    }
    return arr != NULL;
}

static bool
add_start(cJSON *obj, const struct nb_consumer_config *cfg)
{
    if (cfg->opt_start_seq && !add_uint(obj, "opt_start_seq", cfg->opt_start_seq)) return false;
    if (!cfg->opt_start_time) return true;
    char text[NP_TIME_MAX];
    np_time_format(cfg->opt_start_time, text, sizeof text);
    return cJSON_AddStringToObject(obj, "opt_start_time", text) != NULL;
}

/* durable_name to replay_policy, in nats-server's order. */
static bool
add_head(cJSON *obj, const struct nb_consumer_config *cfg)
{
    return opt_str(obj, "durable_name", cfg->durable_name) && opt_str(obj, "name", cfg->name) &&
           opt_str(obj, "description", cfg->description) &&
           cJSON_AddStringToObject(obj, "deliver_policy", deliver_names[cfg->deliver_policy]) &&
           add_start(obj, cfg) &&
           cJSON_AddStringToObject(obj, "ack_policy", ack_names[cfg->ack_policy]) &&
           opt_int(obj, "ack_wait", cfg->ack_wait) &&
           add_int(obj, "max_deliver", cfg->max_deliver) && add_backoff(obj, cfg) &&
           opt_str(obj, "filter_subject", cfg->filter_subject) &&
           cJSON_AddStringToObject(obj, "replay_policy", replay_names[cfg->replay_policy]);
}

static bool
add_middle(cJSON *obj, const struct nb_consumer_config *cfg)
{
    return (!cfg->rate_limit_bps || add_uint(obj, "rate_limit_bps", cfg->rate_limit_bps)) &&
           opt_str(obj, "sample_freq", cfg->sample_freq) &&
           opt_int(obj, "max_waiting", cfg->max_waiting) &&
           opt_int(obj, "max_ack_pending", cfg->max_ack_pending) &&
           opt_int(obj, "idle_heartbeat", cfg->idle_heartbeat) &&
           opt_true(obj, "flow_control", cfg->flow_control) &&
           opt_true(obj, "headers_only", cfg->headers_only) &&
           opt_int(obj, "max_batch", cfg->max_batch) &&
           opt_int(obj, "max_expires", cfg->max_expires) &&
           opt_int(obj, "max_bytes", cfg->max_request_max_bytes) &&
           opt_str(obj, "deliver_subject", cfg->deliver_subject) &&
           opt_str(obj, "deliver_group", cfg->deliver_group) &&
           opt_int(obj, "inactive_threshold", cfg->inactive_threshold) &&
           add_int(obj, "num_replicas", cfg->num_replicas) &&
           opt_true(obj, "mem_storage", cfg->mem_storage);
}

/* The 2.10 fields. */
static bool
add_tail(cJSON *obj, const struct nb_consumer_config *cfg)
{
    if (cfg->nfilter_subjects) {
        cJSON *arr = cJSON_CreateStringArray((const char *const *)cfg->filter_subjects,
                                             (int)cfg->nfilter_subjects);
        if (!arr || !cJSON_AddItemToObject(obj, "filter_subjects", arr)) {
            cJSON_Delete(arr);
            return false;
        }
    }
    if (!cfg->metadata) return true;
    cJSON *md = cJSON_Duplicate(cfg->metadata, true);
    if (md && cJSON_AddItemToObject(obj, "metadata", md)) return true;
    cJSON_Delete(md);
    return false;
}

cJSON *
nb_consumercfg_to_json(const struct nb_consumer_config *cfg)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj && add_head(obj, cfg) && add_middle(obj, cfg) && add_tail(obj, cfg)) return obj;
    cJSON_Delete(obj);
    return NULL;
}

static bool
filter_matches(const char *filter, const char *subject, size_t len)
{
    return np_subject_match(filter, strlen(filter), subject, len);
}

bool
nb_consumercfg_matches(const struct nb_consumer_config *cfg, const char *subject, size_t len)
{
    if (cfg->filter_subject) return filter_matches(cfg->filter_subject, subject, len);
    if (cfg->nfilter_subjects == 0) return true;
    for (size_t i = 0; i < cfg->nfilter_subjects; i++)
        if (filter_matches(cfg->filter_subjects[i], subject, len)) return true;
    return false;
}
