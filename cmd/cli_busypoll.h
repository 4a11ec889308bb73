/*
 * Adaptive busy polling for the server's event loop: after traffic, poll without sleeping for a
 * short window, so a message that follows within it is served without the wakeup a sleeping
 * process needs (tens of microseconds on a virtual machine). Request-reply is the case it is for:
 * the reply comes back a few microseconds after the request went out.
 *
 * The window adapts, much as the kernel's haltpoll governor does: it is opened to its maximum
 * when traffic woke the sleeping loop sooner than that (a poll would have caught it), stays there
 * while polls catch traffic, and halves each time one catches nothing, down to none. So steady
 * traffic slower than the window stops polling after a few messages, and an idle server sleeps.
 */
#ifndef CLI_BUSYPOLL_H
#define CLI_BUSYPOLL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define CLI_BUSYPOLL_DEFAULT_US 100
#define CLI_BUSYPOLL_MIN_NS     2000u /* a smaller window closes: not worth a poll */

struct cli_busypoll {
    uint64_t max_ns;    /* 0: never poll */
    uint64_t window_ns; /* how long the next poll may last */
};

void cli_busypoll_init(struct cli_busypoll *bp, uint64_t max_ns);
/* A poll ended; caught says whether traffic arrived within it. */
void cli_busypoll_polled(struct cli_busypoll *bp, bool caught);
/* The loop slept for slept_ns and woke; traffic says whether it woke for traffic. */
void cli_busypoll_slept(struct cli_busypoll *bp, uint64_t slept_ns, bool traffic);

/* The activity counter the loop watches: any value that changes when traffic was processed. */
typedef uint64_t (*cli_busypoll_activity)(void *ud);

/* Runs loop until it has nothing left to do, as uv_run(UV_RUN_DEFAULT) would, polling as above. */
void cli_busypoll_run(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity,
                      void *ud);

#endif
