/* Polling and batching in the server's loop; see cli_busypoll.h for the policy. */
#include "cli_busypoll.h"

#include <time.h>

#define HIT_ONE        1024u              /* hit_rate's fixed-point 1.0 */
#define MIN_HIT_RATE   (HIT_ONE * 8 / 10) /* below this, frugal polling pauses */
#define MIN_NAP_YIELD  (2 * 16)           /* two messages per nap, in nap_yield's units */
#define BUSY_NAP_BYTES 32768u             /* a nap that gathers more finds a busy server */
#define DENSE_WAKEUPS  3                  /* dense wakeups in a row before batching starts */
#define FIRST_PAUSE_NS 1000000u           /* 1 ms */
#define MAX_PAUSE_NS   100000000u         /* 100 ms */

void
cli_busypoll_init(struct cli_busypoll *bp, uint64_t max_ns, bool frugal)
{
    *bp = (struct cli_busypoll){
        .max_ns = max_ns,
        .frugal = frugal,
        .hit_rate = HIT_ONE,
        .nap_yield = MIN_NAP_YIELD * 2,
        .poll_backoff = {FIRST_PAUSE_NS, 0},
        .nap_backoff = {FIRST_PAUSE_NS, 0},
    };
}

static void
back_off(struct cli_backoff *b, uint64_t now_ns)
{
    b->until_ns = now_ns + b->pause_ns;
    b->pause_ns = b->pause_ns * 2 < MAX_PAUSE_NS ? b->pause_ns * 2 : MAX_PAUSE_NS;
}

static void
succeeded(struct cli_backoff *b)
{
    b->pause_ns = FIRST_PAUSE_NS;
}

void
cli_busypoll_polled(struct cli_busypoll *bp, bool caught, uint64_t now_ns)
{
    bp->hit_rate = bp->hit_rate - bp->hit_rate / 8 + (caught ? HIT_ONE / 8 : 0);
    if (caught) {
        bp->window_ns = bp->max_ns;
        if (bp->hit_rate >= MIN_HIT_RATE) succeeded(&bp->poll_backoff);
        return;
    }
    bp->window_ns /= 2;
    if (bp->window_ns < CLI_BUSYPOLL_MIN_NS) bp->window_ns = 0;
    if (bp->frugal && bp->hit_rate < MIN_HIT_RATE) {
        bp->window_ns = 0;
        back_off(&bp->poll_backoff, now_ns);
    }
}

void
cli_busypoll_slept(struct cli_busypoll *bp, uint64_t slept_ns, struct cli_traffic got,
                   uint64_t now_ns)
{
    bool small = got.msgs > 0 && got.bytes <= CLI_BUSYPOLL_SMALL;
    bp->dense = small && slept_ns < CLI_BUSYPOLL_DENSE_NS ? bp->dense + 1 : 0;
    if (got.msgs == 0 || slept_ns > bp->max_ns) return;
    if (bp->frugal && now_ns < bp->poll_backoff.until_ns) return;
    bp->window_ns = bp->max_ns;
}

bool
cli_busypoll_should_nap(const struct cli_busypoll *bp, uint64_t now_ns)
{
    return bp->frugal && bp->dense >= DENSE_WAKEUPS && now_ns >= bp->nap_backoff.until_ns;
}

void
cli_busypoll_napped(struct cli_busypoll *bp, struct cli_traffic got, uint64_t now_ns)
{
    uint64_t sample = got.msgs > 255 ? 255 * 16 : got.msgs * 16;
    bp->nap_yield = bp->nap_yield - bp->nap_yield / 4 + (uint32_t)sample / 4;
    /* Nothing came: the burst is over, sleep until the next one. Much came: the server is busy. */
    if (got.msgs == 0 || got.bytes > BUSY_NAP_BYTES) bp->dense = 0;
    if (bp->nap_yield >= MIN_NAP_YIELD) {
        succeeded(&bp->nap_backoff);
        return;
    }
    bp->dense = 0;
    bp->nap_yield = MIN_NAP_YIELD * 2; /* the next try starts with the benefit of the doubt */
    back_off(&bp->nap_backoff, now_ns);
}

static struct cli_traffic
since(struct cli_traffic before, struct cli_traffic now)
{
    return (struct cli_traffic){now.msgs - before.msgs, now.bytes - before.bytes};
}

enum poll_result { LOOP_DONE, POLL_MISSED, POLL_CAUGHT };

/* Polls for up to the current window, returning as soon as traffic was processed. */
static enum poll_result
poll_window(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity, void *ud)
{
    uint64_t seen = activity(ud).msgs;
    uint64_t deadline = uv_hrtime() + bp->window_ns;
    bool caught = false;
    while (!caught && uv_hrtime() < deadline) {
        if (!uv_run(loop, UV_RUN_NOWAIT)) return LOOP_DONE;
        caught = activity(ud).msgs != seen;
    }
    cli_busypoll_polled(bp, caught, uv_hrtime());
    return caught ? POLL_CAUGHT : POLL_MISSED;
}

/* Naps while steady traffic makes it pay, then serves what gathered. False once the loop is done. */
static bool
batch(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity, void *ud)
{
    while (cli_busypoll_should_nap(bp, uv_hrtime())) {
        struct timespec nap = {.tv_sec = 0, .tv_nsec = CLI_BUSYPOLL_NAP_NS};
        nanosleep(&nap, NULL);
        struct cli_traffic before = activity(ud);
        if (!uv_run(loop, UV_RUN_NOWAIT)) return false;
        cli_busypoll_napped(bp, since(before, activity(ud)), uv_hrtime());
    }
    return true;
}

void
cli_busypoll_run(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity, void *ud)
{
    for (;;) {
        enum poll_result r = bp->window_ns ? poll_window(bp, loop, activity, ud) : POLL_MISSED;
        if (r == LOOP_DONE) return;
        if (r == POLL_CAUGHT) continue;
        struct cli_traffic before = activity(ud);
        uint64_t slept = uv_hrtime();
        if (!uv_run(loop, UV_RUN_ONCE)) return;
        uint64_t now = uv_hrtime();
        cli_busypoll_slept(bp, now - slept, since(before, activity(ud)), now);
        if (!batch(bp, loop, activity, ud)) return;
    }
}
