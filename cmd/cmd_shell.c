/*
 * natsctl shell: a REPL over one connection, in the manner of redis-cli (cli.md 11.5).
 *
 * Lines are split like sh words (cli_words) and dispatched through the command table, so every
 * command takes the same options as on the command line. Client commands (pub, request,
 * stream ..., bench) run in the foreground with their own connection, pointed at the shell's
 * server through NATS_URL, on the shell's loop (cli_host.h). `sub` and `reply` run in the
 * background on the shell's connection, each with an id; `:sniff` feeds the subject tree behind
 * :subjects and :top. The modules are listed in cli_shell.h.
 *
 * Interactive (stdin a terminal): libedit through cli_line, output throttled, history kept.
 * Otherwise (a script on stdin, or -c): no prompt, no history, the first failure ends the shell
 * with its exit code, and only data goes to stdout.
 */
#include "cli_conn.h"
#include "cli_shell.h"

#include <stdlib.h>

enum {
    OPT_COMMANDS = 1,
    OPT_EMBEDDED,
    OPT_MONITOR,
};

const struct cli_opt cmd_shell_opts[] = {
    {OPT_COMMANDS, "c", "commands", NULL, "'CMD; CMD...'",
     "run these commands instead of reading them, then exit", NULL},
    {OPT_EMBEDDED, NULL, "embedded", NULL, NULL, "start a broker inside the shell and use it",
     NULL},
    {OPT_MONITOR, NULL, "monitor", NULL, "URL",
     "monitoring endpoint for :stats (default http://SERVER-HOST:8222)", NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_shell_details[] =
    "Reads commands with line editing, history and completion, or from -c or a script on stdin.\n"
    "Commands are the CLI's, without 'natsctl': pub, request, stream ..., bench. 'sub' and\n"
    "'reply' run in the background with an id ('unsub ID' stops one); a number before a\n"
    "command repeats it (3 pub x hi). Meta commands start with ':': :subs, :unsub ID,\n"
    ":set raw|pretty|json|timestamps on|off, :connect URL, :sniff [FILTER], :subjects [FILTER],\n"
    ":top [N], :stats, :history, :help [CMD], :quit.\n"
    "\n"
    "Words are split and quoted as in sh, without expansion; ';' separates commands. Without a\n"
    "terminal the shell stops at the first failing command with its exit code. History is kept\n"
    "in $XDG_STATE_HOME/natsctl/history (NATSCTL_HISTFILE overrides, /dev/null disables); lines\n"
    "with a password, token or credentials are never written. See docs/shell.md.\n"
    "\n"
    "Examples:\n"
    "  natsctl shell\n"
    "  natsctl shell --embedded\n"
    "  natsctl shell -c 'sub demo.>; pub demo.a hi; pub demo.b there'\n"
    "  natsctl shell < script.nats\n";

static int
on_shell_opt(void *ud, int id, const char *arg)
{
    struct shell *sh = ud;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&sh->env, id, arg);
    switch (id) {
    case OPT_COMMANDS:
        sh->commands = arg;
        return 0;
    case OPT_EMBEDDED:
        sh->embedded = true;
        return 0;
    case OPT_MONITOR:
        sh->monitor = arg;
        return 0;
    }
    return CLI_EXIT_FAIL;
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct shell *sh = ud;
    (void)args;
    if (nargs > 0) return cli_usage(sh->cmd, "no arguments expected (commands go in -c '...')");
    if (sh->embedded && sh->env.server)
        return cli_usage(sh->cmd, "--embedded and --server exclude each other");
    return 0;
}

/* The first server: the embedded broker, or the resolved one. */
static int
first_server(struct shell *sh, char *out, size_t cap)
{
    if (!sh->embedded) {
        snprintf(out, cap, "%s", sh->env.server);
        return CLI_EXIT_OK;
    }
    int rc = cli_embed_start(&sh->embed);
    if (rc != 0) {
        cli_error(sh->cmd, "cannot start the embedded broker: %s", nb_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    sh->embed_up = true;
    snprintf(out, cap, "nats://127.0.0.1:%d", sh->embed.port);
    return CLI_EXIT_OK;
}

static int
run_shell(struct shell *sh)
{
    char server[2048];
    int rc = first_server(sh, server, sizeof server);
    if (rc != 0) return rc;
    sh->host.loop = &sh->loop;
    cli_host_set(&sh->host);
    cli_shell_init_handles(sh);
    rc = cli_shell_connect(sh, server);
    if (rc == 0) rc = cli_shell_settle(sh);
    if (rc == 0 && !sh->connected) rc = CLI_EXIT_CONNECT;
    if (rc == 0 && sh->interactive) rc = cli_shell_start_interactive(sh);
    if (rc == 0 && sh->interactive)
        cli_shell_interact(sh);
    else if (rc == 0)
        rc = cli_shell_run_script(sh);
    cli_shell_end(sh);
    cli_host_set(NULL);
    uv_run(&sh->loop, UV_RUN_DEFAULT);
    free(sh->pending);
    /* Only now: the drain above still delivered messages to them. */
    while (sh->jobs) {
        struct job *j = sh->jobs;
        sh->jobs = j->next;
        cli_shell_job_free(j);
    }
    return rc ? rc : sh->async_rc;
}

int
cmd_shell(int argc, char **argv, const struct cli_cmd *self)
{
    struct shell *sh = calloc(1, sizeof *sh);
    if (!sh) return CLI_EXIT_FAIL;
    sh->cmd = self;
    cli_env_init(&sh->env, self);
    int first = 0;
    int rc = cli_opt_parse(self, argc, argv, on_shell_opt, sh, &first);
    if (rc == 0) rc = check_args(sh, argc - first, argv + first);
    if (rc == 0 && cli_env_resolve(&sh->env) != 0) rc = cli_usage(self, "%s", sh->env.err);
    if (rc == 0) {
        sh->interactive = !sh->commands && cli_stdin_is_tty() && cli_stdout_is_tty();
        cli_sniff_init(&sh->sniff, CLI_SHELL_MAX_SUBJECTS);
        if (uv_loop_init(&sh->loop) != 0) {
            rc = CLI_EXIT_FAIL;
        } else {
            rc = run_shell(sh);
            uv_loop_close(&sh->loop);
        }
        cli_sniff_release(&sh->sniff);
        cli_names_release(&sh->streams);
        if (sh->embed_up) cli_embed_stop(&sh->embed);
    }
    free(sh->server);
    free(sh);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
