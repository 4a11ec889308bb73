/*
 * Option tables to getopt_long, help text and number parsing.
 *
 * getopt_long is driven from each command's table so that the table stays the only description of
 * a command's options: help, completion and parsing cannot disagree. Short names longer than one
 * letter (nats-server's "-DV") are matched before getopt sees them, because getopt would read them
 * as bundles of one-letter flags.
 */
#include "cli.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_OPTS 64

void
cli_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs(cmd ? "natsctl " : "natsctl", stderr);
    if (cmd) fputs(cmd->name, stderr);
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int
cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error(cmd, "%s", msg);
    return CLI_EXIT_USAGE;
}

int
cli_bad_value(const struct cli_cmd *cmd, int id, const char *arg)
{
    const char *name = "?";
    for (const struct cli_opt *o = cmd->opts; o && o->id; o++) {
        if (o->id == id) name = o->long_name ? o->long_name : o->short_name;
    }
    return cli_usage(cmd, "invalid value '%s' for --%s", arg, name);
}

static size_t
count_opts(const struct cli_opt *opts)
{
    size_t n = 0;
    while (opts && opts[n].id)
        n++;
    return n;
}

/* Builds the getopt tables; the long option's val is the index into opts plus 256. */
static void
build_getopt(const struct cli_opt *opts, struct option *longs, char *shorts)
{
    size_t nl = 0, ns = 0;
    shorts[ns++] = '+'; /* no permutation: the caller walks positional arguments itself */
    shorts[ns++] = ':';
    shorts[ns++] = 'h';
    for (size_t i = 0; opts && opts[i].id; i++) {
        int has_arg = opts[i].arg_name ? required_argument : no_argument;
        const char *names[2] = {opts[i].long_name, opts[i].alt_name};
        for (int k = 0; k < 2; k++) {
            if (names[k] && nl < MAX_LONG_OPTS - 2)
                longs[nl++] = (struct option){names[k], has_arg, NULL, (int)(256 + i)};
        }
        const char *s = opts[i].short_name;
        if (s && strlen(s) == 1) {
            shorts[ns++] = s[0];
            if (opts[i].arg_name) shorts[ns++] = ':';
        }
    }
    longs[nl++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[nl] = (struct option){NULL, 0, NULL, 0};
    shorts[ns] = '\0';
}

static const struct cli_opt *
find_short(const struct cli_opt *opts, const char *name)
{
    for (size_t i = 0; opts && opts[i].id; i++) {
        if (opts[i].short_name && strcmp(opts[i].short_name, name) == 0) return &opts[i];
    }
    return NULL;
}

/* Handles "-DV"-style multi-letter short options in place; returns 1 when argv[i] was one. */
static int
multi_letter(const struct cli_cmd *cmd, char *arg, cli_opt_fn fn, void *ud, int *rc)
{
    if (arg[0] != '-' || arg[1] == '-' || strlen(arg) < 3) return 0;
    const struct cli_opt *o = find_short(cmd->opts, arg + 1);
    if (!o || o->arg_name) return 0;
    *rc = fn(ud, o->id, NULL);
    return 1;
}

/* Names the offending option for an error message, the way the user spelled it. */
static const char *
opt_display(const struct cli_cmd *cmd, const char *arg)
{
    static char buf[64];
    if (optopt >= 256)
        snprintf(buf, sizeof buf, "--%s", cmd->opts[optopt - 256].long_name);
    else if (optopt > 0)
        snprintf(buf, sizeof buf, "-%c", optopt);
    else
        snprintf(buf, sizeof buf, "%.*s", (int)strcspn(arg, "="), arg);
    return buf;
}

/* Maps a getopt result (a short letter, or 256 + table index) to the option's id. */
static int
option_id(const struct cli_cmd *cmd, int c)
{
    if (c >= 256) return cmd->opts[c - 256].id;
    for (size_t i = 0; cmd->opts[i].id; i++) {
        const char *s = cmd->opts[i].short_name;
        if (s && s[0] == c && s[1] == '\0') return cmd->opts[i].id;
    }
    return 0;
}

int
cli_opt_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_opt_fn fn, void *ud, int *first)
{
    struct option longs[MAX_LONG_OPTS];
    char shorts[2 * MAX_LONG_OPTS + 4];
    char **positional = calloc((size_t)argc + 1, sizeof *positional);
    int npos = 0, rc = 0;

    if (!positional) return CLI_EXIT_FAIL;

    build_getopt(cmd->opts, longs, shorts);
    opterr = 0;
    optind = 1;
    while (optind < argc && rc == 0) {
        char *cur = argv[optind];
        if (strcmp(cur, "--") == 0) {
            for (optind++; optind < argc; optind++)
                positional[npos++] = argv[optind];
            break;
        }
        if (cur[0] != '-' || cur[1] == '\0') {
            positional[npos++] = cur;
            optind++;
            continue;
        }
        if (multi_letter(cmd, cur, fn, ud, &rc)) {
            optind++;
            continue;
        }
        int c = getopt_long(argc, argv, shorts, longs, NULL);
        if (c == -1) {
            positional[npos++] = argv[optind++];
            continue;
        }
        if (c == 'h') {
            cli_cmd_help(cmd, stdout);
            rc = -1;
        } else if (c == '?' || c == ':') {
            const char *what = opt_display(cmd, argv[optind - 1]);
            if (c == ':')
                cli_error(cmd, "option '%s' needs a value", what);
            else
                cli_error(cmd, "unknown option '%s' (see 'natsctl %s --help')", what, cmd->name);
            rc = CLI_EXIT_USAGE;
        } else {
            rc = fn(ud, option_id(cmd, c), optarg);
        }
    }
    if (rc == 0) {
        for (int i = 0; i < npos; i++)
            argv[argc - npos + i] = positional[i];
        *first = argc - npos;
    }
    free(positional);
    return rc;
}

static void
print_opt(const struct cli_opt *o, FILE *out)
{
    char left[96];
    int n = 0;
    if (o->short_name && !o->long_name)
        n = snprintf(left, sizeof left, "-%s", o->short_name);
    else if (o->short_name)
        n = snprintf(left, sizeof left, "-%s, --%s", o->short_name, o->long_name);
    else
        n = snprintf(left, sizeof left, "    --%s", o->long_name);
    if (o->arg_name && n > 0 && (size_t)n < sizeof left)
        snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg_name);
    fprintf(out, "  %-32s %s\n", left, o->help);
}

void
cli_cmd_help(const struct cli_cmd *cmd, FILE *out)
{
    fprintf(out, "Usage: natsctl %s %s\n\n%s.\n", cmd->name, cmd->usage, cmd->summary);
    for (size_t i = 0; cli_cmd_alias(cmd, i); i++)
        fprintf(out, "%s%s", i ? ", " : "Also: natsctl ", cli_cmd_alias(cmd, i));
    if (cli_cmd_alias(cmd, 0)) fputc('\n', out);
    if (count_opts(cmd->opts)) {
        fputs("\nOptions:\n", out);
        for (size_t i = 0; cmd->opts[i].id; i++)
            print_opt(&cmd->opts[i], out);
    }
    fprintf(out, "  %-32s %s\n", "-h, --help", "show this help");
    if (cmd->details) fprintf(out, "\n%s", cmd->details);
    if (cmd->flags & CLI_OWN_EXITS) return;
    fputs("\nExit codes: 0 ok, 1 runtime failure, 2 usage error, 3 cannot connect or auth failed,\n"
          "4 timeout, 5 no responders, 6 rejected by the server, 130 interrupted.\n",
          out);
}

void
cli_overview(FILE *out)
{
    fputs("natsctl " NATSCTL_VERSION ": a NATS broker and the tools to talk to it.\n\n"
          "Usage: natsctl <command> [options] [arguments]\n\nCommands:\n",
          out);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const struct cli_cmd *cmd = &cli_commands[i];
        if (cmd->flags & CLI_HIDDEN) continue;
        fprintf(out, "  %-13s %s", cmd->name, cmd->summary);
        for (size_t k = 0; cli_cmd_alias(cmd, k); k++)
            fprintf(out, "%s%s", k ? ", " : " (also ", cli_cmd_alias(cmd, k));
        fputs(cli_cmd_alias(cmd, 0) ? ")\n" : "\n", out);
    }
    fputs("\nRun 'natsctl help <command>' or 'natsctl <command> --help' for details.\n", out);
}
