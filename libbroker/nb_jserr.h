/*
 * JetStream API errors: nats-server's table of (HTTP-like code, err_code, description), so that
 * clients which key on err_code or on the exact text (nats.js compares "stream not found") see
 * what they see from nats-server.
 */
#ifndef NB_JSERR_H
#define NB_JSERR_H

#include <stdarg.h>

/* X(NAME, code, err_code, description); a description with %s takes one argument. */
#define NB_JSERR_MAP(X)                                                                            \
    X(BAD_REQUEST, 400, 10003, "bad request")                                                      \
    X(CONSUMER_CREATE, 500, 10012, "%s")                                                           \
    X(CONSUMER_NAME_EXIST, 400, 10013, "consumer name already in use")                             \
    X(CONSUMER_NOT_FOUND, 404, 10014, "consumer not found")                                        \
    X(INSUFFICIENT_RESOURCES, 503, 10023, "insufficient resources")                                \
    X(INVALID_JSON, 400, 10025, "invalid JSON: %s")                                                \
    X(MAX_CONSUMERS, 400, 10026, "maximum consumers limit reached")                                \
    X(MAX_STREAMS, 400, 10027, "maximum number of streams reached")                                \
    X(NO_MESSAGE_FOUND, 404, 10037, "no message found")                                            \
    X(SEQUENCE_NOT_FOUND, 400, 10043, "sequence %s not found")                                     \
    X(NOT_ENABLED_FOR_ACCOUNT, 503, 10039, "JetStream not enabled for account")                    \
    X(STREAM_CREATE, 500, 10049, "%s")                                                             \
    X(STREAM_INVALID_CONFIG, 500, 10052, "%s")                                                     \
    X(STREAM_MESSAGE_EXCEEDS_MAX, 400, 10054, "message size exceeds maximum allowed")              \
    X(STREAM_MISMATCH, 400, 10056, "stream name in subject does not match request")                \
    X(STREAM_MSG_DELETE_FAILED, 500, 10057, "%s")                                                  \
    X(STREAM_NAME_EXIST, 400, 10058, "stream name already in use with a different configuration")  \
    X(STREAM_NOT_FOUND, 404, 10059, "stream not found")                                            \
    X(STREAM_NOT_MATCH, 400, 10060, "expected stream does not match")                              \
    X(STREAM_SUBJECT_OVERLAP, 400, 10065, "subjects overlap with an existing stream")              \
    X(STREAM_WRONG_LAST_MSG_ID, 400, 10070, "wrong last msg ID: %s")                               \
    X(STREAM_WRONG_LAST_SEQUENCE, 400, 10071, "wrong last sequence: %s")                           \
    X(STREAM_REPLICAS_NOT_SUPPORTED, 500, 10074,                                                   \
      "replicas > 1 not supported in non-clustered mode")                                          \
    X(STREAM_STORE_FAILED, 503, 10077, "%s")                                                       \
    X(STREAM_SEALED, 400, 10109, "invalid operation on sealed stream")                             \
    X(STREAM_PURGE_FAILED, 500, 10110, "%s")                                                       \
    X(STREAM_ROLLUP_FAILED, 500, 10111, "%s")                                                      \
    X(STREAM_HEADER_EXCEEDS_MAX, 400, 10097, "header size exceeds maximum allowed of 64k")         \
    X(CONSUMER_DELIVER_TO_WILDCARDS, 400, 10079, "consumer deliver subject has wildcards")         \
    X(CONSUMER_PUSH_MAX_WAITING, 400, 10080, "consumer in push mode can not set max waiting")      \
    X(CONSUMER_DELIVER_CYCLE, 400, 10081, "consumer deliver subject forms a cycle")                \
    X(CONSUMER_MAX_PENDING_ACK_POLICY_REQUIRED, 400, 10082,                                        \
      "consumer requires ack policy for max ack pending")                                          \
    X(CONSUMER_SMALL_HEARTBEAT, 400, 10083, "consumer idle heartbeat needs to be >= 100ms")        \
    X(CONSUMER_PULL_REQUIRES_ACK, 400, 10084,                                                      \
      "consumer in pull mode requires explicit ack policy on workqueue stream")                    \
    X(CONSUMER_PULL_WITH_RATE_LIMIT, 400, 10086,                                                   \
      "consumer in pull mode can not have rate limit set")                                         \
    X(CONSUMER_MAX_WAITING_NEGATIVE, 400, 10087, "consumer max waiting needs to be positive")      \
    X(CONSUMER_HB_REQUIRES_PUSH, 400, 10088,                                                       \
      "consumer idle heartbeat requires a push based consumer")                                    \
    X(CONSUMER_FC_REQUIRES_PUSH, 400, 10089,                                                       \
      "consumer flow control requires a push based consumer")                                      \
    X(CONSUMER_FILTER_NOT_SUBSET, 400, 10093,                                                      \
      "consumer filter subject is not a valid subset of the interest subjects")                    \
    X(CONSUMER_INVALID_POLICY, 400, 10094, "%s")                                                   \
    X(CONSUMER_INVALID_SAMPLING, 400, 10095,                                                       \
      "failed to parse consumer sampling configuration: %s")                                       \
    X(CONSUMER_WQ_REQUIRES_EXPLICIT_ACK, 400, 10098, "workqueue stream requires explicit ack")     \
    X(CONSUMER_WQ_MULTIPLE_UNFILTERED, 400, 10099,                                                 \
      "multiple non-filtered consumers not allowed on workqueue stream")                           \
    X(CONSUMER_WQ_NOT_UNIQUE, 400, 10100, "filtered consumer not unique on workqueue stream")      \
    X(CONSUMER_WQ_NOT_DELIVER_ALL, 400, 10101, "consumer must be deliver all on workqueue stream") \
    X(CONSUMER_NAME_TOO_LONG, 400, 10102, "consumer name is too long, maximum allowed is %s")      \
    X(CONSUMER_BAD_DURABLE_NAME, 400, 10103, "durable name can not contain '.', '*', '>'")         \
    X(CONSUMER_DESCRIPTION_TOO_LONG, 400, 10107,                                                   \
      "consumer description is too long, maximum allowed is %s")                                   \
    X(CONSUMER_FC_NEEDS_HEARTBEATS, 400, 10108,                                                    \
      "consumer with flow control also needs heartbeats")                                          \
    X(CONSUMER_INVALID_DELIVER_SUBJECT, 400, 10112, "invalid push consumer deliver subject")       \
    X(CONSUMER_MAX_REQUEST_BATCH_NEGATIVE, 400, 10114,                                             \
      "consumer max request batch needs to be > 0")                                                \
    X(CONSUMER_MAX_REQUEST_EXPIRES_TOO_SMALL, 400, 10115,                                          \
      "consumer max request expires needs to be >= 1ms")                                           \
    X(CONSUMER_MAX_DELIVER_BACKOFF, 400, 10116,                                                    \
      "max deliver is required to be > length of backoff values")                                  \
    X(CONSUMER_MAX_PENDING_ACK_EXCESS, 400, 10121,                                                 \
      "consumer max ack pending exceeds system limit of %s")                                       \
    X(CONSUMER_NAME_PATH_SEPARATORS, 400, 10127, "Consumer name can not contain path separators")  \
    X(CONSUMER_DURABLE_NAME_MISMATCH, 400, 10132,                                                  \
      "Consumer Durable and Name have to be equal if both are provided")                           \
    X(CONSUMER_REPLICAS_NEGATIVE, 400, 10133, "replicas count cannot be negative")                 \
    X(CONSUMER_DUPLICATE_FILTER_SUBJECTS, 400, 10136,                                              \
      "consumer cannot have both FilterSubject and FilterSubjects specified")                      \
    X(CONSUMER_OVERLAPPING_FILTERS, 400, 10138, "consumer subject filters cannot overlap")         \
    X(CONSUMER_EMPTY_FILTER, 400, 10139, "consumer filter in FilterSubjects cannot be empty")      \
    X(CONSUMER_INACTIVE_THRESHOLD_EXCESS, 400, 10153,                                              \
      "consumer inactive threshold exceeds system limit of %s")

enum nb_jserr_id {
#define NB__JSERR_ENUM(name, code, err_code, text) NB_JSERR_##name,
    NB_JSERR_MAP(NB__JSERR_ENUM)
#undef NB__JSERR_ENUM
};

struct nb_jserr {
    int code; /* 0: no error */
    int err_code;
    char description[256];
};

/* Fills err with the entry id; arg fills a %s in the description (ignored otherwise). */
void nb_jserr_set(struct nb_jserr *err, enum nb_jserr_id id, const char *arg);
/* Like nb_jserr_set with a printf-formatted argument. */
void nb_jserr_setf(struct nb_jserr *err, enum nb_jserr_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
