/*
 * The shell's state and the functions its modules share (docs/shell.md, cmd/cmd_shell.c).
 *
 * cli_shell_repl.c   running lines: words to a meta, background or foreground command; the
 *                    interactive loop and scripts
 * cli_shell_jobs.c   the background commands (sub, reply, :sniff) and the display budget
 * cli_shell_conn.c   the shell's connection, the prompt and :connect
 * cli_shell_meta.c   the ':' commands and unsub
 * cli_shell_view.c   :sniff, :subjects and :top over the subject tree
 * cli_shell_stats.c  :stats from the monitoring port
 * cli_shell_complete.c  Tab
 */
#ifndef CLI_SHELL_H
#define CLI_SHELL_H

#include "cli.h"
#include "cli_embed.h"
#include "cli_env.h"
#include "cli_host.h"
#include "cli_line.h"
#include "cli_names.h"
#include "cli_out.h"
#include "cli_sniff.h"
#include "cli_words.h"
#include "np_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* Interactive display budget: lines per 100 ms before messages are counted but not shown. */
#define CLI_SHELL_SHOW_PER_WINDOW 20
#define CLI_SHELL_WINDOW_MS       100
#define CLI_SHELL_MAX_SUBJECTS    10000

enum cli_shell_job_kind { CLI_SHELL_SUB, CLI_SHELL_REPLY, CLI_SHELL_SNIFF };

struct shell;

/* A background command on the shell's connection. */
struct job {
    struct shell *sh;
    struct job *next;
    int id;
    enum cli_shell_job_kind kind;
    char *subject, *queue, *body; /* body: reply's answer, NULL to echo */
    int64_t sid;
    uint64_t max, received;
    struct cli_out out;
    bool timestamps;
};

struct shell {
    const struct cli_cmd *cmd;
    struct cli_env env;
    uv_loop_t loop;
    struct np_client *nc;
    char *server; /* the current server list */
    bool connected, reconnecting;
    const char *commands, *monitor;
    bool interactive, embedded, embed_up, quit;
    struct cli_embed embed;
    struct cli_line line;
    struct cli_sniff sniff;
    struct cli_names streams; /* for completion */
    uint64_t names_asked;     /* loop time of the last refresh after a command */
    struct job *jobs;
    int next_id;
    enum cli_out_mode mode; /* for new background subs */
    bool mode_set, timestamps;
    /* throttling */
    uint64_t window_start, window_shown, dropped, dropped_told, last_report;
    uv_timer_t tick;
    unsigned ticks;
    uv_signal_t sigint, sigwinch;
    struct cli_host host; /* the loop's lending to foreground commands */
    char *pending;        /* a line entered, to run after this turn of the loop */
    bool running;         /* a line runs: Ctrl-C is its commands' */
    /* :subjects refreshing in place */
    bool view;
    char view_filter[256];
    int view_lines;
    int busy;     /* connects and subscriptions not yet confirmed */
    int async_rc; /* how the last of them ended */
    char hist_path[4096];
    bool hist;
};

/* A status line on stderr, printed above the prompt. */
void cli_shell_notice(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_shell_repl.c */
/* Runs every command of text; returns the first failure's code, or 0. */
int cli_shell_run_text(struct shell *sh, const char *text);
/*
 * A leading number repeats the command ("3 pub x hi"): sets *times and returns the words it took
 * (0 or 1). At least after words must follow it.
 */
int cli_shell_repeat_prefix(const struct cli_words *w, int after, long long *times);
/* Runs the loop until connects and subscriptions are confirmed and one round trip later. */
int cli_shell_settle(struct shell *sh);
void cli_shell_init_handles(struct shell *sh);
int cli_shell_start_interactive(struct shell *sh);
/* Turns the loop and runs the lines entered, until the shell ends. */
void cli_shell_interact(struct shell *sh);
int cli_shell_run_script(struct shell *sh);
/* Stops everything; the loop then runs out of handles once the connection has drained. */
void cli_shell_end(struct shell *sh);

/* cli_shell_jobs.c */
struct job *cli_shell_job_new(struct shell *sh, enum cli_shell_job_kind kind, const char *subject);
/* Subscribes j and adds it to the table; frees j and prints why when it cannot. */
int cli_shell_job_start(struct shell *sh, struct job *j);
/* Subscribes j on the current connection (or on the next one: the client sends it then). */
int cli_shell_job_subscribe(struct job *j);
void cli_shell_job_stop(struct job *j, const char *why);
void cli_shell_job_free(struct job *j);
/*
 * sub SUBJECT... and reply SUBJECT [BODY] with their options, in the background. Returns an exit
 * code, or CLI_SHELL_FOREGROUND, having started nothing, when an option needs a connection of the
 * command's own (--stream, --wait, -s, ...).
 */
int cli_shell_background(struct shell *sh, const struct cli_cmd *cmd, int argc, char **argv);
#define CLI_SHELL_FOREGROUND (-2)
int cli_shell_unsub(struct shell *sh, int argc, char **argv);
int cli_shell_subs(struct shell *sh);
/* Once a second: how many messages the display budget left out. */
void cli_shell_report_dropped(struct shell *sh);

/* cli_shell_conn.c */
void cli_shell_prompt_update(struct shell *sh);
/* Connects to servers; the jobs subscribe again on the new connection once it is up. */
int cli_shell_connect(struct shell *sh, const char *servers);
int cli_shell_meta_connect(struct shell *sh, int argc, char **argv);

/* cli_shell_meta.c */
int cli_shell_meta(struct shell *sh, int argc, char **argv);

/* cli_shell_view.c */
int cli_shell_sniff(struct shell *sh, int argc, char **argv);
int cli_shell_subjects(struct shell *sh, int argc, char **argv);
int cli_shell_top(struct shell *sh, int argc, char **argv);
/* Redraws :subjects in place (once a second while it shows). */
void cli_shell_view_draw(struct shell *sh);
/* Leaves :subjects and gives the terminal back to the editor. */
void cli_shell_view_end(struct shell *sh);

/* cli_shell_stats.c */
int cli_shell_stats(struct shell *sh);

/* cli_shell_complete.c */
/* The completer of cli_line: ud is the shell. */
void cli_shell_complete(void *ud, const char *line, size_t word, struct cli_cands *c);

#endif
