/*
 * Live exploration: `:sniff` counts every message on a filter into the subject tree (cli_sniff),
 * `:subjects` shows the tree refreshed in place until a key is pressed, `:top` the busiest
 * subjects. The refresh comes from the shell's tick; the editor sleeps while the view shows.
 */
#include "cli_shell.h"

#include <string.h>

int
cli_shell_sniff(struct shell *sh, int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : ">";
    if (argc > 2) return cli_usage(sh->cmd, "usage: :sniff [FILTER]");
    for (struct job *j = sh->jobs; j; j = j->next) {
        if (j->kind == CLI_SHELL_SNIFF && strcmp(j->subject, filter) == 0) return CLI_EXIT_OK;
    }
    struct job *j = cli_shell_job_new(sh, CLI_SHELL_SNIFF, filter);
    return j ? cli_shell_job_start(sh, j) : CLI_EXIT_FAIL;
}

void
cli_shell_view_draw(struct shell *sh)
{
    if (sh->view_lines) printf("\033[%dA\033[J", sh->view_lines);
    sh->view_lines = cli_sniff_print(&sh->sniff, sh->view_filter, stdout);
    printf("(refreshing every second; press a key to stop)\n");
    sh->view_lines++;
    fflush(stdout);
}

void
cli_shell_view_end(struct shell *sh)
{
    if (!sh->view) return;
    sh->view = false;
    cli_line_resume(&sh->line);
}

static void
on_view_key(void *ud)
{
    cli_shell_view_end(ud);
}

int
cli_shell_subjects(struct shell *sh, int argc, char **argv)
{
    if (argc > 2) return cli_usage(sh->cmd, "usage: :subjects [FILTER]");
    snprintf(sh->view_filter, sizeof sh->view_filter, "%s", argc > 1 ? argv[1] : "");
    if (!sh->interactive) {
        cli_sniff_print(&sh->sniff, sh->view_filter, stdout);
        return CLI_EXIT_OK;
    }
    cli_line_await_key(&sh->line, on_view_key);
    sh->view = true;
    sh->view_lines = 0;
    cli_shell_view_draw(sh);
    return CLI_EXIT_OK;
}

int
cli_shell_top(struct shell *sh, int argc, char **argv)
{
    long long n = 10;
    if (argc > 2 || (argc == 2 && !cli_parse_int(argv[1], 1, 1000, &n)))
        return cli_usage(sh->cmd, "usage: :top [N]");
    cli_sniff_top(&sh->sniff, (size_t)n, stdout);
    return CLI_EXIT_OK;
}
