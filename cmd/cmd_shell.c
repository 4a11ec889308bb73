/*
 * natsctl shell: a REPL over one connection, in the manner of redis-cli (cli.md 11.5).
 *
 * Lines are split like sh words (cli_words) and dispatched through the command table, so every
 * command takes the same options as on the command line. Commands that own an event loop (pub,
 * request, stream ..., bench) run in the foreground on their own loop and connection, pointed at
 * the shell's server through NATS_URL. `sub` and `reply` run in the background on the shell's
 * connection and loop, each with an id; `:sniff` feeds the subject tree behind :subjects and :top.
 *
 * Interactive (stdin a terminal): libedit through cli_line, output throttled, history kept.
 * Otherwise (a script on stdin, or -c): no prompt, no history, the first failure ends the shell
 * with its exit code, and only data goes to stdout.
 */
#include "cli.h"
#include "cli_conn.h"
#include "cli_embed.h"
#include "cli_env.h"
#include "cli_history.h"
#include "cli_http.h"
#include "cli_line.h"
#include "cli_names.h"
#include "cli_out.h"
#include "cli_sniff.h"
#include "cli_words.h"
#include "np_url.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Interactive display budget: lines per 100 ms before messages are counted but not shown. */
#define SHOW_PER_WINDOW 20
#define WINDOW_MS       100
#define REPORT_MS       1000
#define STATS_BUDGET_MS 2000
#define MAX_SUBJECTS    10000

enum job_kind { JOB_SUB, JOB_REPLY, JOB_SNIFF };

struct shell;

struct job {
    struct shell *sh;
    struct job *next;
    int id;
    enum job_kind kind;
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
    struct job *jobs;
    int next_id;
    enum cli_out_mode mode; /* for new background subs */
    bool mode_set, timestamps;
    /* throttling */
    uint64_t window_start, window_shown, dropped, dropped_told, last_report;
    uv_timer_t tick;
    unsigned ticks;
    uv_signal_t sigint, sigwinch;
    uv_idle_t settle; /* with settle_check: see swallow_sigint */
    uv_check_t settle_check;
    int swallow_sigint; /* loop turns left in which a Ctrl-C was a foreground command's */
    /* :subjects refreshing in place */
    bool view;
    char view_filter[256];
    int view_lines;
    int busy;     /* connects and subscriptions not yet confirmed */
    int async_rc; /* how the last of them ended */
    char hist_path[4096];
    bool hist;
};

static void notice(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A status line on stderr, printed above the prompt. */
static void
notice(struct shell *sh, const char *fmt, ...)
{
    va_list ap;
    cli_line_hide(&sh->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_line_show(&sh->line);
}

static void
prompt_update(struct shell *sh)
{
    char p[600];
    char *shown = cli_redact_servers(sh->server);
    snprintf(p, sizeof p, "%s%s> ", shown ? shown : "natsctl",
             !sh->nc            ? " (not connected)"
             : sh->reconnecting ? " (reconnecting)"
             : !sh->connected   ? " (connecting)"
                                : "");
    free(shown);
    if (sh->interactive) cli_line_set_prompt(&sh->line, p);
}

/* ---------------------------------------------------------------------------------------------- */
/* Background jobs                                                                                 */
/* ---------------------------------------------------------------------------------------------- */

/* True when the display budget allows one more message now; counts the ones it refuses. */
static bool
may_show(struct shell *sh)
{
    if (!sh->interactive) return true;
    uint64_t now = uv_now(&sh->loop);
    if (now - sh->window_start >= WINDOW_MS) {
        sh->window_start = now;
        sh->window_shown = 0;
    }
    if (sh->window_shown >= SHOW_PER_WINDOW) {
        sh->dropped++;
        return false;
    }
    sh->window_shown++;
    return true;
}

static void job_stop(struct job *j, const char *why);

static void
show_msg(struct job *j, const struct np_msg *m)
{
    struct shell *sh = j->sh;
    char stamp[40];
    struct cli_out_msg om = {.subject = m->subject,
                             .reply = m->reply,
                             .headers = m->headers,
                             .data = m->data,
                             .count = j->received};
    clock_gettime(CLOCK_REALTIME, &om.ts);
    if (j->timestamps || sh->timestamps) {
        cli_fmt_stamp_micro(&om.ts, stamp, sizeof stamp);
        om.stamp = stamp;
    }
    cli_line_hide(&sh->line);
    int rc = cli_out_msg(&j->out, &om);
    cli_line_show(&sh->line);
    if (rc != 0) sh->quit = true; /* stdout is gone: nothing left to show anything on */
}

static void
on_job_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct job *j = ud;
    struct shell *sh = j->sh;
    j->received++;
    if (j->kind == JOB_SNIFF) {
        cli_sniff_add(&sh->sniff, m->subject.ptr, m->subject.len, m->data.len);
        return;
    }
    if (sh->sniff.nodes < MAX_SUBJECTS) {
        char subj[512];
        snprintf(subj, sizeof subj, "%.*s", (int)m->subject.len, m->subject.ptr);
        cli_sniff_note(&sh->sniff, subj);
    }
    if (j->kind == JOB_REPLY) {
        if (m->reply.len) {
            char reply[512];
            snprintf(reply, sizeof reply, "%.*s", (int)m->reply.len, m->reply.ptr);
            struct np_str body = j->body ? (struct np_str){j->body, strlen(j->body)} : m->data;
            np_client_publish(c, reply, NULL, (struct np_str){0}, body);
        }
    } else if (may_show(sh)) {
        show_msg(j, m);
    }
    if (j->max && j->received >= j->max) job_stop(j, "done");
}

static void
job_free(struct job *j)
{
    cli_out_release(&j->out);
    free(j->subject);
    free(j->queue);
    free(j->body);
    free(j);
}

static const char *const kind_names[] = {"sub", "reply", "sniff"};

static void
job_stop(struct job *j, const char *why)
{
    struct shell *sh = j->sh;
    for (struct job **at = &sh->jobs; *at; at = &(*at)->next) {
        if (*at != j) continue;
        *at = j->next;
        if (sh->nc && j->sid > 0) np_client_unsubscribe(sh->nc, j->sid);
        if (sh->interactive)
            notice(sh, "[%d] %s %s: %s after %llu messages", j->id, kind_names[j->kind], j->subject,
                   why, (unsigned long long)j->received);
        job_free(j);
        return;
    }
}

static void
on_job_confirmed(struct np_client *c, int status, void *ud)
{
    struct job *j = ud;
    struct shell *sh = j->sh;
    (void)c;
    sh->busy--;
    if (status != 0) {
        notice(sh, "(error) %s %s: %s", kind_names[j->kind], j->subject,
               np_client_strerror(status));
        sh->async_rc = cli_exit_for(status);
        return;
    }
    if (sh->interactive)
        notice(sh, "[%d] %s %s%s%s", j->id, kind_names[j->kind], j->subject,
               j->queue ? " in queue group " : "", j->queue ? j->queue : "");
}

/* Subscribes j on the current connection (or on the next one: the client sends it then). */
static int
job_subscribe(struct job *j)
{
    struct shell *sh = j->sh;
    j->sid = np_client_subscribe(sh->nc, j->subject, j->queue, 0, on_job_msg, j);
    if (j->sid < 0) return (int)j->sid;
    if (np_client_flush(sh->nc, on_job_confirmed, j) == 0) sh->busy++;
    return 0;
}

static struct job *
job_new(struct shell *sh, enum job_kind kind, const char *subject)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j || !(j->subject = strdup(subject))) {
        free(j);
        return NULL;
    }
    j->sh = sh;
    j->kind = kind;
    j->id = ++sh->next_id;
    enum cli_out_mode mode = sh->mode_set ? sh->mode : cli_out_pick(false, false, false, 1);
    cli_out_init(&j->out, stdout, mode);
    return j;
}

static int
job_start(struct shell *sh, struct job *j)
{
    if (!sh->nc) {
        cli_error(sh->cmd, "not connected (see :connect)");
        job_free(j);
        return CLI_EXIT_CONNECT;
    }
    int rc = job_subscribe(j);
    if (rc != 0) {
        cli_error(sh->cmd, "%s %s: %s", kind_names[j->kind], j->subject, np_client_strerror(rc));
        job_free(j);
        return cli_exit_for(rc);
    }
    struct job **at = &sh->jobs;
    while (*at)
        at = &(*at)->next;
    *at = j;
    return CLI_EXIT_OK;
}

/* The long name of the option row id in cmd's table. */
static const char *
opt_name(const struct cli_cmd *cmd, int id)
{
    for (const struct cli_opt *o = cmd->opts; o && o->id; o++) {
        if (o->id == id) return o->long_name;
    }
    return "";
}

struct bg_opts {
    struct shell *sh;
    const struct cli_cmd *cmd;
    const char *queue;
    uint64_t max;
    int mode; /* -1 the shell's, else an enum cli_out_mode */
    bool timestamps, headers_only;
};

/* The options of sub and reply that make sense on the shell's connection, read from their rows. */
static int
on_bg_opt(void *ud, int id, const char *arg)
{
    struct bg_opts *o = ud;
    const char *name = opt_name(o->cmd, id);
    long long n;
    if (strcmp(name, "queue") == 0) {
        o->queue = arg;
    } else if (strcmp(name, "count") == 0) {
        if (!cli_parse_int(arg, 1, INT64_MAX, &n)) return cli_bad_value(o->cmd, id, arg);
        o->max = (uint64_t)n;
    } else if (strcmp(name, "raw") == 0 || strcmp(name, "pretty") == 0 ||
               strcmp(name, "json") == 0 || strcmp(name, "subjects-only") == 0) {
        o->mode = name[0] == 'r'   ? CLI_OUT_RAW
                  : name[0] == 'p' ? CLI_OUT_PRETTY
                  : name[0] == 'j' ? CLI_OUT_JSON
                                   : CLI_OUT_SUBJECTS;
    } else if (strcmp(name, "headers-only") == 0) {
        o->mode = CLI_OUT_PRETTY;
        o->headers_only = true;
    } else if (strcmp(name, "timestamp") == 0) {
        o->timestamps = true;
    } else if (strcmp(name, "echo") != 0) {
        return cli_usage(o->cmd,
                         "--%s is not available in the shell's background %s (run it as "
                         "'natsctl %s' outside the shell)",
                         name, o->cmd->name, o->cmd->name);
    }
    return 0;
}

/* sub SUBJECT... [options] and reply SUBJECT [BODY] [options], in the background. */
static int
run_background(struct shell *sh, const struct cli_cmd *cmd, int argc, char **argv)
{
    struct bg_opts o = {.sh = sh, .cmd = cmd, .mode = -1};
    int first = 0;
    bool reply = cmd->fn == cmd_reply;
    int rc = cli_opt_parse(cmd, argc, argv, on_bg_opt, &o, &first);
    if (rc != 0) return rc < 0 ? CLI_EXIT_OK : rc;
    int nargs = argc - first;
    if (nargs < 1 || (reply && nargs > 2))
        return cli_usage(cmd, "usage: %s %s", cmd->name, reply ? "SUBJECT [BODY]" : "SUBJECT...");
    for (int i = 0; i < (reply ? 1 : nargs); i++) {
        struct job *j = job_new(sh, reply ? JOB_REPLY : JOB_SUB, argv[first + i]);
        if (!j) return CLI_EXIT_FAIL;
        const char *queue = o.queue ? o.queue : reply ? "natsctl-reply" : NULL;
        j->queue = queue ? strdup(queue) : NULL;
        j->body = reply && nargs == 2 ? strdup(argv[first + 1]) : NULL;
        j->max = o.max;
        j->timestamps = o.timestamps;
        if (o.mode >= 0) j->out.mode = (enum cli_out_mode)o.mode;
        j->out.headers_only = o.headers_only;
        if ((rc = job_start(sh, j)) != 0) return rc;
    }
    return CLI_EXIT_OK;
}

static int
meta_unsub(struct shell *sh, int argc, char **argv)
{
    if (argc != 2) return cli_usage(sh->cmd, "usage: unsub ID|SUBJECT|all");
    bool all = strcmp(argv[1], "all") == 0, found = false;
    for (struct job *j = sh->jobs, *next; j; j = next) {
        char id[16];
        next = j->next;
        snprintf(id, sizeof id, "%d", j->id);
        if (all || strcmp(argv[1], id) == 0 || strcmp(argv[1], j->subject) == 0) {
            job_stop(j, "stopped");
            found = true;
        }
    }
    if (!found && !all) {
        cli_error(sh->cmd, "no background command '%s' (see :subs)", argv[1]);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int
meta_subs(struct shell *sh)
{
    printf("%-4s %-6s %-40s %-16s %10s\n", "ID", "KIND", "SUBJECT", "QUEUE", "MSGS");
    for (struct job *j = sh->jobs; j; j = j->next)
        printf("%-4d %-6s %-40s %-16s %10llu\n", j->id, kind_names[j->kind], j->subject,
               j->queue ? j->queue : "-", (unsigned long long)j->received);
    if (sh->dropped)
        printf("(%llu messages not shown since the shell started)\n",
               (unsigned long long)sh->dropped);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* The connection                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

static void
on_event(struct np_client *c, enum np_client_event ev, int status, void *ud)
{
    struct shell *sh = ud;
    if (c != sh->nc) return;
    switch (ev) {
    case NP_CLIENT_DISCONNECTED:
        sh->reconnecting = status == 0;
        notice(sh, "(disconnected%s)", status == 0 ? ", reconnecting" : "");
        break;
    case NP_CLIENT_RECONNECTED:
        sh->reconnecting = false;
        notice(sh, "(reconnected)");
        break;
    case NP_CLIENT_SERVER_ERROR:
        notice(sh, "(error) server: %s", np_client_last_error(c));
        break;
    case NP_CLIENT_CONNECTED:
        break;
    }
    prompt_update(sh);
}

static void
on_connect(struct np_client *c, int status, void *ud)
{
    struct shell *sh = ud;
    sh->busy--;
    if (c != sh->nc) return;
    if (status != 0) {
        char why[3072];
        struct cli_env e = sh->env;
        e.server = sh->server;
        cli_conn_why(&e, c, status, why, sizeof why);
        notice(sh, "(error) cannot connect to %s", why);
        sh->async_rc = CLI_EXIT_CONNECT;
        np_client_close(c, NULL, NULL);
        sh->nc = NULL;
    } else {
        sh->connected = true;
        cli_names_refresh(&sh->streams, sh->nc);
    }
    prompt_update(sh);
}

/* Connects to servers; the jobs subscribe again on the new connection once it is up. */
static int
connect_to(struct shell *sh, const char *servers)
{
    char *copy = strdup(servers);
    if (!copy) return CLI_EXIT_FAIL;
    if (sh->nc) np_client_close(sh->nc, NULL, NULL);
    sh->nc = NULL;
    free(sh->server);
    sh->server = copy;
    sh->connected = sh->reconnecting = false;
    /* Foreground commands connect on their own: they find the shell's server and TLS files here. */
    setenv("NATS_URL", sh->server, 1);
    const char *const tls[][2] = {{"NATS_CA", sh->env.tls_ca},
                                  {"NATS_CERT", sh->env.tls_cert},
                                  {"NATS_KEY", sh->env.tls_key}};
    for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
        if (tls[i][1]) setenv(tls[i][0], tls[i][1], 1);
    struct np_client_opts o = cli_conn_client_opts(&sh->env);
    o.servers = sh->server;
    o.max_reconnects = -1;
    o.on_event = on_event;
    o.ud = sh;
    int rc = np_client_new(&sh->nc, &sh->loop, &o);
    if (rc == 0) rc = np_client_connect(sh->nc, on_connect, sh);
    if (rc != 0) {
        if (sh->nc) np_client_close(sh->nc, NULL, NULL);
        sh->nc = NULL;
        cli_error(sh->cmd, "%s", np_client_strerror(rc));
        return cli_exit_for(rc);
    }
    sh->busy++;
    for (struct job *j = sh->jobs; j; j = j->next)
        job_subscribe(j);
    prompt_update(sh);
    return CLI_EXIT_OK;
}

static int
meta_connect(struct shell *sh, int argc, char **argv)
{
    if (argc != 2) return cli_usage(sh->cmd, "usage: :connect URL[,URL...]");
    char *shown = cli_redact_servers(argv[1]);
    for (const char *p = argv[1]; *p;) {
        char one[1024];
        size_t n = strcspn(p, ",");
        struct np_url u;
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        int rc = np_url_parse(&u, one);
        if (rc != 0) {
            cli_error(sh->cmd, "invalid server URL '%s': %s", shown ? shown : "", np_strerror(rc));
            free(shown);
            return CLI_EXIT_USAGE;
        }
        np_url_release(&u);
        p += n + (p[n] == ',');
    }
    free(shown);
    return connect_to(sh, argv[1]);
}

/* ---------------------------------------------------------------------------------------------- */
/* Meta commands                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

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

static int
meta_sniff(struct shell *sh, int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : ">";
    if (argc > 2) return cli_usage(sh->cmd, "usage: :sniff [FILTER]");
    for (struct job *j = sh->jobs; j; j = j->next) {
        if (j->kind == JOB_SNIFF && strcmp(j->subject, filter) == 0) return CLI_EXIT_OK;
    }
    struct job *j = job_new(sh, JOB_SNIFF, filter);
    return j ? job_start(sh, j) : CLI_EXIT_FAIL;
}

static void
draw_view(struct shell *sh)
{
    if (sh->view_lines) printf("\033[%dA\033[J", sh->view_lines);
    sh->view_lines = cli_sniff_print(&sh->sniff, sh->view_filter, stdout);
    printf("(refreshing every second; press a key to stop)\n");
    sh->view_lines++;
    fflush(stdout);
}

static void
view_end(struct shell *sh)
{
    if (!sh->view) return;
    sh->view = false;
    cli_line_resume(&sh->line);
}

static void
on_view_key(void *ud)
{
    view_end(ud);
}

static int
meta_subjects(struct shell *sh, int argc, char **argv)
{
    if (argc > 2) return cli_usage(sh->cmd, "usage: :subjects [FILTER]");
    snprintf(sh->view_filter, sizeof sh->view_filter, "%s", argc > 1 ? argv[1] : "");
    if (!sh->interactive) {
        cli_sniff_print(&sh->sniff, sh->view_filter, stdout);
        return CLI_EXIT_OK;
    }
    /* Refreshed in place by the tick until a key is pressed; the editor sleeps meanwhile. */
    cli_line_await_key(&sh->line, on_view_key);
    sh->view = true;
    sh->view_lines = 0;
    draw_view(sh);
    return CLI_EXIT_OK;
}

static int
meta_top(struct shell *sh, int argc, char **argv)
{
    long long n = 10;
    if (argc > 2 || (argc == 2 && !cli_parse_int(argv[1], 1, 1000, &n)))
        return cli_usage(sh->cmd, "usage: :top [N]");
    cli_sniff_top(&sh->sniff, (size_t)n, stdout);
    return CLI_EXIT_OK;
}

/* http://HOST:8222 for the current server's host, or --monitor. */
static void
monitor_url(struct shell *sh, char *out, size_t cap)
{
    struct np_url u;
    char first[1024];
    if (sh->monitor) {
        snprintf(out, cap, "%s", sh->monitor);
        return;
    }
    snprintf(first, sizeof first, "%.*s", (int)strcspn(sh->server, ","), sh->server);
    if (np_url_parse(&u, first) != 0) {
        snprintf(out, cap, "http://127.0.0.1:8222");
        return;
    }
    snprintf(out, cap, strchr(u.host, ':') ? "http://[%s]:8222" : "http://%s:8222", u.host);
    np_url_release(&u);
}

static int
meta_stats(struct shell *sh)
{
    static const char *const fields[] = {"connections",   "subscriptions", "in_msgs",
                                         "out_msgs",      "in_bytes",      "out_bytes",
                                         "slow_consumers"};
    char base[600], url[700], err[256];
    int status;
    char *body;
    monitor_url(sh, base, sizeof base);
    size_t n = strlen(base);
    snprintf(url, sizeof url, "%.*s/varz", (int)(n && base[n - 1] == '/' ? n - 1 : n), base);
    if (cli_http_get(url, STATS_BUDGET_MS, &status, &body, err, sizeof err) != 0) {
        cli_error(sh->cmd, ":stats: %s: %s", url, err);
        return CLI_EXIT_CONNECT;
    }
    cJSON *doc = status == 200 ? cJSON_Parse(body) : NULL;
    free(body);
    if (!doc) {
        if (status == 200)
            cli_error(sh->cmd, ":stats: %s: not JSON", url);
        else
            cli_error(sh->cmd, ":stats: %s: HTTP status %d", url, status);
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, fields[i]);
        printf("%-16s %.0f\n", fields[i], cJSON_IsNumber(v) ? v->valuedouble : 0.0);
    }
    cJSON_Delete(doc);
    return CLI_EXIT_OK;
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

static int
run_meta(struct shell *sh, int argc, char **argv)
{
    const char *m = argv[0] + 1;
    if (strcmp(m, "quit") == 0 || strcmp(m, "exit") == 0 || strcmp(m, "q") == 0) {
        sh->quit = true;
        return CLI_EXIT_OK;
    }
    if (strcmp(m, "subs") == 0) return meta_subs(sh);
    if (strcmp(m, "unsub") == 0) return meta_unsub(sh, argc, argv);
    if (strcmp(m, "set") == 0) return meta_set(sh, argc, argv);
    if (strcmp(m, "connect") == 0) return meta_connect(sh, argc, argv);
    if (strcmp(m, "sniff") == 0) return meta_sniff(sh, argc, argv);
    if (strcmp(m, "subjects") == 0) return meta_subjects(sh, argc, argv);
    if (strcmp(m, "top") == 0) return meta_top(sh, argc, argv);
    if (strcmp(m, "stats") == 0) return meta_stats(sh);
    if (strcmp(m, "help") == 0) return meta_help(argc, argv);
    if (strcmp(m, "history") == 0) {
        if (sh->interactive) cli_line_print_history(&sh->line, stdout);
        return CLI_EXIT_OK;
    }
    cli_error(sh->cmd, "unknown meta command '%s' (see :help)", argv[0]);
    return CLI_EXIT_USAGE;
}

/* ---------------------------------------------------------------------------------------------- */
/* Running a command                                                                               */
/* ---------------------------------------------------------------------------------------------- */

/*
 * A Ctrl-C during a foreground command also reaches the shell's signal pipe, read on the next
 * loop turn: the idle handle makes that turn poll without waiting, and after it the Ctrl-C is spent.
 */
static void
on_settled(uv_check_t *h)
{
    struct shell *sh = h->data;
    if (--sh->swallow_sigint > 0) return;
    uv_idle_stop(&sh->settle);
    uv_check_stop(&sh->settle_check);
}

static void
on_idle(uv_idle_t *h)
{
    (void)h;
}

static int
run_foreground(struct shell *sh, const struct cli_cmd *cmd, int used, int argc, char **argv)
{
    uint64_t start = uv_hrtime();
    cli_line_pause(&sh->line);
    fflush(stdout);
    int rc = cmd->fn(argc - (used - 1), argv + (used - 1), cmd);
    fflush(stdout);
    clearerr(stdout);
    if (strncmp(cmd->name, "stream ", 7) == 0 || strncmp(cmd->name, "kv ", 3) == 0)
        cli_names_refresh(&sh->streams, sh->connected ? sh->nc : NULL);
    if (sh->interactive) {
        uint64_t ns = uv_hrtime() - start;
        if (ns >= 500000000u) fprintf(stderr, "(%.2fs)\n", (double)ns / 1e9);
        sh->swallow_sigint = 2;
        uv_idle_start(&sh->settle, on_idle);
        uv_check_start(&sh->settle_check, on_settled);
        cli_line_resume(&sh->line);
    }
    return rc;
}

/* Runs one command; returns its exit code (-1 from --help counts as 0). */
static int
run_words(struct shell *sh, int argc, char **argv)
{
    int used;
    if (argv[0][0] == ':') return run_meta(sh, argc, argv);
    if (strcmp(argv[0], "unsub") == 0) return meta_unsub(sh, argc, argv);
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
    if (cmd->fn == cmd_sub || cmd->fn == cmd_reply) return run_background(sh, cmd, argc, argv);
    int rc = run_foreground(sh, cmd, used, argc, argv);
    if (rc == 0 && (cmd->fn == cmd_pub || cmd->fn == cmd_request) && argc > 1 && argv[1][0] != '-')
        cli_sniff_note(&sh->sniff, argv[1]);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

static int settle(struct shell *sh);

/*
 * A leading number repeats the command ("3 pub x hi"): sets *times and returns the words it took
 * (0 or 1). At least after words must follow it: the command (1), or none while it is being
 * typed and completed (0).
 */
static int
repeat_prefix(const struct cli_words *w, int after, long long *times)
{
    *times = 1;
    return w->n > after && cli_parse_int(w->v[0], 1, 1000000, times) ? 1 : 0;
}

static int
run_command(struct shell *sh, struct cli_words *w)
{
    long long times;
    int skip = repeat_prefix(w, 1, &times);
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
            int arc = settle(sh);
            if (rc == CLI_EXIT_OK) rc = arc;
        }
    }
    return rc;
}

/* Runs every command of text; returns the first failure's code, or 0. */
static int
run_text(struct shell *sh, const char *text)
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
/* Completion                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

static const char *const meta_names[] = {":subs",    ":unsub",    ":set",  ":connect",
                                         ":sniff",   ":subjects", ":top",  ":stats",
                                         ":history", ":help",     ":quit", NULL};
static const char *const set_names[] = {"raw", "pretty", "json", "timestamps", NULL};
static const char *const on_off[] = {"on", "off", NULL};

struct comp {
    struct cli_cands *c;
    const char *word;
};

static void
offer(struct comp *k, const char *cand)
{
    if (strncmp(cand, k->word, strlen(k->word)) == 0) cli_cands_add(k->c, cand);
}

static void
offer_subject(void *ud, const char *cand)
{
    offer(ud, cand);
}

static void
offer_list(struct comp *k, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        offer(k, list[i]);
}

static void
complete_command_names(struct comp *k)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        if (!(c->flags & CLI_HIDDEN) && !strchr(c->name, ' ') && c->fn != cmd_shell)
            offer(k, c->name);
    }
    for (size_t i = 0; i < cli_naliases; i++)
        offer(k, cli_aliases[i].alias);
    offer(k, "unsub");
    offer_list(k, meta_names);
}

static const struct cli_opt *
option_row(const struct cli_cmd *cmd, const char *word)
{
    for (const struct cli_opt *o = cmd->opts; o && o->id && word[0] == '-'; o++) {
        if (word[1] == '-' && o->long_name && strcmp(word + 2, o->long_name) == 0) return o;
        if (word[1] != '-' && o->short_name && strcmp(word + 1, o->short_name) == 0) return o;
    }
    return NULL;
}

static void
complete_options(struct comp *k, const struct cli_cmd *cmd)
{
    char flag[80];
    for (const struct cli_opt *o = cmd->opts; o && o->id; o++) {
        if (o->long_name) {
            snprintf(flag, sizeof flag, "--%s", o->long_name);
            offer(k, flag);
        }
    }
}

/* Whether a command's first argument names an existing stream (its synopsis says so). */
static bool
takes_stream(const struct cli_cmd *cmd)
{
    return strncmp(cmd->usage, "STREAM", 6) == 0 ||
           (strncmp(cmd->name, "stream ", 7) == 0 && strncmp(cmd->usage, "NAME", 4) == 0 &&
            strcmp(cmd->name, "stream add") != 0);
}

static void
offer_name(void *ud, const char *name)
{
    offer(ud, name);
}

/* Arguments of a command: its enum values, a following option's values, stream names, subjects. */
static void
complete_args(struct shell *sh, struct comp *k, const struct cli_cmd *cmd, char **words, int n,
              int used)
{
    const struct cli_opt *prev = n > used ? option_row(cmd, words[n - 1]) : NULL;
    if (prev && prev->long_name && strcmp(prev->long_name, "stream") == 0) {
        cli_names_complete(&sh->streams, k->word, offer_name, k);
        return;
    }
    if (prev && prev->arg_name) {
        offer_list(k, prev->values);
        return;
    }
    if (n == used && takes_stream(cmd)) {
        cli_names_complete(&sh->streams, k->word, offer_name, k);
        return;
    }
    if (k->word[0] == '-') {
        complete_options(k, cmd);
        return;
    }
    if (n == used && cmd->args) {
        offer_list(k, cmd->args);
        return;
    }
    cli_sniff_complete(&sh->sniff, k->word, offer_subject, k);
}

static void
complete_meta(struct shell *sh, struct comp *k, char **words, int n)
{
    if (strcmp(words[0], ":set") == 0) {
        offer_list(k, n == 1 ? set_names : on_off);
    } else if (strcmp(words[0], ":help") == 0) {
        complete_command_names(k);
    } else if (strcmp(words[0], ":unsub") == 0 || strcmp(words[0], "unsub") == 0) {
        for (struct job *j = sh->jobs; j; j = j->next) {
            char id[16];
            snprintf(id, sizeof id, "%d", j->id);
            offer(k, id);
        }
    } else if (strcmp(words[0], ":sniff") == 0 || strcmp(words[0], ":subjects") == 0) {
        cli_sniff_complete(&sh->sniff, k->word, offer_subject, k);
    }
}

static void
on_complete(void *ud, const char *line, size_t word, struct cli_cands *c)
{
    struct shell *sh = ud;
    struct comp k = {.c = c, .word = line + word};
    char *before = strndup(line, word);
    const char *text = before;
    struct cli_words w = {0};
    if (!before) return;
    /* Only the last command of the line matters: skip those before a ';'. */
    while (cli_words_next(&text, &w) == CLI_WORDS_CMD && *text) {
    }
    long long times;
    int skip = repeat_prefix(&w, 0, &times);
    char **words = w.v ? w.v + skip : NULL;
    int n = w.n - skip, used;
    if (n <= 0) {
        complete_command_names(&k);
    } else if (words[0][0] == ':' || strcmp(words[0], "unsub") == 0) {
        complete_meta(sh, &k, words, n);
    } else {
        const struct cli_cmd *cmd = cli_cmd_lookup(words, n, &used);
        if (cmd && !(cmd->flags & CLI_HIDDEN)) complete_args(sh, &k, cmd, words, n, used);
    }
    cli_words_free(&w);
    free(before);
}

/* ---------------------------------------------------------------------------------------------- */
/* Interactive loop                                                                                */
/* ---------------------------------------------------------------------------------------------- */

static void
report_dropped(struct shell *sh)
{
    uint64_t now = uv_now(&sh->loop);
    if (sh->dropped == sh->dropped_told || now - sh->last_report < REPORT_MS) return;
    notice(sh, "(%llu messages not shown)", (unsigned long long)(sh->dropped - sh->dropped_told));
    sh->dropped_told = sh->dropped;
    sh->last_report = now;
}

static void
on_tick(uv_timer_t *t)
{
    struct shell *sh = t->data;
    report_dropped(sh);
    if (++sh->ticks % (1000 / WINDOW_MS) != 0) return;
    cli_sniff_tick(&sh->sniff, uv_now(&sh->loop));
    if (sh->view) draw_view(sh);
}

static void shell_end(struct shell *sh);

static void
on_line(void *ud, const char *line)
{
    struct shell *sh = ud;
    if (!line) {
        fputc('\n', stdout);
        shell_end(sh);
        return;
    }
    if (!line[strspn(line, " \t")]) return;
    cli_line_remember(&sh->line, line);
    if (sh->hist) cli_history_append(sh->hist_path, line);
    int rc = run_text(sh, line);
    if (rc != 0 && rc != CLI_EXIT_INTERRUPTED) fprintf(stderr, "(exit %d)\n", rc);
    fflush(stdout);
    if (sh->quit) shell_end(sh);
}

static void
on_sigint(uv_signal_t *h, int signum)
{
    struct shell *sh = h->data;
    (void)signum;
    if (!sh->interactive) {
        sh->quit = true;
        sh->async_rc = CLI_EXIT_INTERRUPTED;
        return;
    }
    if (sh->swallow_sigint) return;
    if (sh->view) {
        fputs("\n", stdout);
        view_end(sh);
        return;
    }
    cli_line_cancel(&sh->line);
}

static void
on_sigwinch(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
}

static void
add_history(void *ud, const char *line)
{
    cli_line_remember(ud, line);
}

static int
start_interactive(struct shell *sh)
{
    sh->line = (struct cli_line){.on_line = on_line, .complete = on_complete, .ud = sh};
    if (cli_line_start(&sh->line, &sh->loop, "> ") != 0) {
        cli_error(sh->cmd, "cannot start line editing on this terminal");
        return CLI_EXIT_FAIL;
    }
    sh->hist = cli_history_path(sh->hist_path, sizeof sh->hist_path);
    if (sh->hist) cli_history_load(sh->hist_path, 1000, add_history, &sh->line);
    prompt_update(sh);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Start and end                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

static void
close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Stops everything; the loop then runs out of handles once the connection has drained. */
static void
shell_end(struct shell *sh)
{
    sh->quit = true;
    if (sh->view) view_end(sh);
    cli_line_stop(&sh->line);
    close_handle((uv_handle_t *)&sh->tick);
    close_handle((uv_handle_t *)&sh->sigint);
    close_handle((uv_handle_t *)&sh->sigwinch);
    close_handle((uv_handle_t *)&sh->settle);
    close_handle((uv_handle_t *)&sh->settle_check);
    if (sh->nc) {
        /* Drained, so messages already on their way are still printed. */
        if (!sh->connected || np_client_drain(sh->nc, NULL, NULL) != 0)
            np_client_close(sh->nc, NULL, NULL);
        sh->nc = NULL;
    }
}

static void
init_handles(struct shell *sh)
{
    uv_timer_init(&sh->loop, &sh->tick);
    sh->tick.data = sh;
    uv_timer_start(&sh->tick, on_tick, WINDOW_MS, WINDOW_MS);
    uv_signal_init(&sh->loop, &sh->sigint);
    sh->sigint.data = sh;
    uv_signal_start(&sh->sigint, on_sigint, SIGINT);
    uv_signal_init(&sh->loop, &sh->sigwinch);
    uv_signal_start(&sh->sigwinch, on_sigwinch, SIGWINCH);
    uv_idle_init(&sh->loop, &sh->settle);
    uv_check_init(&sh->loop, &sh->settle_check);
    sh->settle_check.data = sh;
}

static void
on_synced(struct np_client *c, int status, void *ud)
{
    struct shell *sh = ud;
    (void)c;
    (void)status;
    sh->busy--;
}

/*
 * Runs the loop until connects and subscriptions are confirmed, then until a round trip to the
 * server: what it routed to us before (what the last command published) has then arrived.
 * Returns how the confirmations ended.
 */
static int
settle(struct shell *sh)
{
    while (sh->busy > 0 && !sh->quit)
        uv_run(&sh->loop, UV_RUN_ONCE);
    if (sh->nc && sh->connected && np_client_flush(sh->nc, on_synced, sh) == 0) sh->busy++;
    while (sh->busy > 0 && !sh->quit)
        uv_run(&sh->loop, UV_RUN_ONCE);
    int rc = sh->async_rc;
    sh->async_rc = 0;
    return rc;
}

/* Runs each command of -c or of stdin in turn, stopping at the first failure. */
static int
run_script(struct shell *sh)
{
    if (sh->commands) return run_text(sh, sh->commands);
    char *line = NULL;
    size_t cap = 0;
    int rc = CLI_EXIT_OK;
    while (rc == CLI_EXIT_OK && !sh->quit && getline(&line, &cap, stdin) >= 0) {
        rc = run_text(sh, line);
    }
    free(line);
    return rc;
}

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
    init_handles(sh);
    rc = connect_to(sh, server);
    if (rc == 0) rc = settle(sh);
    if (rc == 0 && !sh->connected) rc = CLI_EXIT_CONNECT;
    if (rc == 0 && sh->interactive) rc = start_interactive(sh);
    if (rc == 0 && sh->interactive)
        uv_run(&sh->loop, UV_RUN_DEFAULT);
    else if (rc == 0)
        rc = run_script(sh);
    if (!sh->quit || !sh->interactive) shell_end(sh);
    uv_run(&sh->loop, UV_RUN_DEFAULT);
    /* Only now: the drain above still delivered messages to them. */
    while (sh->jobs) {
        struct job *j = sh->jobs;
        sh->jobs = j->next;
        job_free(j);
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
        cli_sniff_init(&sh->sniff, MAX_SUBJECTS);
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
