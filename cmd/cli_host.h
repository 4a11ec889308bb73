/*
 * A loop that commands borrow. On the command line a client command creates its own loop and runs
 * it until nothing is left on it. Inside the shell, the shell's loop hosts each foreground command
 * instead: the command's connection, timers and terminal reads live on the loop beside the shell's
 * own connection, so the shell's background subscriptions keep being served while it runs.
 *
 * A hosted command still runs synchronously (the shell calls its cmd_* function), turning the
 * host's loop itself until it is done, so the host must call it from outside any callback of that
 * loop: uv_run is not reentrant. The host owns SIGINT; a Ctrl-C while a command runs goes to the
 * handler the command listens with, or is remembered until it listens.
 *
 * Everything here runs on the loop's thread.
 */
#ifndef CLI_HOST_H
#define CLI_HOST_H

#include "np_buf.h"

#include <stdbool.h>
#include <uv.h>

struct cli_host {
    uv_loop_t *loop;

    /* private */
    unsigned depth;      /* turns of the loop in progress: callbacks cannot turn it again */
    unsigned interrupts; /* Ctrl-C since the current command began */
    void (*on_interrupt)(void *ud);
    void *ud;
};

/* Makes h the host of the commands run from now on; NULL: none, each runs its own loop. */
void cli_host_set(struct cli_host *h);
/* The host's loop, or NULL without a host. */
uv_loop_t *cli_host_loop(void);

/* For the host: a command begins (earlier Ctrl-C are forgotten). */
void cli_host_begin(struct cli_host *h);
/* For the host: Ctrl-C while a command runs. */
void cli_host_interrupt(struct cli_host *h);
/* One turn of the loop (uv_run with mode), counted so that callbacks know they are inside one. */
int cli_host_turn(struct cli_host *h, uv_run_mode mode);

/*
 * For a hosted command: fn(ud) hears Ctrl-C from now on (NULL: nobody). Returns whether a Ctrl-C
 * came since the command began, which the caller acts on itself. Without a host, false.
 */
bool cli_host_listen(void (*fn)(void *ud), void *ud);
/*
 * For a hosted command: turns the host's loop until done(ud), then until every handle closed on
 * the way has finished closing, after which the command may free their memory.
 */
void cli_host_run(bool (*done)(void *ud), void *ud);
/*
 * Waits until the terminal on fd has input (a line, or end of input), turning the host's loop
 * meanwhile. Returns 0, or -EINTR after Ctrl-C. Returns 0 at once without a host, for a fd that
 * is not a terminal, and from inside a callback of the loop (the read that follows then blocks).
 */
int cli_host_wait_input(int fd);
/* Reads fd to its end into b as cli_read_fd() does, through cli_host_wait_input() on a terminal.
 * Returns 0, -EINTR after Ctrl-C, or another negative errno. */
int cli_host_read_fd(struct np_buf *b, int fd);

#endif
