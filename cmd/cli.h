/*
 * The natsctl command layer: the command table, option tables and the helpers every subcommand
 * shares.
 *
 * Adding a subcommand: write cmd/cmd_<name>.c with an option table and an entry point
 * `int cmd_<name>(int argc, char **argv, const struct cli_cmd *self)`, declare it below, add one row
 * to cli_commands[] in cmd/commands.c (kept sorted by name), add tests/bats/NN-<name>.bats, and run
 * `make completions` once completions exist. Dispatch, help and completion all read the table.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes: the contract in docs/exit-codes.md. Only main() exits. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_CONNECT = 3,
    CLI_EXIT_TIMEOUT = 4,
    CLI_EXIT_NO_RESPONDERS = 5,
    CLI_EXIT_REJECTED = 6,
    CLI_EXIT_INTERRUPTED = 130,
};

/* One option of a command. `id` is what the parse callback receives. */
struct cli_opt {
    int id;
    const char *short_name; /* without the dash: "p", "DV"; NULL when none */
    const char *long_name;  /* without the dashes: "port" */
    const char *alt_name;   /* another long spelling ("ports-file-dir"), or NULL */
    const char *arg_name;   /* NULL for a flag without a value */
    const char *help;
    const char *const *values; /* the values the argument may take (completion), or NULL */
};

struct cli_cmd;
typedef int (*cli_cmd_fn)(int argc, char **argv, const struct cli_cmd *self);

/* Command flags. */
#define CLI_HIDDEN       0x1 /* left out of help listings and completion */
#define CLI_LONG_RUNNING 0x2 /* SIGINT/SIGTERM mean a clean stop with exit 0 */
#define CLI_OWN_EXITS    0x4 /* exit codes of its own (in its details), not natsctl's table */

struct cli_cmd {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;        /* one line, lowercase, no full stop */
    const char *usage;          /* synopsis after "natsctl <name> " */
    const struct cli_opt *opts; /* terminated by an entry with id 0 */
    const char *details;        /* paragraphs and examples shown by --help */
    unsigned flags;
    const char *const *args; /* candidate positional arguments (completion), or NULL */
};

extern const struct cli_cmd cli_commands[];
extern const size_t cli_ncommands;

/*
 * Another name for a command (natscli's short and long names: req for request, publish for pub).
 * Dispatch, help and completion accept it; messages use the command's own name.
 */
struct cli_alias {
    const char *alias;
    const char *name;
};
extern const struct cli_alias cli_aliases[];
extern const size_t cli_naliases;

/* The command called name or one of its aliases, or NULL. */
const struct cli_cmd *cli_cmd_find(const char *name);
/* The i-th alias of cmd (from 0), or NULL after the last. */
const char *cli_cmd_alias(const struct cli_cmd *cmd, size_t i);
/*
 * The command that words[0..n) name: a two-word row ("server check") when words[1] completes one,
 * else the one-word command or alias. *used is set to the number of words taken (1 or 2).
 */
const struct cli_cmd *cli_cmd_lookup(char **words, int n, int *used);

/* Receives each parsed option; returns 0 or a CLI_EXIT_* code to stop parsing. */
typedef int (*cli_opt_fn)(void *ud, int id, const char *arg);

/*
 * Parses argv[1..] against the command's option table (the usual getopt_long rules: `--` ends
 * options, `--name=value` and `--name value`, bundled short flags). Options may come before or after
 * positional arguments. Positional arguments are moved to the front: on return argv[first..argc)
 * holds them, with *first set. `-h`/`--help` prints the command help and returns -1 (the caller
 * returns CLI_EXIT_OK). Returns 0, -1, or CLI_EXIT_USAGE after printing a one-line error.
 */
int cli_opt_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_opt_fn fn, void *ud,
                  int *first);

/* Prints the full help of a command (usage, summary, options, details, exit codes). */
void cli_cmd_help(const struct cli_cmd *cmd, FILE *out);
/* Prints the overview: every visible command with its summary. */
void cli_overview(FILE *out);

/* Prints "natsctl <cmd>: <message>" on stderr; cmd may be NULL. */
void cli_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints a one-line usage error like cli_error() and returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports an option value that did not parse ("invalid value 'x' for --count"); returns 2. */
int cli_bad_value(const struct cli_cmd *cmd, int id, const char *arg);

/* Number parsing for option values; return false on anything but a clean number in range. */
bool cli_parse_int(const char *s, long long min, long long max, long long *out);
/* Sizes as np_size_parse() reads them (1k=1000, 1kb/1ki/1kib=1024 ... 1t, 1tb), not negative. */
bool cli_parse_size(const char *s, long long *out);
/*
 * Parses a duration: Go syntax as np_duration_parse() reads it ("250ms", "1.5s", "1m30s", "2h")
 * or a plain number of seconds ("2", "0.5"). No sign. Rounds up to whole milliseconds. Returns
 * false on anything else or overflow; "0" is valid and gives 0.
 */
bool cli_parse_duration(const char *s, uint64_t *ms);

int cmd_complete(int argc, char **argv, const struct cli_cmd *self);
int cmd_completion(int argc, char **argv, const struct cli_cmd *self);
int cmd_man(int argc, char **argv, const struct cli_cmd *self);
int cmd_bench(int argc, char **argv, const struct cli_cmd *self);
int cmd_pub(int argc, char **argv, const struct cli_cmd *self);
int cmd_request(int argc, char **argv, const struct cli_cmd *self);
int cmd_reply(int argc, char **argv, const struct cli_cmd *self);
int cmd_sub(int argc, char **argv, const struct cli_cmd *self);
int cmd_help(int argc, char **argv, const struct cli_cmd *self);
int cmd_server(int argc, char **argv, const struct cli_cmd *self);
int cmd_shell(int argc, char **argv, const struct cli_cmd *self);
int cmd_version(int argc, char **argv, const struct cli_cmd *self);
int cmd_context(int argc, char **argv, const struct cli_cmd *self);
int cmd_rtt(int argc, char **argv, const struct cli_cmd *self);
int cmd_server_check(int argc, char **argv, const struct cli_cmd *self);
int cmd_consumer(int argc, char **argv, const struct cli_cmd *self);
int cmd_consumer_add(int argc, char **argv, const struct cli_cmd *self);
int cmd_consumer_info(int argc, char **argv, const struct cli_cmd *self);
int cmd_consumer_ls(int argc, char **argv, const struct cli_cmd *self);
int cmd_consumer_next(int argc, char **argv, const struct cli_cmd *self);
int cmd_consumer_rm(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_add(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_del(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_get(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_history(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_watch(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_ls(int argc, char **argv, const struct cli_cmd *self);
int cmd_kv_put(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_add(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_edit(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_get(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_info(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_ls(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_purge(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_report(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_rm(int argc, char **argv, const struct cli_cmd *self);
int cmd_stream_view(int argc, char **argv, const struct cli_cmd *self);

#endif
