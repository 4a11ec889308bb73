/*
 * An in-process broker for `bench --embedded`: libbroker on its own thread and loop, so the broker
 * and the load generator each get a core, as they would as two processes.
 */
#ifndef CLI_EMBED_H
#define CLI_EMBED_H

#include "nb.h"

#include <uv.h>

struct cli_embed {
    int port;              /* the port it listens on, after a successful start */
    struct nb_stats stats; /* the server's counters, after cli_embed_stop() */
    /* private */
    uv_thread_t thread;
    uv_loop_t loop;
    uv_sem_t ready;
    uv_async_t stop;
    struct nb_server *srv;
    int err;
};

/* Starts the broker on 127.0.0.1 and a free port. Returns 0 or a negative code (nb_strerror). */
int cli_embed_start(struct cli_embed *e);
/* Stops the broker, waits for its thread, and fills e->stats. */
void cli_embed_stop(struct cli_embed *e);

#endif
