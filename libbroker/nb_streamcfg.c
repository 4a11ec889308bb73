/*
 * Stream configurations (spec 2.1), decoded the way nats-server's Go decoder and checkStreamCfg
 * treat them: a value of the wrong JSON type or an unknown enum value fails the whole request
 * with 10025, as Go's json.Unmarshal does, while a well-formed but unacceptable configuration is
 * a 10052 with nats-server's text. JSON null means "absent" except for enums, whose decoders
 * nats-server refuses null with.
 *
 * Divergences from 2.9.10, on purpose: negative limits below -1 are normalised to -1 (2.9.10
 * echoes them, but they mean "unlimited" all the same and one spelling keeps comparisons simple);
 * names with bad characters are a 10052 rather than 10128; a negative num_replicas is a 10052
 * with 10133's text; subjects in $JS.> are refused, not only those overlapping $JS.API.>, because
 * the broker consumes the ack and flow-control subjects itself (a leading wildcard that could
 * reach $JS.> but not $JS.API.>, such as "*.b", stays allowed, as in nats-server).
 */
#include "nb_streamcfg.h"
#include "nb_jsjson.h"
#include "np.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN      255
#define MIN_WINDOW_NS     100000000LL    /* max_age and duplicate_window: 100 ms at least */
#define DEFAULT_WINDOW_NS 120000000000LL /* 2 min */
#define JS_API_SUBJECTS   "$JS.API.>"
#define JS_TOKEN          "$JS"
#define JS_PREFIX         "$JS."

static const char *const retention_names[] = {"limits", "interest", "workqueue"};
static const char *const discard_names[] = {"old", "new"};
/* Indexed by enum nb_store_kind. */
static const char *const storage_names[] = {"memory", "file"};

/* 64-bit fields read from the top level of the configuration, and the range Go's types allow. */
static const struct int_field {
    const char *key;
    size_t offset;
    int64_t min, max;
} int_fields[] = {
    {"max_consumers", offsetof(struct nb_stream_config, max_consumers), INT64_MIN, INT64_MAX},
    {"max_msgs", offsetof(struct nb_stream_config, max_msgs), INT64_MIN, INT64_MAX},
    {"max_bytes", offsetof(struct nb_stream_config, max_bytes), INT64_MIN, INT64_MAX},
    {"max_age", offsetof(struct nb_stream_config, max_age), INT64_MIN, INT64_MAX},
    {"max_msgs_per_subject", offsetof(struct nb_stream_config, max_msgs_per_subject), INT64_MIN,
     INT64_MAX},
    {"max_msg_size", offsetof(struct nb_stream_config, max_msg_size), INT32_MIN, INT32_MAX},
    {"duplicate_window", offsetof(struct nb_stream_config, duplicate_window), INT64_MIN, INT64_MAX},
};

static const struct bool_field {
    const char *key;
    size_t offset;
} bool_fields[] = {
    {"no_ack", offsetof(struct nb_stream_config, no_ack)},
    {"sealed", offsetof(struct nb_stream_config, sealed)},
    {"deny_delete", offsetof(struct nb_stream_config, deny_delete)},
    {"deny_purge", offsetof(struct nb_stream_config, deny_purge)},
    {"allow_rollup_hdrs", offsetof(struct nb_stream_config, allow_rollup_hdrs)},
    {"allow_direct", offsetof(struct nb_stream_config, allow_direct)},
    {"mirror_direct", offsetof(struct nb_stream_config, mirror_direct)},
    {"discard_new_per_subject", offsetof(struct nb_stream_config, discard_new_per_subject)},
};

/* Features natsctl does not implement: a request that sets one must not be half-honoured. */
static const char *const unsupported_fields[] = {
    "mirror",
    "sources",
    "placement",
    "republish",
    "subject_transform",
    "allow_msg_ttl",
    "subject_delete_marker_ttl",
    "allow_msg_counter",
    "allow_atomic",
    "allow_msg_schedules",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool
invalid(struct nb_jserr *err, const char *text)
{
    nb_jserr_set(err, NB_JSERR_STREAM_INVALID_CONFIG, text);
    return false;
}

static bool
check_unsupported(const cJSON *obj, struct nb_jserr *err)
{
    for (size_t i = 0; i < COUNT(unsupported_fields); i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, unsupported_fields[i]);
        if (item && !nb__jj_blank(item)) {
            nb_jserr_setf(err, NB_JSERR_STREAM_INVALID_CONFIG, "%s is not supported by natsctl",
                          unsupported_fields[i]);
            return false;
        }
    }
    return true;
}

static bool
get_consumer_limits(const cJSON *obj, struct nb_stream_config *cfg, struct nb_jserr *err)
{
    const cJSON *cl = nb__jj_member(obj, "consumer_limits");
    if (!cl) return true;
    if (!cJSON_IsObject(cl)) return nb__jj_bad(err, "must be an object", "consumer_limits");
    if (!nb__jj_int(cl, "inactive_threshold", INT64_MIN, INT64_MAX,
                    &cfg->consumer_inactive_threshold, err) ||
        !nb__jj_int(cl, "max_ack_pending", INT64_MIN, INT64_MAX, &cfg->consumer_max_ack_pending,
                    err))
        return false;
    if (cfg->consumer_inactive_threshold < 0)
        return invalid(err, "consumer limits inactive threshold can not be negative");
    if (cfg->consumer_max_ack_pending < 0)
        return invalid(err, "consumer limits max ack pending can not be negative");
    return true;
}

static bool
get_compression(const cJSON *obj, struct nb_jserr *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "compression");
    if (!item) return true;
    if (cJSON_IsString(item)) {
        const char *v = item->valuestring;
        if (v[0] == '\0' || strcmp(v, "none") == 0) return true;
        if (strcmp(v, "s2") == 0) return invalid(err, "s2 compression is not supported by natsctl");
    }
    return nb__jj_bad(err, "has an unknown value", "compression");
}

static bool
get_scalars(const cJSON *obj, struct nb_stream_config *cfg, struct nb_jserr *err)
{
    for (size_t i = 0; i < COUNT(int_fields); i++) {
        const struct int_field *f = &int_fields[i];
        if (!nb__jj_int(obj, f->key, f->min, f->max, (int64_t *)((char *)cfg + f->offset), err))
            return false;
    }
    for (size_t i = 0; i < COUNT(bool_fields); i++) {
        if (!nb__jj_bool(obj, bool_fields[i].key, (bool *)((char *)cfg + bool_fields[i].offset),
                         err))
            return false;
    }
    int64_t replicas = 0;
    if (!nb__jj_int(obj, "num_replicas", INT64_MIN, INT64_MAX, &replicas, err)) return false;
    /* Only the sign and "more than one" matter to check_replicas; this keeps any int64 in an int. */
    cfg->num_replicas = replicas < 0 ? -1 : replicas > 1 ? 2 : (int)replicas;
    return nb__jj_uint(obj, "first_seq", &cfg->first_seq, err);
}

static bool
get_enums(const cJSON *obj, struct nb_stream_config *cfg, struct nb_jserr *err)
{
    int retention = NB_RETENTION_LIMITS, discard = NB_DISCARD_OLD, storage = NB_STORE_FILE;
    if (!nb__jj_enum(obj, "retention", retention_names, COUNT(retention_names), &retention, err) ||
        !nb__jj_enum(obj, "discard", discard_names, COUNT(discard_names), &discard, err) ||
        !nb__jj_enum(obj, "storage", storage_names, COUNT(storage_names), &storage, err))
        return false;
    cfg->retention = (enum nb_retention)retention;
    cfg->discard = (enum nb_discard)discard;
    cfg->storage = (enum nb_store_kind)storage;
    return true;
}

static bool
decode(const cJSON *obj, struct nb_stream_config *cfg, struct nb_jserr *err)
{
    return nb__jj_string(obj, "name", false, &cfg->name, err) &&
           nb__jj_string(obj, "description", false, &cfg->description, err) &&
           nb__jj_strings(obj, "subjects", &cfg->subjects, &cfg->nsubjects, err) &&
           get_enums(obj, cfg, err) && get_scalars(obj, cfg, err) &&
           nb__jj_metadata(obj, &cfg->metadata, err) && get_consumer_limits(obj, cfg, err) &&
           get_compression(obj, err) && check_unsupported(obj, err);
}

/* -------------------------------------------------------------------------------------------- */
/* Normalisation and checks                                                                       */
/* -------------------------------------------------------------------------------------------- */

static bool
check_name(const char *name, struct nb_jserr *err)
{
    if (!name || !*name) return invalid(err, "stream name is required");
    if (strlen(name) > NAME_MAX_LEN)
        return invalid(err, "stream name is too long, maximum allowed is 255");
    if (strpbrk(name, "/\\")) return invalid(err, "stream name can not contain path separators");
    if (!nb_js_name_valid(name))
        return invalid(err, "stream name can not contain whitespace, '.', '*' or '>'");
    return true;
}

static void
unlimited_when_unset(int64_t *v)
{
    if (*v == 0 || *v < -1) *v = -1;
}

static void
normalise_limits(struct nb_stream_config *cfg)
{
    unlimited_when_unset(&cfg->max_consumers);
    unlimited_when_unset(&cfg->max_msgs);
    unlimited_when_unset(&cfg->max_bytes);
    unlimited_when_unset(&cfg->max_msgs_per_subject);
    unlimited_when_unset(&cfg->max_msg_size);
}

static bool
check_replicas(struct nb_stream_config *cfg, struct nb_jserr *err)
{
    if (cfg->num_replicas < 0) return invalid(err, "replicas count cannot be negative");
    if (cfg->num_replicas > 1) {
        nb_jserr_set(err, NB_JSERR_STREAM_REPLICAS_NOT_SUPPORTED, NULL);
        return false;
    }
    cfg->num_replicas = 1;
    return true;
}

static bool
check_windows(struct nb_stream_config *cfg, struct nb_jserr *err)
{
    if (cfg->max_age != 0 && cfg->max_age < MIN_WINDOW_NS)
        return invalid(err, "max age needs to be >= 100ms");
    if (cfg->duplicate_window < 0) return invalid(err, "duplicates window can not be negative");
    if (cfg->duplicate_window == 0) {
        bool short_age = cfg->max_age != 0 && cfg->max_age < DEFAULT_WINDOW_NS;
        cfg->duplicate_window = short_age ? cfg->max_age : DEFAULT_WINDOW_NS;
    }
    if (cfg->duplicate_window < MIN_WINDOW_NS)
        return invalid(err, "duplicates window needs to be >= 100ms");
    if (cfg->max_age != 0 && cfg->duplicate_window > cfg->max_age)
        return invalid(err, "duplicates window can not be larger then max age");
    return true;
}

static bool
check_flags(const struct nb_stream_config *cfg, struct nb_jserr *err)
{
    if (cfg->deny_purge && cfg->allow_rollup_hdrs)
        return invalid(err, "roll-ups require the purge permission");
    if (cfg->mirror_direct) return invalid(err, "stream has no mirror but does have mirror direct");
    if (cfg->discard_new_per_subject && cfg->discard != NB_DISCARD_NEW)
        return invalid(err, "discard new per subject requires discard new policy to be set");
    if (cfg->discard_new_per_subject && cfg->max_msgs_per_subject <= 0)
        return invalid(err, "discard new per subject requires max msgs per subject > 0");
    return true;
}

/* Whether some literal subject matches both (valid) subjects. */
static bool
subjects_intersect(const char *a, const char *b)
{
    return np_subject_intersect(a, strlen(a), b, strlen(b));
}

static bool
default_subjects(struct nb_stream_config *cfg, struct nb_jserr *err)
{
    cfg->subjects = calloc(1, sizeof *cfg->subjects);
    if (!cfg->subjects) return nb__jj_nomem(err);
    cfg->subjects[0] = strdup(cfg->name);
    if (!cfg->subjects[0]) return nb__jj_nomem(err);
    cfg->nsubjects = 1;
    return true;
}

static bool
check_subject_pair(const char *a, const char *b, struct nb_jserr *err)
{
    if (strcmp(a, b) == 0) return invalid(err, "duplicate subjects detected");
    if (!subjects_intersect(a, b)) return true;
    nb_jserr_setf(err, NB_JSERR_STREAM_INVALID_CONFIG, "subject \"%s\" overlaps with \"%s\"", a, b);
    return false;
}

static bool
check_subject(const char *s, struct nb_jserr *err)
{
    if (!np_subject_valid(s, strlen(s))) return invalid(err, "invalid subject");
    if (subjects_intersect(s, JS_API_SUBJECTS))
        return invalid(err, "subjects overlap with jetstream api");
    if (strncmp(s, JS_PREFIX, strlen(JS_PREFIX)) == 0 || strcmp(s, JS_TOKEN) == 0)
        return invalid(err, "subjects overlap with reserved jetstream subjects");
    return true;
}

static bool
check_subjects(struct nb_stream_config *cfg, struct nb_jserr *err)
{
    if (cfg->nsubjects == 0 && !default_subjects(cfg, err)) return false;
    for (size_t i = 0; i < cfg->nsubjects; i++) {
        if (!check_subject(cfg->subjects[i], err)) return false;
        for (size_t j = 0; j < i; j++)
            if (!check_subject_pair(cfg->subjects[j], cfg->subjects[i], err)) return false;
    }
    return true;
}

static bool
normalise(struct nb_stream_config *cfg, struct nb_jserr *err)
{
    if (cfg->description && !*cfg->description) {
        free(cfg->description);
        cfg->description = NULL;
    }
    normalise_limits(cfg);
    return check_name(cfg->name, err) && check_replicas(cfg, err) && check_windows(cfg, err) &&
           check_flags(cfg, err) && check_subjects(cfg, err);
}

int
nb_streamcfg_from_json(struct nb_stream_config *cfg, const cJSON *obj, struct nb_jserr *err)
{
    memset(cfg, 0, sizeof *cfg);
    err->code = 0;
    if (!cJSON_IsObject(obj)) {
        nb_jserr_set(err, NB_JSERR_INVALID_JSON, "the configuration is not a JSON object");
        return -1;
    }
    if (decode(obj, cfg, err) && normalise(cfg, err)) return 0;
    nb_streamcfg_release(cfg);
    return -1;
}

int
nb_streamcfg_parse(struct nb_stream_config *cfg, const char *json, size_t len, struct nb_jserr *err)
{
    cJSON *obj = json ? cJSON_ParseWithLength(json, len) : NULL;
    if (!obj) {
        memset(cfg, 0, sizeof *cfg);
        nb_jserr_set(err, NB_JSERR_INVALID_JSON, "malformed JSON");
        return -1;
    }
    int rc = nb_streamcfg_from_json(cfg, obj, err);
    cJSON_Delete(obj);
    return rc;
}

void
nb_streamcfg_release(struct nb_stream_config *cfg)
{
    for (size_t i = 0; i < cfg->nsubjects; i++)
        free(cfg->subjects[i]);
    free(cfg->subjects);
    free(cfg->name);
    free(cfg->description);
    cJSON_Delete(cfg->metadata);
    memset(cfg, 0, sizeof *cfg);
}

/* -------------------------------------------------------------------------------------------- */
/* Copy, comparison, updates                                                                      */
/* -------------------------------------------------------------------------------------------- */

/* Copies an optional string; false only when out of memory. */
static bool
dup_opt(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return !src || *dst;
}

static bool
copy_owned(struct nb_stream_config *dst, const struct nb_stream_config *src)
{
    if (!dup_opt(&dst->name, src->name) || !dup_opt(&dst->description, src->description))
        return false;
    if (src->metadata && !(dst->metadata = cJSON_Duplicate(src->metadata, true))) return false;
    if (src->nsubjects == 0) return true;
    dst->subjects = calloc(src->nsubjects, sizeof *dst->subjects);
    if (!dst->subjects) return false;
    for (; dst->nsubjects < src->nsubjects; dst->nsubjects++)
        if (!dup_opt(&dst->subjects[dst->nsubjects], src->subjects[dst->nsubjects])) return false;
    return true;
}

int
nb_streamcfg_copy(struct nb_stream_config *dst, const struct nb_stream_config *src)
{
    *dst = *src;
    dst->name = dst->description = NULL;
    dst->subjects = NULL;
    dst->nsubjects = 0;
    dst->metadata = NULL;
    if (copy_owned(dst, src)) return 0;
    nb_streamcfg_release(dst);
    return -1;
}

static bool
str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool
subjects_equal(const struct nb_stream_config *a, const struct nb_stream_config *b)
{
    if (a->nsubjects != b->nsubjects) return false;
    for (size_t i = 0; i < a->nsubjects; i++)
        if (!str_eq(a->subjects[i], b->subjects[i])) return false;
    return true;
}

static bool
scalars_equal(const struct nb_stream_config *a, const struct nb_stream_config *b)
{
    for (size_t i = 0; i < COUNT(int_fields); i++) {
        size_t off = int_fields[i].offset;
        if (*(const int64_t *)((const char *)a + off) != *(const int64_t *)((const char *)b + off))
            return false;
    }
    for (size_t i = 0; i < COUNT(bool_fields); i++) {
        size_t off = bool_fields[i].offset;
        if (*(const bool *)((const char *)a + off) != *(const bool *)((const char *)b + off))
            return false;
    }
    return a->retention == b->retention && a->discard == b->discard && a->storage == b->storage &&
           a->num_replicas == b->num_replicas && a->first_seq == b->first_seq &&
           a->consumer_inactive_threshold == b->consumer_inactive_threshold &&
           a->consumer_max_ack_pending == b->consumer_max_ack_pending;
}

bool
nb_streamcfg_equal(const struct nb_stream_config *a, const struct nb_stream_config *b)
{
    bool metadata_equal =
        (!a->metadata && !b->metadata) ||
        (a->metadata && b->metadata && cJSON_Compare(a->metadata, b->metadata, true));
    return str_eq(a->name, b->name) && str_eq(a->description, b->description) &&
           subjects_equal(a, b) && scalars_equal(a, b) && metadata_equal;
}

int
nb_streamcfg_check_update(const struct nb_stream_config *old,
                          const struct nb_stream_config *new_cfg, struct nb_jserr *err)
{
    const char *text = NULL;
    if (!str_eq(old->name, new_cfg->name))
        text = "stream configuration name must match original";
    else if (old->storage != new_cfg->storage)
        text = "stream configuration update can not change storage type";
    else if ((old->retention == NB_RETENTION_WORKQUEUE) !=
             (new_cfg->retention == NB_RETENTION_WORKQUEUE))
        text = "stream configuration update can not change retention policy to/from workqueue";
    else if (old->sealed && !new_cfg->sealed)
        text = "stream configuration update can not unseal a sealed stream";
    else if (old->deny_delete && !new_cfg->deny_delete)
        text = "stream configuration update can not cancel deny message deletes";
    else if (old->deny_purge && !new_cfg->deny_purge)
        text = "stream configuration update can not cancel deny purge";
    if (text) {
        invalid(err, text);
        return -1;
    }
    if (new_cfg->num_replicas > 1) {
        nb_jserr_set(err, NB_JSERR_STREAM_REPLICAS_NOT_SUPPORTED, NULL);
        return -1;
    }
    return 0;
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

static bool
add_str(cJSON *obj, const char *key, const char *v)
{
    return cJSON_AddStringToObject(obj, key, v) != NULL;
}

static bool
add_bool(cJSON *obj, const char *key, bool v)
{
    return cJSON_AddBoolToObject(obj, key, v) != NULL;
}

static bool
add_subjects(cJSON *obj, const struct nb_stream_config *cfg)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "subjects");
    for (size_t i = 0; arr && i < cfg->nsubjects; i++) {
        cJSON *s = cJSON_CreateString(cfg->subjects[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return false;
        }
    }
    return arr != NULL;
}

/* name to num_replicas, in nats-server's order. */
static bool
add_head(cJSON *obj, const struct nb_stream_config *cfg)
{
    return add_str(obj, "name", cfg->name) &&
           (!cfg->description || add_str(obj, "description", cfg->description)) &&
           add_subjects(obj, cfg) && add_str(obj, "retention", retention_names[cfg->retention]) &&
           add_int(obj, "max_consumers", cfg->max_consumers) &&
           add_int(obj, "max_msgs", cfg->max_msgs) && add_int(obj, "max_bytes", cfg->max_bytes) &&
           add_int(obj, "max_age", cfg->max_age) &&
           add_int(obj, "max_msgs_per_subject", cfg->max_msgs_per_subject) &&
           add_int(obj, "max_msg_size", cfg->max_msg_size) &&
           add_str(obj, "discard", discard_names[cfg->discard]) &&
           add_str(obj, "storage", storage_names[cfg->storage]) &&
           add_int(obj, "num_replicas", cfg->num_replicas);
}

static bool
add_flags(cJSON *obj, const struct nb_stream_config *cfg)
{
    return (!cfg->no_ack || add_bool(obj, "no_ack", true)) &&
           add_int(obj, "duplicate_window", cfg->duplicate_window) &&
           add_bool(obj, "allow_direct", cfg->allow_direct) &&
           add_bool(obj, "mirror_direct", cfg->mirror_direct) &&
           (!cfg->discard_new_per_subject || add_bool(obj, "discard_new_per_subject", true)) &&
           add_bool(obj, "sealed", cfg->sealed) && add_bool(obj, "deny_delete", cfg->deny_delete) &&
           add_bool(obj, "deny_purge", cfg->deny_purge) &&
           add_bool(obj, "allow_rollup_hdrs", cfg->allow_rollup_hdrs);
}

static bool
add_consumer_limits(cJSON *obj, const struct nb_stream_config *cfg)
{
    if (!cfg->consumer_inactive_threshold && !cfg->consumer_max_ack_pending) return true;
    cJSON *cl = cJSON_AddObjectToObject(obj, "consumer_limits");
    return cl &&
           (!cfg->consumer_inactive_threshold ||
            add_int(cl, "inactive_threshold", cfg->consumer_inactive_threshold)) &&
           (!cfg->consumer_max_ack_pending ||
            add_int(cl, "max_ack_pending", cfg->consumer_max_ack_pending));
}

/* The 2.10 fields. */
static bool
add_tail(cJSON *obj, const struct nb_stream_config *cfg)
{
    if (!add_str(obj, "compression", "none")) return false;
    if (cfg->first_seq && !add_uint(obj, "first_seq", cfg->first_seq)) return false;
    if (cfg->metadata) {
        cJSON *md = cJSON_Duplicate(cfg->metadata, true);
        if (!md || !cJSON_AddItemToObject(obj, "metadata", md)) {
            cJSON_Delete(md);
            return false;
        }
    }
    return add_consumer_limits(obj, cfg);
}

cJSON *
nb_streamcfg_to_json(const struct nb_stream_config *cfg)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj && add_head(obj, cfg) && add_flags(obj, cfg) && add_tail(obj, cfg)) return obj;
    cJSON_Delete(obj);
    return NULL;
}

bool
nb_js_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > NAME_MAX_LEN) return false;
    return strpbrk(name, " \t\r\n\f.*>/\\") == NULL;
}
