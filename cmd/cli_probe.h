/*
 * One timed visit to a server, for rtt and server check: connect, then a number of PING/PONG
 * round trips one after the other, then optionally one message through a fresh inbox (publish,
 * receive, compare). Runs its own loop, or the shell's (cli_host.h), and returns when done;
 * prints nothing.
 */
#ifndef CLI_PROBE_H
#define CLI_PROBE_H

#include "cli_env.h"

#include <stdbool.h>
#include <stdint.h>

struct cli_probe {
    const struct cli_env *env; /* servers and credentials */
    int pings;                 /* PING/PONG round trips after connecting */
    bool message;              /* also time one message to ourselves */

    /* Results. status is 0, or the failure: where says which step failed. */
    int status;
    const char *where;   /* "connect", "rtt" or "message" */
    char why[3200];      /* on a failed connect: cli_conn_why()'s text; otherwise the reason */
    uint64_t connect_ns; /* INFO, CONNECT, PING and PONG done */
    uint64_t rtt_ns;     /* the average of the round trips */
    uint64_t message_ns; /* publish to delivery */
    bool message_ok;     /* the message came back unchanged */
    bool interrupted;    /* Ctrl-C in the shell ended it (status is then NP_CLIENT_ECLOSED) */
};

/* Runs the probe; returns p->status. */
int cli_probe_run(struct cli_probe *p);

#endif
