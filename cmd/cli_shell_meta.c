/*
 * The shell's own commands, written with a ':' so they cannot clash with the CLI's: :subs,
 * :unsub, :set, :connect, :sniff, :subjects, :top, :stats, :history, :help and :quit.
 */
#include "cli_shell.h"

#include <string.h>

static int
meta_set(struct shell *sh, int argc, char **argv)
{
    static const char *const names[] = {"raw", "pretty", "json", "timestamps"};
    static const enum cli_out_mode modes[] = {CLI_OUT_RAW, CLI_OUT_PRETTY, CLI_OUT_JSON};
    if (argc != 3 || (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0))
        return cli_usage(sh->cmd, "usage: :set raw|pretty|json|timestamps on|off");
    bool on = strcmp(argv[2], "on") == 0;
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(argv[1], names[i]) != 0) continue;
        if (i == 3) {
            sh->timestamps = on;
        } else {
            sh->mode_set = on;
            sh->mode = modes[i];
        }
        return CLI_EXIT_OK;
    }
    return cli_usage(sh->cmd, "unknown setting '%s' (raw, pretty, json, timestamps)", argv[1]);
}

static void
shell_help(void)
{
    printf("Commands (as on the command line, without 'natsctl'; 'help CMD' or :help CMD for "
           "more):\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        if (!(c->flags & CLI_HIDDEN) && c->fn != cmd_shell)
            printf("  %-16s %s%s\n", c->name, c->summary,
                   c->fn == cmd_sub || c->fn == cmd_reply ? " (in the background)" : "");
    }
    printf("  %-16s %s\n", "unsub ID", "stop a background sub or reply (also :unsub)");
    printf("\nMeta commands:\n"
           "  :subs                       list the background commands\n"
           "  :set raw|pretty|json|timestamps on|off\n"
           "  :connect URL                switch servers (background subs follow)\n"
           "  :sniff [FILTER]             count the messages on FILTER (default >)\n"
           "  :subjects [FILTER]          the subjects seen, as a tree, refreshed until a key\n"
           "  :top [N]                    the N busiest subjects\n"
           "  :stats                      the server's figures from its monitoring port\n"
           "  :history  :help [CMD]  :quit\n"
           "A number before a command repeats it: 3 pub x hi\n");
}

static int
meta_help(int argc, char **argv)
{
    int used;
    if (argc < 2) {
        shell_help();
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *c = cli_cmd_lookup(argv + 1, argc - 1, &used);
    if (!c) {
        cli_error(NULL, "no such command '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    cli_cmd_help(c, stdout);
    return CLI_EXIT_OK;
}

int
cli_shell_meta(struct shell *sh, int argc, char **argv)
{
    const char *m = argv[0] + 1;
    if (strcmp(m, "quit") == 0 || strcmp(m, "exit") == 0 || strcmp(m, "q") == 0) {
        sh->quit = true;
        return CLI_EXIT_OK;
    }
    if (strcmp(m, "subs") == 0) return cli_shell_subs(sh);
    if (strcmp(m, "unsub") == 0) return cli_shell_unsub(sh, argc, argv);
    if (strcmp(m, "set") == 0) return meta_set(sh, argc, argv);
    if (strcmp(m, "connect") == 0) return cli_shell_meta_connect(sh, argc, argv);
    if (strcmp(m, "sniff") == 0) return cli_shell_sniff(sh, argc, argv);
    if (strcmp(m, "subjects") == 0) return cli_shell_subjects(sh, argc, argv);
    if (strcmp(m, "top") == 0) return cli_shell_top(sh, argc, argv);
    if (strcmp(m, "stats") == 0) return cli_shell_stats(sh);
    if (strcmp(m, "help") == 0) return meta_help(argc, argv);
    if (strcmp(m, "history") == 0) {
        if (sh->interactive) cli_line_print_history(&sh->line, stdout);
        return CLI_EXIT_OK;
    }
    cli_error(sh->cmd, "unknown meta command '%s' (see :help)", argv[0]);
    return CLI_EXIT_USAGE;
}
