/*
 * The shell's background commands: `sub`, `reply` and `:sniff` as subscriptions on the shell's
 * connection, each with an id, and the display budget that keeps a firehose from locking the
 * terminal. Nothing is queued for display: past the budget a message is only counted, so memory
 * stays flat at any rate.
 */
#include "cli_conn.h"
#include "cli_shell.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_MS 1000

static const char *const kind_names[] = {"sub", "reply", "sniff"};

/* True when the display budget allows one more message now; counts the ones it refuses. */
static bool
may_show(struct shell *sh)
{
    if (!sh->interactive) return true;
    uint64_t now = uv_now(&sh->loop);
    if (now - sh->window_start >= CLI_SHELL_WINDOW_MS) {
        sh->window_start = now;
        sh->window_shown = 0;
    }
    if (sh->window_shown >= CLI_SHELL_SHOW_PER_WINDOW) {
        sh->dropped++;
        return false;
    }
    sh->window_shown++;
    return true;
}

void
cli_shell_report_dropped(struct shell *sh)
{
    uint64_t now = uv_now(&sh->loop);
    if (sh->dropped == sh->dropped_told || now - sh->last_report < REPORT_MS) return;
    cli_shell_notice(sh, "(%llu messages not shown)",
                     (unsigned long long)(sh->dropped - sh->dropped_told));
    sh->dropped_told = sh->dropped;
    sh->last_report = now;
}

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
answer(struct np_client *c, struct job *j, const struct np_msg *m)
{
    if (!m->reply.len) return;
    char reply[512];
    snprintf(reply, sizeof reply, "%.*s", (int)m->reply.len, m->reply.ptr);
    struct np_str body = j->body ? (struct np_str){j->body, strlen(j->body)} : m->data;
    np_client_publish(c, reply, NULL, (struct np_str){0}, body);
}

static void
on_job_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct job *j = ud;
    struct shell *sh = j->sh;
    j->received++;
    if (j->kind == CLI_SHELL_SNIFF) {
        cli_sniff_add(&sh->sniff, m->subject.ptr, m->subject.len, m->data.len);
        return;
    }
    if (sh->sniff.nodes < CLI_SHELL_MAX_SUBJECTS) {
        char subj[512];
        snprintf(subj, sizeof subj, "%.*s", (int)m->subject.len, m->subject.ptr);
        cli_sniff_note(&sh->sniff, subj);
    }
    if (j->kind == CLI_SHELL_REPLY)
        answer(c, j, m);
    else if (may_show(sh))
        show_msg(j, m);
    if (j->max && j->received >= j->max) cli_shell_job_stop(j, "done");
}

void
cli_shell_job_free(struct job *j)
{
    cli_out_release(&j->out);
    free(j->subject);
    free(j->queue);
    free(j->body);
    free(j);
}

void
cli_shell_job_stop(struct job *j, const char *why)
{
    struct shell *sh = j->sh;
    for (struct job **at = &sh->jobs; *at; at = &(*at)->next) {
        if (*at != j) continue;
        *at = j->next;
        if (sh->nc && j->sid > 0) np_client_unsubscribe(sh->nc, j->sid);
        if (sh->interactive)
            cli_shell_notice(sh, "[%d] %s %s: %s after %llu messages", j->id, kind_names[j->kind],
                             j->subject, why, (unsigned long long)j->received);
        cli_shell_job_free(j);
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
        cli_shell_notice(sh, "(error) %s %s: %s", kind_names[j->kind], j->subject,
                         np_client_strerror(status));
        sh->async_rc = cli_exit_for(status);
        return;
    }
    if (sh->interactive)
        cli_shell_notice(sh, "[%d] %s %s%s%s", j->id, kind_names[j->kind], j->subject,
                         j->queue ? " in queue group " : "", j->queue ? j->queue : "");
}

int
cli_shell_job_subscribe(struct job *j)
{
    struct shell *sh = j->sh;
    j->sid = np_client_subscribe(sh->nc, j->subject, j->queue, 0, on_job_msg, j);
    if (j->sid < 0) return (int)j->sid;
    if (np_client_flush(sh->nc, on_job_confirmed, j) == 0) sh->busy++;
    return 0;
}

struct job *
cli_shell_job_new(struct shell *sh, enum cli_shell_job_kind kind, const char *subject)
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

int
cli_shell_job_start(struct shell *sh, struct job *j)
{
    if (!sh->nc) {
        cli_error(sh->cmd, "not connected (see :connect)");
        cli_shell_job_free(j);
        return CLI_EXIT_CONNECT;
    }
    int rc = cli_shell_job_subscribe(j);
    if (rc != 0) {
        cli_error(sh->cmd, "%s %s: %s", kind_names[j->kind], j->subject, np_client_strerror(rc));
        cli_shell_job_free(j);
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
    bool own_conn; /* an option the shell's connection cannot serve (--stream, -s, ...) */
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
        o->own_conn = true;
        return CLI_EXIT_USAGE; /* stops parsing; the command runs in the foreground instead */
    }
    return 0;
}

int
cli_shell_background(struct shell *sh, const struct cli_cmd *cmd, int argc, char **argv)
{
    struct bg_opts o = {.sh = sh, .cmd = cmd, .mode = -1};
    int first = 0;
    bool reply = cmd->fn == cmd_reply;
    int rc = cli_opt_parse(cmd, argc, argv, on_bg_opt, &o, &first);
    if (o.own_conn) return CLI_SHELL_FOREGROUND;
    if (rc != 0) return rc < 0 ? CLI_EXIT_OK : rc;
    int nargs = argc - first;
    if (nargs < 1 || (reply && nargs > 2))
        return cli_usage(cmd, "usage: %s %s", cmd->name, reply ? "SUBJECT [BODY]" : "SUBJECT...");
    for (int i = 0; i < (reply ? 1 : nargs); i++) {
        struct job *j =
            cli_shell_job_new(sh, reply ? CLI_SHELL_REPLY : CLI_SHELL_SUB, argv[first + i]);
        if (!j) return CLI_EXIT_FAIL;
        const char *queue = o.queue ? o.queue : reply ? "natsctl-reply" : NULL;
        j->queue = queue ? strdup(queue) : NULL;
        j->body = reply && nargs == 2 ? strdup(argv[first + 1]) : NULL;
        j->max = o.max;
        j->timestamps = o.timestamps;
        if (o.mode >= 0) j->out.mode = (enum cli_out_mode)o.mode;
        j->out.headers_only = o.headers_only;
        if ((rc = cli_shell_job_start(sh, j)) != 0) return rc;
    }
    return CLI_EXIT_OK;
}

int
cli_shell_unsub(struct shell *sh, int argc, char **argv)
{
    if (argc != 2) return cli_usage(sh->cmd, "usage: unsub ID|SUBJECT|all");
    bool all = strcmp(argv[1], "all") == 0, found = false;
    for (struct job *j = sh->jobs, *next; j; j = next) {
        char id[16];
        next = j->next;
        snprintf(id, sizeof id, "%d", j->id);
        if (all || strcmp(argv[1], id) == 0 || strcmp(argv[1], j->subject) == 0) {
            cli_shell_job_stop(j, "stopped");
            found = true;
        }
    }
    if (!found && !all) {
        cli_error(sh->cmd, "no background command '%s' (see :subs)", argv[1]);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int
cli_shell_subs(struct shell *sh)
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
