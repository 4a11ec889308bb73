/*
 * How the server's event loop waits for traffic. On a virtual machine a sleep and the wakeup that
 * ends it cost tens of microseconds of CPU and as much latency, per wakeup; this module spends
 * fewer of them.
 *
 * Two tools, each adapting to the traffic it sees:
 * - Polling: after traffic, poll without sleeping for a short window, so that a message that
 *   follows within it is served without a wakeup. Request-reply is the case it is for: the reply
 *   comes back a few microseconds after the request went out. The window opens to its maximum
 *   when traffic woke the sleeping loop sooner than that, stays there while polls catch traffic,
 *   and halves each time one catches nothing.
 * - Batching: when wakeups for a few messages each come one right after another (steady traffic
 *   of many small writes), nap for a fixed short time and then take everything that arrived at
 *   once, so one wakeup serves many messages. It adds up to the nap to a message's delivery time,
 *   so it is kept only while naps gather at least two messages each. A server that is busy (each
 *   wakeup or nap brings tens of kilobytes) does not sleep between reads anyway, and a nap would
 *   only idle it, so batching stops there.
 *
 * Latency mode (--busy_poll USEC) polls after all traffic, whatever it costs. Frugal mode (the
 * default) batches steady traffic, and polls only while polls mostly catch traffic: a poll that
 * misses costs its whole window, so when fewer than 80% catch, polling pauses (1 ms, doubling
 * up to 100 ms while it keeps failing). Naps pause the same way when they gather too little.
 */
#ifndef CLI_BUSYPOLL_H
#define CLI_BUSYPOLL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define CLI_BUSYPOLL_DEFAULT_US 100
#define CLI_BUSYPOLL_MIN_NS     2000u   /* a smaller window closes: not worth a poll */
#define CLI_BUSYPOLL_DENSE_NS   200000u /* a wakeup this soon after going to sleep is "dense" */
#define CLI_BUSYPOLL_NAP_NS     50000u  /* how long a batching nap lets traffic gather */
#define CLI_BUSYPOLL_SMALL      16384u  /* a wakeup for at most this many bytes is worth batching */

/* Pauses a tool that costs more than it saves, for longer each time it fails again. */
struct cli_backoff {
    uint64_t pause_ns, until_ns;
};

struct cli_busypoll {
    uint64_t max_ns;    /* the longest poll; 0 never polls */
    bool frugal;        /* pause what does not pay, and batch steady traffic */
    uint64_t window_ns; /* how long the next poll may last */
    uint32_t hit_rate;  /* smoothed share of polls that caught traffic, 1024 = all */
    unsigned dense;     /* wakeups in a row that came soon after going to sleep */
    uint32_t nap_yield; /* smoothed messages gathered per nap, times 16 */
    struct cli_backoff poll_backoff, nap_backoff;
};

/* max_ns 0 with frugal false: a plain loop. */
void cli_busypoll_init(struct cli_busypoll *bp, uint64_t max_ns, bool frugal);
/* A poll ended at now_ns; caught says whether traffic arrived within it. */
void cli_busypoll_polled(struct cli_busypoll *bp, bool caught, uint64_t now_ns);
/* What the server has taken in so far; the loop compares it before and after each wait. */
struct cli_traffic {
    uint64_t msgs, bytes;
};

/* The loop slept for slept_ns, woke at now_ns and took in got. */
void cli_busypoll_slept(struct cli_busypoll *bp, uint64_t slept_ns, struct cli_traffic got,
                        uint64_t now_ns);
/* Whether to nap and batch now. */
bool cli_busypoll_should_nap(const struct cli_busypoll *bp, uint64_t now_ns);
/* A nap ended at now_ns and gathered got. */
void cli_busypoll_napped(struct cli_busypoll *bp, struct cli_traffic got, uint64_t now_ns);

/* Reads the server's traffic counters. */
typedef struct cli_traffic (*cli_busypoll_activity)(void *ud);

/* Runs loop until it has nothing left to do, as uv_run(UV_RUN_DEFAULT) would, waiting as above. */
void cli_busypoll_run(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity,
                      void *ud);

#endif
