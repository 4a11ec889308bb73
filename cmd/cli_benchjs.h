/*
 * The consumer side of natsctl bench (sub --js): an ephemeral consumer on an existing stream,
 * read as fast as the server delivers. Unlike cli_jsc (one pull at a time, for reading), it keeps
 * two pull requests outstanding, so the server never waits for the client between batches, and
 * acks are plain publishes that are never waited for one by one. It never asks for more than
 * `want` messages in total, so the counts the bench reports are exact.
 */
#ifndef CLI_BENCHJS_H
#define CLI_BENCHJS_H

#include "np.h"
#include "np_client.h"

#include <stdbool.h>
#include <stdint.h>

#define CLI_BJS_PULLS 2

struct cli_bjs;
/*
 * Creation's outcome: why is NULL when the consumer exists; otherwise status is 0 (the API
 * refused, err_code its code when it gave one) or an NP_CLIENT_E* code.
 */
typedef void (*cli_bjs_fn)(struct cli_bjs *j, int status, long err_code, const char *why);
/* The server ended the reading (409 and the like), or an ack or a pull could not be sent. */
typedef void (*cli_bjs_err_fn)(struct cli_bjs *j, const char *why);
typedef void (*cli_bjs_msg_fn)(struct cli_bjs *j, const struct np_msg *m);

struct cli_bjs {
    struct np_client *nc;
    const char *stream, *filter; /* filter: NULL for the whole stream */
    bool push, ack;              /* ack: explicit policy, each message acked before on_msg */
    uint64_t batch, want, expires_ms;
    cli_bjs_fn on_ready;
    cli_bjs_err_fn on_error;
    cli_bjs_msg_fn on_msg;
    void *ud;
    uint64_t received, acks;
    /* private */
    char consumer[128], inbox[64];
    struct cli_bjs_pull {
        struct cli_bjs *j;
        char reply[80];
        uint64_t left; /* messages this request may still bring */
    } pulls[CLI_BJS_PULLS];
    uint64_t asked; /* messages all requests may bring, delivered included */
    bool failed;
};

/* Subscribes and creates the consumer; on_ready follows. Returns 0 or a negative code. */
int cli_bjs_start(struct cli_bjs *j);
/* Deletes the consumer; cb gets the answer. Returns NP_CLIENT_ECLOSED when there is none. */
int cli_bjs_delete(struct cli_bjs *j, np_reply_cb cb, void *ud);
/*
 * An API answer (shared with the publish side): 0 for success, else its err_code (-1 without
 * one), with the reason in why.
 */
long cli_bjs_api_error(int status, const struct np_msg *m, char *why, size_t cap);

#endif
