/*
 * The loop commands borrow (cli_host.h). One host at a time, process-wide: the command functions
 * are called through the command table, whose signature has no room for it.
 */
#include "cli_host.h"
#include "cli_tmpl.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static struct cli_host *current;

void
cli_host_set(struct cli_host *h)
{
    current = h;
}

uv_loop_t *
cli_host_loop(void)
{
    return current ? current->loop : NULL;
}

void
cli_host_begin(struct cli_host *h)
{
    h->interrupts = 0;
    h->on_interrupt = NULL;
    h->ud = NULL;
}

void
cli_host_interrupt(struct cli_host *h)
{
    h->interrupts++;
    if (h->on_interrupt) h->on_interrupt(h->ud);
}

int
cli_host_turn(struct cli_host *h, uv_run_mode mode)
{
    h->depth++;
    int alive = uv_run(h->loop, mode);
    h->depth--;
    return alive;
}

bool
cli_host_listen(void (*fn)(void *ud), void *ud)
{
    if (!current) return false;
    current->on_interrupt = fn;
    current->ud = ud;
    return current->interrupts > 0;
}

static void
count_closing(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h)) ++*(unsigned *)arg;
}

static bool
closing(uv_loop_t *loop)
{
    unsigned n = 0;
    uv_walk(loop, count_closing, &n);
    return n > 0;
}

void
cli_host_run(bool (*done)(void *ud), void *ud)
{
    while (!done(ud))
        cli_host_turn(current, UV_RUN_ONCE);
    /* A turn with handles closing does not wait, and ends by finishing their closes. */
    while (closing(current->loop))
        cli_host_turn(current, UV_RUN_ONCE);
}

struct waiting {
    uv_poll_t poll;
    bool ready, interrupted;
};

static void
on_input(uv_poll_t *h, int status, int events)
{
    struct waiting *w = h->data;
    (void)status;
    (void)events;
    w->ready = true;
}

static void
on_wait_interrupt(void *ud)
{
    struct waiting *w = ud;
    w->interrupted = true;
}

static bool
waited(void *ud)
{
    struct waiting *w = ud;
    if (!w->ready && !w->interrupted) return false;
    if (!uv_is_closing((uv_handle_t *)&w->poll)) uv_close((uv_handle_t *)&w->poll, NULL);
    return true;
}

int
cli_host_wait_input(int fd)
{
    struct waiting w = {0};
    if (!current || current->depth > 0 || !isatty(fd)) return 0;
    /* The poll makes fd non-blocking; the reads that follow, and the editor after them, expect
     * it as it was. */
    int flags = fcntl(fd, F_GETFL);
    if (uv_poll_init(current->loop, &w.poll, fd) != 0) return 0;
    w.poll.data = &w;
    uv_poll_start(&w.poll, UV_READABLE, on_input);
    w.interrupted = cli_host_listen(on_wait_interrupt, &w);
    cli_host_run(waited, &w);
    cli_host_listen(NULL, NULL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags);
    return w.interrupted ? -EINTR : 0;
}

int
cli_host_read_fd(struct np_buf *b, int fd)
{
    int rc;
    while ((rc = cli_host_wait_input(fd)) == 0 && (rc = cli_read_some(b, fd)) > 0) {
    }
    return rc;
}
