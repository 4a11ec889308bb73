/*
 * A stream's configuration as the JetStream API carries it: parsed from a request, normalised
 * (defaults filled in as nats-server fills them), validated on its own, compared, and rendered
 * back as the JSON object nats-server echoes. Checks that need other streams (overlapping
 * subjects) belong to the caller.
 */
#ifndef NB_STREAMCFG_H
#define NB_STREAMCFG_H

#include "nb_jserr.h"
#include "nb_store.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nb_retention { NB_RETENTION_LIMITS, NB_RETENTION_INTEREST, NB_RETENTION_WORKQUEUE };
enum nb_discard { NB_DISCARD_OLD, NB_DISCARD_NEW };

struct nb_stream_config {
    char *name;
    char *description; /* NULL when absent */
    char **subjects;   /* at least one after normalisation (the name when none was given) */
    size_t nsubjects;
    enum nb_retention retention;
    enum nb_discard discard;
    enum nb_store_kind storage;
    int64_t max_consumers;        /* -1 = unlimited */
    int64_t max_msgs;             /* -1 */
    int64_t max_bytes;            /* -1 */
    int64_t max_age;              /* ns, 0 = unlimited */
    int64_t max_msgs_per_subject; /* -1 */
    int64_t max_msg_size;         /* -1; headers + payload */
    int64_t duplicate_window;     /* ns */
    int num_replicas;             /* 1 */
    bool no_ack, sealed, deny_delete, deny_purge, allow_rollup_hdrs, allow_direct, mirror_direct;
    bool discard_new_per_subject;
    uint64_t first_seq;                  /* 0 = not set */
    cJSON *metadata;                     /* an object of strings, or NULL */
    int64_t consumer_inactive_threshold; /* consumer_limits; 0 = not set */
    int64_t consumer_max_ack_pending;    /* consumer_limits; 0 = not set */
};

/*
 * Parses a stream configuration (a STREAM.CREATE or STREAM.UPDATE body), normalises it and checks
 * it on its own: name rules, subjects valid and not overlapping each other or $JS.>, limits,
 * enums, unsupported features (mirror, sources, placement, ...) refused. Unknown keys are ignored.
 * Returns 0, or -1 with err set to nats-server's error (10025 for malformed JSON and bad enum
 * values, 10052 with its text for an invalid configuration, 10074 for replicas). cfg needs no
 * initialisation and must be released after a 0 return only.
 */
int nb_streamcfg_parse(struct nb_stream_config *cfg, const char *json, size_t len,
                       struct nb_jserr *err);
/* Parses the body of a configuration already as a cJSON object (same contract). */
int nb_streamcfg_from_json(struct nb_stream_config *cfg, const cJSON *obj, struct nb_jserr *err);
void nb_streamcfg_release(struct nb_stream_config *cfg);
/* Deep copy. Returns 0 or -1 (out of memory). */
int nb_streamcfg_copy(struct nb_stream_config *dst, const struct nb_stream_config *src);
/* Whether two normalised configurations are the same (create of an existing stream is idempotent). */
bool nb_streamcfg_equal(const struct nb_stream_config *a, const struct nb_stream_config *b);
/*
 * Whether an update from old to new is allowed (name, storage, retention to/from workqueue,
 * unsealing, cancelling deny_delete/deny_purge are not). Returns 0 or -1 with err (10052).
 */
int nb_streamcfg_check_update(const struct nb_stream_config *old,
                              const struct nb_stream_config *new_cfg, struct nb_jserr *err);
/*
 * The normalised configuration as nats-server echoes it, every default included; 64-bit numbers
 * are written exactly. Returns a new object, or NULL when out of memory.
 */
cJSON *nb_streamcfg_to_json(const struct nb_stream_config *cfg);
/* Whether name is a valid stream or consumer name (non-empty, <= 255 bytes, no . * > / \ or space). */
bool nb_js_name_valid(const char *name);

#endif
