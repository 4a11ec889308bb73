/*
 * The run loop every client command shares: one libuv loop, one connection, SIGINT/SIGTERM, and
 * the mapping from what went wrong to an exit code (docs/exit-codes.md).
 *
 * Use: fill a struct cli_conn (cmd, env, the callbacks), call cli_conn_run(); it connects, calls
 * on_connected, and returns the exit code once the command called cli_conn_finish() (or a signal,
 * a lost connection or a server error ended it). Commands never exit on their own.
 *
 * Bounded commands (pub, request) do not reconnect: a lost connection ends them with exit 3, and
 * Ctrl-C with 130. Long-running ones (sub, reply; cli_conn.long_running) reconnect forever with a
 * notice on stderr, and Ctrl-C drains them with exit 0; a second Ctrl-C during the drain gives 130.
 *
 * Inside the shell the loop is the shell's (cli_host.h): Ctrl-C comes from the host instead of a
 * signal watcher of the command's, and SIGTERM is left to the shell.
 */
#ifndef CLI_CONN_H
#define CLI_CONN_H

#include "cli.h"
#include "cli_env.h"
#include "np_client.h"

#include <uv.h>

struct cli_conn {
    const struct cli_cmd *cmd;
    const struct cli_env *env;
    bool long_running;
    /* Called once the first connection is up. */
    void (*on_connected)(struct cli_conn *cc);
    /* Called once when the command ends for any reason: close the command's own handles here. */
    void (*on_finish)(struct cli_conn *cc);
    void *ud;

    uv_loop_t *loop;      /* set by cli_conn_run: its own, or the host's (cli_host.h) */
    struct np_client *nc; /* set by cli_conn_run; NULL once closed */
    int rc;               /* private */
    bool finishing;       /* private */
    bool hosted;          /* private: the host hands Ctrl-C over instead of sigs */
    uv_signal_t sigs[2];  /* private */
};

/* Connects and runs the loop (its own, or the host's: cli_host.h) until the command ends and
 * everything it opened is closed. Returns the exit code. */
int cli_conn_run(struct cli_conn *cc);
/*
 * Ends the command with exit code rc: drain (deliver what is in flight, flush what was
 * published) or close at once. The first code wins, except that a later failure replaces a 0.
 */
void cli_conn_finish(struct cli_conn *cc, int rc, bool drain);
/* Prints "what: reason" for a library error, then finishes with its exit code. */
void cli_conn_fail(struct cli_conn *cc, int err, const char *what);
/* Checks a command's positional arguments (argv-style); returns 0 or an exit code. */
typedef int (*cli_args_fn)(void *ud, int nargs, char **args);
/*
 * The start every client command shares: parse the options (globals go to env through on_opt),
 * check the positional arguments, then resolve env from the environment. Returns 0, -1 after
 * --help (exit 0), or an exit code after printing one line.
 */
int cli_conn_parse(const struct cli_cmd *cmd, struct cli_env *env, int argc, char **argv,
                   cli_opt_fn on_opt, cli_args_fn check, void *ud);
/* cli_env_opt() for an option callback: prints its one-line error (cli.h's convention). */
int cli_conn_env_opt(struct cli_env *e, int id, const char *arg);
/* Client options from the resolved environment: servers, credentials, name and timeout, no
 * reconnects. Callers add what is theirs (callbacks, reconnect policy). */
struct np_client_opts cli_conn_client_opts(const struct cli_env *e);
/*
 * Prints why the first connection failed (status from np_client_connect's callback): each server
 * of the list, redacted, with where the list came from (-s, NATS_URL, a context, the default) and
 * what went wrong with it: "connection refused", "name not resolved", "timed out after 5s", ...
 */
void cli_conn_connect_error(const struct cli_cmd *cmd, const struct cli_env *e,
                            struct np_client *nc, int status);
/*
 * The text cli_conn_connect_error() prints after "cannot connect to" or "refused by":
 * "<servers> (<origin>): <reason>", or "any server (<origin>): <url>: <reason>; ..." for a list.
 */
void cli_conn_why(const struct cli_env *e, struct np_client *nc, int status, char *out, size_t cap);
/* The exit code for a library error code (NP_*, NP_CLIENT_*, negative errno). */
int cli_exit_for(int err);
/*
 * Reports a failed write to stdout: -EPIPE (the reader left, as with `| head -1`) ends the command
 * quietly with 0, anything else with a message and 1.
 */
void cli_conn_output_failed(struct cli_conn *cc, int err);

#endif
