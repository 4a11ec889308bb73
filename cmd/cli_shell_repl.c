/*
 * Running the shell's lines. A line is split into sh-like words (cli_words) and each command goes
 * to a meta command, a background command (sub, reply) or a foreground command: the CLI's own
 * command function, which runs to completion with its own connection on the shell's loop
 * (cli_host.h), so the background commands go on meanwhile.
 *
 * Interactive, lines come from the editor (cli_line) one at a time, between which the loop serves
 * the connection; in a script they come from -c or stdin, and after each command the shell waits
 * for its subscriptions and one round trip, so the next command sees its effects.
 */
#include "cli_history.h"
#include "cli_shell.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_BUDGET_MS 250

static bool
names_answered(void *ud)
{
    struct shell *sh = ud;
    return !sh->streams.asking || uv_now(&sh->loop) - sh->names_asked >= NAMES_BUDGET_MS;
}

/* A stream or kv command may have added or removed a stream. A Tab typed ahead should know it
 * once the prompt is back, so the answer is awaited, briefly. */
static void
refresh_names(struct shell *sh)
{
    cli_names_refresh(&sh->streams, sh->connected ? sh->nc : NULL);
    if (!sh->interactive) return;
    uv_update_time(&sh->loop);
    sh->names_asked = uv_now(&sh->loop);
    cli_host_run(names_answered, sh);
}

static int
run_foreground(struct shell *sh, const struct cli_cmd *cmd, int used, int argc, char **argv)
{
    uint64_t start = uv_hrtime();
    fflush(stdout);
    cli_host_begin(&sh->host);
    int rc = cmd->fn(argc - (used - 1), argv + (used - 1), cmd);
    fflush(stdout);
    clearerr(stdout);
    if (strncmp(cmd->name, "stream ", 7) == 0 || strncmp(cmd->name, "kv ", 3) == 0)
        refresh_names(sh);
    uint64_t ns = uv_hrtime() - start;
    /* The terminal echoed ^C where the cursor was: the prompt starts on a line of its own. */
    if (sh->interactive && sh->host.interrupts) fputc('\n', stderr);
    if (sh->interactive && ns >= 500000000u) fprintf(stderr, "(%.2fs)\n", (double)ns / 1e9);
    return rc;
}

/* Runs one command; returns its exit code (-1 from --help counts as 0). */
static int
run_words(struct shell *sh, int argc, char **argv)
{
    int used;
    if (argv[0][0] == ':') return cli_shell_meta(sh, argc, argv);
    if (strcmp(argv[0], "unsub") == 0) return cli_shell_unsub(sh, argc, argv);
    if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0) {
        sh->quit = true;
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *cmd = cli_cmd_lookup(argv, argc, &used);
    if (!cmd || (cmd->flags & CLI_HIDDEN)) {
        cli_error(sh->cmd, "'%s' is not a command (see :help)", argv[0]);
        return CLI_EXIT_USAGE;
    }
    if (cmd->fn == cmd_shell) {
        cli_error(sh->cmd, "already in the shell");
        return CLI_EXIT_USAGE;
    }
    if (cmd->fn == cmd_sub || cmd->fn == cmd_reply) {
        int rc = cli_shell_background(sh, cmd, argc, argv);
        if (rc != CLI_SHELL_FOREGROUND) return rc;
    }
    int rc = run_foreground(sh, cmd, used, argc, argv);
    if (rc == 0 && (cmd->fn == cmd_pub || cmd->fn == cmd_request) && argc > 1 && argv[1][0] != '-')
        cli_sniff_note(&sh->sniff, argv[1]);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int
cli_shell_repeat_prefix(const struct cli_words *w, int after, long long *times)
{
    *times = 1;
    return w->n > after && cli_parse_int(w->v[0], 1, 1000000, times) ? 1 : 0;
}

static int
run_command(struct shell *sh, struct cli_words *w)
{
    long long times;
    int skip = cli_shell_repeat_prefix(w, 1, &times);
    int rc = CLI_EXIT_OK;
    for (long long i = 0; i < times && rc == CLI_EXIT_OK && !sh->quit; i++) {
        /* Commands reorder their argv while parsing, so each run gets a fresh copy. */
        char **v = malloc((size_t)(w->n + 1) * sizeof *v);
        if (!v) return CLI_EXIT_FAIL;
        memcpy(v, w->v + skip, (size_t)(w->n - skip + 1) * sizeof *v);
        rc = run_words(sh, w->n - skip, v);
        free(v);
        /* A script's next command sees this one's effects: subscriptions confirmed, messages
         * that were on their way printed. */
        if (!sh->interactive) {
            int arc = cli_shell_settle(sh);
            if (rc == CLI_EXIT_OK) rc = arc;
        }
    }
    return rc;
}

int
cli_shell_run_text(struct shell *sh, const char *text)
{
    struct cli_words w = {0};
    int rc = CLI_EXIT_OK, got;
    while (rc == CLI_EXIT_OK && !sh->quit && (got = cli_words_next(&text, &w)) != CLI_WORDS_END) {
        if (got == CLI_WORDS_UNTERMINATED) {
            cli_error(sh->cmd, "unterminated quote or backslash");
            rc = CLI_EXIT_USAGE;
        } else if (got == CLI_WORDS_NOMEM) {
            rc = CLI_EXIT_FAIL;
        } else if (w.n > 0) {
            rc = run_command(sh, &w);
        }
    }
    cli_words_free(&w);
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* The interactive loop                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static void
on_tick(uv_timer_t *t)
{
    struct shell *sh = t->data;
    cli_shell_report_dropped(sh);
    if (++sh->ticks % (1000 / CLI_SHELL_WINDOW_MS) != 0) return;
    cli_sniff_tick(&sh->sniff, uv_now(&sh->loop));
    if (sh->view) cli_shell_view_draw(sh);
}

/* Lines run between turns of the loop, not in the editor's callback: a foreground command
 * turns the loop itself. The editor sleeps until the line is done. */
static void
on_line(void *ud, const char *line)
{
    struct shell *sh = ud;
    if (!line) {
        fputc('\n', stdout);
        cli_shell_end(sh);
        return;
    }
    if (!line[strspn(line, " \t")]) return;
    cli_line_remember(&sh->line, line);
    if (sh->hist) cli_history_append(sh->hist_path, line);
    sh->pending = strdup(line);
    cli_line_pause(&sh->line);
}

static void
run_pending(struct shell *sh)
{
    char *line = sh->pending;
    sh->pending = NULL;
    sh->running = true;
    int rc = cli_shell_run_text(sh, line);
    free(line);
    if (rc != 0 && rc != CLI_EXIT_INTERRUPTED) fprintf(stderr, "(exit %d)\n", rc);
    fflush(stdout);
    /* A Ctrl-C to a command that ran a loop of its own (server) waits in the shell's signal
     * pipe: this turn reads it while it still counts as the command's. */
    cli_host_turn(&sh->host, UV_RUN_NOWAIT);
    sh->running = false;
    if (sh->quit)
        cli_shell_end(sh);
    else if (!sh->view)
        cli_line_resume(&sh->line);
}

void
cli_shell_interact(struct shell *sh)
{
    while (!sh->quit) {
        cli_host_turn(&sh->host, UV_RUN_ONCE);
        if (sh->pending) run_pending(sh);
    }
}

static void
on_sigint(uv_signal_t *h, int signum)
{
    struct shell *sh = h->data;
    (void)signum;
    if (!sh->interactive) {
        sh->quit = true;
        sh->async_rc = CLI_EXIT_INTERRUPTED;
        cli_host_interrupt(&sh->host);
        return;
    }
    if (sh->running) {
        cli_host_interrupt(&sh->host);
        return;
    }
    if (sh->view) {
        fputs("\n", stdout);
        cli_shell_view_end(sh);
        return;
    }
    cli_line_cancel(&sh->line);
}

static void
on_sigwinch(uv_signal_t *h, int signum)
{
    struct shell *sh = h->data;
    (void)signum;
    cli_line_resize(&sh->line);
}

static void
add_history(void *ud, const char *line)
{
    cli_line_remember(ud, line);
}

int
cli_shell_start_interactive(struct shell *sh)
{
    sh->line = (struct cli_line){.on_line = on_line, .complete = cli_shell_complete, .ud = sh};
    if (cli_line_start(&sh->line, &sh->loop, "> ") != 0) {
        cli_error(sh->cmd, "cannot start line editing on this terminal");
        return CLI_EXIT_FAIL;
    }
    sh->hist = cli_history_path(sh->hist_path, sizeof sh->hist_path);
    if (sh->hist) cli_history_load(sh->hist_path, 1000, add_history, &sh->line);
    cli_shell_prompt_update(sh);
    return CLI_EXIT_OK;
}

void
cli_shell_init_handles(struct shell *sh)
{
    uv_timer_init(&sh->loop, &sh->tick);
    sh->tick.data = sh;
    uv_timer_start(&sh->tick, on_tick, CLI_SHELL_WINDOW_MS, CLI_SHELL_WINDOW_MS);
    uv_signal_init(&sh->loop, &sh->sigint);
    sh->sigint.data = sh;
    uv_signal_start(&sh->sigint, on_sigint, SIGINT);
    uv_signal_init(&sh->loop, &sh->sigwinch);
    sh->sigwinch.data = sh;
    uv_signal_start(&sh->sigwinch, on_sigwinch, SIGWINCH);
}

static void
close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void
cli_shell_end(struct shell *sh)
{
    sh->quit = true;
    if (sh->view) cli_shell_view_end(sh);
    cli_line_stop(&sh->line);
    close_handle((uv_handle_t *)&sh->tick);
    close_handle((uv_handle_t *)&sh->sigint);
    close_handle((uv_handle_t *)&sh->sigwinch);
    if (sh->nc) {
        /* Drained, so messages already on their way are still printed. */
        if (!sh->connected || np_client_drain(sh->nc, NULL, NULL) != 0)
            np_client_close(sh->nc, NULL, NULL);
        sh->nc = NULL;
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* Scripts                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static void
on_synced(struct np_client *c, int status, void *ud)
{
    struct shell *sh = ud;
    (void)c;
    (void)status;
    sh->busy--;
}

/*
 * What the server routed to us before a round trip (what the last command published) has arrived
 * once the round trip is back. Returns how the confirmations ended.
 */
int
cli_shell_settle(struct shell *sh)
{
    while (sh->busy > 0 && !sh->quit)
        cli_host_turn(&sh->host, UV_RUN_ONCE);
    if (sh->nc && sh->connected && np_client_flush(sh->nc, on_synced, sh) == 0) sh->busy++;
    while (sh->busy > 0 && !sh->quit)
        cli_host_turn(&sh->host, UV_RUN_ONCE);
    int rc = sh->async_rc;
    sh->async_rc = 0;
    return rc;
}

int
cli_shell_run_script(struct shell *sh)
{
    if (sh->commands) return cli_shell_run_text(sh, sh->commands);
    char *line = NULL;
    size_t cap = 0;
    int rc = CLI_EXIT_OK;
    while (rc == CLI_EXIT_OK && !sh->quit && getline(&line, &cap, stdin) >= 0) {
        rc = cli_shell_run_text(sh, line);
    }
    free(line);
    return rc;
}
