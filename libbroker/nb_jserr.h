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
    X(STREAM_HEADER_EXCEEDS_MAX, 400, 10097, "header size exceeds maximum allowed of 64k")

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
