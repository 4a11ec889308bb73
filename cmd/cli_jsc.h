/*
 * Reading a stream through a consumer, for sub --stream, consumer next, kv watch/history and
 * bench's consume modes (docs/streams.md): the delivery metadata of the $JS.ACK reply subject,
 * the status messages that are not messages (heartbeats, flow control, end of a pull), acks, and
 * a reader that creates or binds a consumer and keeps messages coming.
 *
 * The reader pulls when the consumer has no deliver subject: one request at a time to a private
 * inbox, the next one sent when a batch is complete or the server ends the request. A push
 * consumer's deliver subject is subscribed to instead, with flow-control requests answered.
 * Failures end the command through cli_js.h's reporting. The API callbacks find the reader
 * through the connection: cc->ud must point at it (make it the first member of the command's
 * struct).
 */
#ifndef CLI_JSC_H
#define CLI_JSC_H

#include "cli_js.h"

/* What the ack reply subject of a delivery says (jetstream.md 5.1). */
struct cli_jsc_meta {
    struct np_str stream, consumer;
    uint64_t delivered, stream_seq, cons_seq, pending;
    int64_t ts_ns; /* when the stream stored the message */
};

/* Reads $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending> (or the 11+ token form). */
bool cli_jsc_parse_meta(struct np_str reply, struct cli_jsc_meta *out);

enum cli_jsc_kind {
    CLI_JSC_MSG,     /* a stream message */
    CLI_JSC_CONTROL, /* heartbeat or flow control: never shown */
    CLI_JSC_END,     /* 404/408: the pull request is over */
    CLI_JSC_REFUSED, /* another status (409 Consumer Deleted, ...): the reading is over */
};
enum cli_jsc_kind cli_jsc_kind(const struct np_msg *m);

/*
 * Reads a start position (sub --from, consumer add --deliver) into config's deliver_policy and
 * opt_start_*: all, new, last, last-per-subject, SEQ, DURATION (that long ago: 1h, 30m), an RFC
 * 3339 time, or -N, which only sets *last_n for the caller to turn into a start sequence (the
 * policy stays all). Returns false on anything else.
 */
bool cli_jsc_from(const char *from, cJSON *config, uint64_t *last_n);

struct cli_jsc;
typedef void (*cli_jsc_msg_fn)(struct cli_jsc *j, const struct np_msg *m,
                               const struct cli_jsc_meta *meta);
typedef void (*cli_jsc_fn)(struct cli_jsc *j);

struct cli_jsc {
    struct cli_conn *cc;
    const char *stream;
    char consumer[256];
    bool ack;              /* ack each message once on_msg returned (explicit and all policies) */
    bool until_end;        /* stop at the end of what the stream holds now (on_end) */
    bool single;           /* pull: one request only; its end (full, 404, 408) calls on_end */
    bool delete_at_end;    /* an ephemeral this reader created: deleted when the command ends */
    uint64_t batch;        /* pull: messages per request (default 256) */
    uint64_t expires_ms;   /* pull: a waiting request's lifetime (default 30 s) */
    cli_jsc_fn on_ready;   /* the consumer exists and reading starts; may be NULL */
    cli_jsc_msg_fn on_msg; /* each message, in order */
    cli_jsc_fn on_end;     /* until_end: nothing more is pending; single: the request ended */
    void *ud;

    cJSON *info;       /* the consumer's info once ready (create or info response) */
    uint64_t received; /* messages handed to on_msg */
    /* private */
    char inbox[64];
    int64_t sid;
    uint64_t left; /* messages the current pull request may still bring */
    bool push, ended;
};

/* Creates the consumer described by config (durable when it has durable_name), then reads. */
void cli_jsc_create(struct cli_jsc *j, cJSON *config);
/* Reads through the existing consumer j->consumer; 6 when it does not exist. */
void cli_jsc_bind(struct cli_jsc *j);
/* Starts reading through the consumer whose info is given (taken over). */
void cli_jsc_start(struct cli_jsc *j, cJSON *info);
/* Sends a fire-and-forget delete of an ephemeral consumer this reader made; from on_finish. */
void cli_jsc_cleanup(struct cli_jsc *j);
/* The deliver subject config describes, or "" for a pull consumer. */
const char *cli_jsc_deliver(const cJSON *info);

#endif
