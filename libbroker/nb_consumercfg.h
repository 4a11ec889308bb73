/*
 * A consumer's configuration as the JetStream API carries it: parsed from a CONSUMER.CREATE body,
 * normalised with nats-server's defaults, validated on its own and against its stream's
 * configuration, compared for updates, and rendered back as nats-server echoes it.
 */
#ifndef NB_CONSUMERCFG_H
#define NB_CONSUMERCFG_H

#include "nb_jserr.h"
#include "nb_streamcfg.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nb_deliver_policy {
    NB_DELIVER_ALL,
    NB_DELIVER_LAST,
    NB_DELIVER_NEW,
    NB_DELIVER_BY_START_SEQUENCE,
    NB_DELIVER_BY_START_TIME,
    NB_DELIVER_LAST_PER_SUBJECT,
};
enum nb_ack_policy { NB_ACK_NONE, NB_ACK_ALL, NB_ACK_EXPLICIT };
enum nb_replay_policy { NB_REPLAY_INSTANT, NB_REPLAY_ORIGINAL };

struct nb_consumer_config {
    char *durable_name; /* NULL: ephemeral */
    char *name;         /* NULL until the caller names it (the create subject, or generated) */
    char *description;
    enum nb_deliver_policy deliver_policy;
    uint64_t opt_start_seq;
    int64_t opt_start_time; /* Unix ns; 0 = not set */
    enum nb_ack_policy ack_policy;
    int64_t ack_wait;    /* ns */
    int64_t max_deliver; /* -1 = unlimited */
    int64_t *backoff;    /* ns each */
    size_t nbackoff;
    char *filter_subject;   /* NULL = unfiltered */
    char **filter_subjects; /* 2.10; never together with filter_subject */
    size_t nfilter_subjects;
    enum nb_replay_policy replay_policy;
    uint64_t rate_limit_bps;
    char *sample_freq;
    int64_t max_waiting;     /* pull only; 512 by default */
    int64_t max_ack_pending; /* -1 = unlimited; 1000 by default when acks are required */
    bool flow_control, headers_only, mem_storage;
    int64_t idle_heartbeat;                                /* ns, 0 = none */
    int64_t max_batch, max_expires, max_request_max_bytes; /* pull request caps, 0 = none */
    char *deliver_subject;                                 /* NULL: a pull consumer */
    char *deliver_group;
    int64_t inactive_threshold; /* ns, 0 = never (durables) */
    int num_replicas;           /* echoed; 0 as nats-server when not given */
    cJSON *metadata;
};

/*
 * Parses the "config" object of a consumer create request and normalises it against the stream
 * (defaults that depend on the stream's consumer_limits, retention rules). Checks that need the
 * subject of the request (names in the subject, the filter token) or other consumers (work queue
 * overlaps) belong to the caller. Returns 0, or -1 with err set to nats-server's error. cfg needs
 * no initialisation and must be released after a 0 return only.
 */
int nb_consumercfg_from_json(struct nb_consumer_config *cfg, const cJSON *obj,
                             const struct nb_stream_config *stream, struct nb_jserr *err);
void nb_consumercfg_release(struct nb_consumer_config *cfg);
int nb_consumercfg_copy(struct nb_consumer_config *dst, const struct nb_consumer_config *src);
/* Whether two normalised configurations are the same (action "create" of an existing consumer). */
bool nb_consumercfg_equal(const struct nb_consumer_config *a, const struct nb_consumer_config *b);
/*
 * Whether an update from old to new is allowed: only the fields nats-server lets change. Returns 0
 * or -1 with err (10012 "<field> can not be updated").
 */
int nb_consumercfg_check_update(const struct nb_consumer_config *old,
                                const struct nb_consumer_config *new_cfg, struct nb_jserr *err);
/* The normalised configuration as nats-server echoes it; 64-bit numbers exact. NULL: no memory. */
cJSON *nb_consumercfg_to_json(const struct nb_consumer_config *cfg);
/* Whether subject passes the consumer's filter(s). */
bool nb_consumercfg_matches(const struct nb_consumer_config *cfg, const char *subject, size_t len);

#endif
