/*
 * natsctl's entry point: picks a command from the table and runs it.
 *
 * Resolution order (git's model): a binary called natsctl-<cmd> runs <cmd>; otherwise argv[1] names
 * the command, with --help/-h/--version rewritten to the help and version commands. main() is the
 * only place that exits, and it checks that stdout was written, so a full disk is an error while a
 * reader that went away (EPIPE, as with `| head`) is not.
 */
#include "cli.h"
#include "cli_env.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

static const char *
command_name(char *argv0)
{
    const char *base = basename(argv0);
    return strncmp(base, "natsctl-", 8) == 0 && base[8] ? base + 8 : NULL;
}

static int
finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) {
            cli_error(NULL, "cannot write output: %s", strerror(errno));
            if (rc == CLI_EXIT_OK) rc = CLI_EXIT_FAIL;
        }
    }
    return rc;
}

/* Levenshtein distance, capped: names longer than the buffer are simply "far". */
static size_t
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[33];
    if (la > 32 || lb > 32) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void
unknown_command(const char *name)
{
    const struct cli_cmd *best = NULL;
    size_t best_d = 3; /* suggest only names within two edits */
    for (size_t i = 0; i < cli_ncommands; i++) {
        if ((cli_commands[i].flags & CLI_HIDDEN) || strchr(cli_commands[i].name, ' ')) continue;
        size_t d = distance(name, cli_commands[i].name);
        if (d < best_d) {
            best_d = d;
            best = &cli_commands[i];
        }
    }
    if (best)
        cli_error(NULL, "'%s' is not a command; did you mean '%s'?", name, best->name);
    else
        cli_error(NULL, "'%s' is not a command (see 'natsctl --help')", name);
}

/* The global row argv[i] names ("-s", "--server", "--server=URL"), or NULL. */
static const struct cli_opt *
global_opt(const char *arg)
{
    for (const struct cli_opt *o = cli_global_opts; o->id; o++) {
        size_t n = o->long_name ? strlen(o->long_name) : 0;
        if (o->short_name && arg[1] == o->short_name[0] && arg[2] == '\0' && arg[0] == '-')
            return o;
        if (n && strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, o->long_name, n) == 0 &&
            (arg[2 + n] == '\0' || arg[2 + n] == '='))
            return o;
    }
    return NULL;
}

/*
 * Global options may come before the command (`natsctl -s URL pub x`, cli.md 11.1): they are
 * moved after the command word, where the command's own parser reads them. Returns the index of
 * the command word in the reordered argv, or 0 when there is none.
 */
static int
hoist_globals(int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const struct cli_opt *o = global_opt(argv[i]);
        if (!o) return 0;
        i += o->arg_name && !strchr(argv[i], '=') ? 2 : 1;
    }
    if (i >= argc) return 0;
    /* A two-word command ("server check") moves as a whole. */
    char *words[2] = {argv[i], i + 1 < argc ? argv[i + 1] : NULL};
    int n = 1;
    cli_cmd_lookup(words, words[1] ? 2 : 1, &n);
    memmove(argv + 1 + n, argv + 1, (size_t)(i - 1) * sizeof *argv);
    argv[1] = words[0];
    if (n == 2) argv[2] = words[1];
    return 1;
}

/* Runs the command name names; argv[1], when it completes a two-word command, is taken too. */
static int
run(const char *name, int argc, char **argv)
{
    char *words[2] = {(char *)name, argc > 1 ? argv[1] : NULL};
    int used = 1;
    const struct cli_cmd *cmd = cli_cmd_lookup(words, argc > 1 ? 2 : 1, &used);
    if (!cmd) {
        unknown_command(name);
        return CLI_EXIT_USAGE;
    }
    return cmd->fn(argc - (used - 1), argv + (used - 1), cmd);
}

int
main(int argc, char **argv)
{
    /* A closed pipe must show up as EPIPE from write(), not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    const char *name = command_name(argv[0]);
    if (name) return finish(run(name, argc, argv));
    if (argc < 2) {
        cli_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (argv[1][0] == '-' && global_opt(argv[1]) && !hoist_globals(argc, argv)) {
        cli_error(NULL,
                  "options before the command need a command after them (see 'natsctl --help')");
        return CLI_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) name = "help";
    if (strcmp(name, "--version") == 0) name = "version";
    return finish(run(name, argc - 1, argv + 1));
}

int
cmd_help(int argc, char **argv, const struct cli_cmd *self)
{
    if (argc < 2) {
        cli_overview(stdout);
        return CLI_EXIT_OK;
    }
    int used;
    const struct cli_cmd *cmd = cli_cmd_lookup(argv + 1, argc - 1, &used);
    if (!cmd) {
        cli_error(self, "no such command '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    cli_cmd_help(cmd, stdout);
    return CLI_EXIT_OK;
}

int
cmd_version(int argc, char **argv, const struct cli_cmd *self)
{
    (void)argc;
    (void)argv;
    (void)self;
    printf("natsctl %s\n", NATSCTL_VERSION);
    return CLI_EXIT_OK;
}
