/*
 * The man page, generated from the command table by the hidden `natsctl __man`, so that it covers
 * every command and option the binary has. docs/natsctl.1 is its committed output (make man).
 */
#include "cli.h"

#include <string.h>

/* Writes text with roff's special characters escaped: a leading '.' or '\'', and backslashes. */
static void
roff_text(const char *text)
{
    int line_start = 1;
    for (const char *p = text; *p; p++) {
        if (line_start && (*p == '.' || *p == '\'')) fputs("\\&", stdout);
        if (*p == '\\')
            fputs("\\e", stdout);
        else if (*p == '-')
            fputs("\\-", stdout);
        else
            putchar(*p);
        line_start = *p == '\n';
    }
}

static void
man_option(const struct cli_opt *o)
{
    fputs(".TP\n\\fB", stdout);
    if (o->short_name) printf("\\-%s", o->short_name);
    if (o->short_name && o->long_name) fputs("\\fR, \\fB", stdout);
    if (o->long_name) {
        fputs("\\-\\-", stdout);
        roff_text(o->long_name);
    }
    fputs("\\fR", stdout);
    if (o->arg_name) printf(" \\fI%s\\fR", o->arg_name);
    putchar('\n');
    roff_text(o->help);
    putchar('\n');
}

static void
man_command(const struct cli_cmd *cmd)
{
    printf(".SS \"natsctl %s\"\n", cmd->name);
    fputs(".B natsctl ", stdout);
    roff_text(cmd->name);
    putchar(' ');
    roff_text(cmd->usage);
    fputs("\n.PP\n", stdout);
    roff_text(cmd->summary);
    fputs(".\n", stdout);
    for (size_t i = 0; cli_cmd_alias(cmd, i); i++)
        printf("%s\\fB%s\\fR", i ? ", " : "Also: ", cli_cmd_alias(cmd, i));
    if (cli_cmd_alias(cmd, 0)) fputs(".\n", stdout);
    for (size_t i = 0; cmd->opts && cmd->opts[i].id; i++)
        man_option(&cmd->opts[i]);
    if (cmd->details) {
        fputs(".PP\n.nf\n", stdout);
        roff_text(cmd->details);
        fputs(".fi\n", stdout);
    }
}

int
cmd_man(int argc, char **argv, const struct cli_cmd *self)
{
    (void)argc;
    (void)argv;
    (void)self;
    printf(".TH NATSCTL 1 \"\" \"natsctl %s\" \"User Commands\"\n", NATSCTL_VERSION);
    fputs(".SH NAME\nnatsctl \\- a NATS broker and the tools to talk to it\n"
          ".SH SYNOPSIS\n.B natsctl\n.I command\n[\\fIoptions\\fR] [\\fIarguments\\fR]\n"
          ".SH DESCRIPTION\nnatsctl is one binary: a broker that speaks the NATS client protocol "
          "byte for byte, and the client tools. A binary named \\fBnatsctl\\-\\fIcommand\\fR runs "
          "that command.\n.SH COMMANDS\n",
          stdout);
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (!(cli_commands[i].flags & CLI_HIDDEN)) man_command(&cli_commands[i]);
    }
    fputs(".SH EXIT STATUS\n.TP\n0\nsuccess, or a deliberate stop of a long-running command\n"
          ".TP\n1\nruntime failure\n.TP\n2\nusage error\n.TP\n3\ncannot connect, or "
          "authentication failed\n.TP\n4\ntimed out\n.TP\n5\nno responders\n.TP\n6\nrejected "
          "by the server\n.TP\n130\ninterrupted\n"
          ".SH SEE ALSO\n\\fBnats\\-server\\fR(8), docs/exit\\-codes.md, docs/protocol.md\n",
          stdout);
    return CLI_EXIT_OK;
}
