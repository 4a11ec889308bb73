/* Adaptive busy polling; see cli_busypoll.h for the policy. */
#include "cli_busypoll.h"

void
cli_busypoll_init(struct cli_busypoll *bp, uint64_t max_ns)
{
    *bp = (struct cli_busypoll){.max_ns = max_ns, .window_ns = 0};
}

void
cli_busypoll_polled(struct cli_busypoll *bp, bool caught)
{
    if (caught) {
        bp->window_ns = bp->max_ns;
        return;
    }
    bp->window_ns /= 2;
    if (bp->window_ns < CLI_BUSYPOLL_MIN_NS) bp->window_ns = 0;
}

void
cli_busypoll_slept(struct cli_busypoll *bp, uint64_t slept_ns, bool traffic)
{
    if (traffic && slept_ns <= bp->max_ns) bp->window_ns = bp->max_ns;
}

enum poll_result { LOOP_DONE, POLL_MISSED, POLL_CAUGHT };

/* Polls for up to the current window, returning as soon as traffic was processed. */
static enum poll_result
poll_window(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity, void *ud)
{
    uint64_t seen = activity(ud);
    uint64_t deadline = uv_hrtime() + bp->window_ns;
    bool caught = false;
    while (!caught && uv_hrtime() < deadline) {
        if (!uv_run(loop, UV_RUN_NOWAIT)) return LOOP_DONE;
        caught = activity(ud) != seen;
    }
    cli_busypoll_polled(bp, caught);
    return caught ? POLL_CAUGHT : POLL_MISSED;
}

void
cli_busypoll_run(struct cli_busypoll *bp, uv_loop_t *loop, cli_busypoll_activity activity, void *ud)
{
    for (;;) {
        enum poll_result r = bp->window_ns ? poll_window(bp, loop, activity, ud) : POLL_MISSED;
        if (r == LOOP_DONE) return;
        if (r == POLL_CAUGHT) continue;
        uint64_t seen = activity(ud);
        uint64_t slept = uv_hrtime();
        if (!uv_run(loop, UV_RUN_ONCE)) return;
        cli_busypoll_slept(bp, uv_hrtime() - slept, activity(ud) != seen);
    }
}
