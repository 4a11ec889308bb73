/*
 * natsctl reply: answers requests on a subject, as an echo, a templated body, or the output of a
 * program.
 *
 * --command is split into words once, when the command starts, and placeholders are expanded in
 * each word on its own for every request: a request body can become one argument but never a
 * second one, and no shell ever sees it. The program runs with the body on stdin and replies with
 * whatever it printed; several requests may have programs running at once.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_msg.h"
#include "cli_out.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

enum {
    OPT_ECHO = 1,
    OPT_COMMAND,
    OPT_QUEUE,
    OPT_COUNT,
    OPT_HEADER,
    OPT_NO_TEMPLATES,
};

#define DEFAULT_QUEUE "natsctl-reply"

const struct cli_opt cmd_reply_opts[] = {
    {OPT_ECHO, NULL, "echo", NULL, NULL, "reply with the request itself (the default)", NULL},
    {OPT_COMMAND, NULL, "command", NULL, "\"PROG ARG...\"",
     "reply with the output of PROG, run without a shell for each request", NULL},
    {OPT_QUEUE, NULL, "queue", NULL, "GROUP", "queue group (default " DEFAULT_QUEUE ")", NULL},
    {OPT_COUNT, NULL, "count", NULL, "N", "exit 0 after answering N requests", NULL},
    {OPT_HEADER, "H", "header", NULL, "KEY:VALUE", "add a header to every reply (repeatable)",
     NULL},
    {OPT_NO_TEMPLATES, NULL, "no-templates", NULL, NULL, "send {{...}} placeholders as they are",
     NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_reply_details[] =
    "Without BODY or --command it echoes each request back. BODY may use the placeholders of\n"
    "'natsctl pub' plus {{Request}} (the request body) and {{1}}, {{2}}... (the tokens of the\n"
    "request subject). --command runs PROG for each request with the request body on stdin\n"
    "and NATS_REQUEST_SUBJECT and NATS_REQUEST_BODY in its environment; its stdout is the\n"
    "reply. A program that exits non-zero still has its output sent, with the headers\n"
    "Nats-Service-Error and Nats-Service-Error-Code: 500. Each request is logged on stderr.\n"
    "Ctrl-C drains and exits 0; a program still running is stopped and its requester gets a\n"
    "service error.\n"
    "\n"
    "Examples:\n"
    "  natsctl reply svc.echo\n"
    "  natsctl reply 'time.>' 'it is {{TimeStamp}} in {{2}}'\n"
    "  natsctl reply 'files.get.*' --command 'cat /srv/files/{{3}}'\n";

struct reply {
    struct cli_conn cc;
    struct cli_env env;
    struct cli_msg msg; /* the reply: BODY and -H templates */
    const char *subject, *queue;
    bool echo, body_given;
    char **command;
    int command_argc;
    uint64_t count, received, answered;
    int jobs;               /* programs still running */
    struct job *running;    /* those programs, to stop them when the command ends */
    struct np_buf reply_to; /* the current request's reply subject, NUL-terminated */
};

/* A request whose program is running. Freed once its three handles are closed. */
struct job {
    struct reply *r;
    struct job *next; /* in r->running */
    char *reply_to;
    struct np_buf input, output;
    struct np_buf headers; /* the -H fields rendered for this request (len 0 when none) */
    uv_process_t proc;
    uv_pipe_t in, out;
    uv_write_t write;
    uv_shutdown_t shutdown;
    int64_t exit_status;
    bool exited, eof, replied;
    int open_handles;
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct reply *r = ud;
    long long n;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&r->env, id, arg);
    switch (id) {
    case OPT_ECHO:
        r->echo = true;
        return 0;
    case OPT_QUEUE:
        r->queue = arg;
        return 0;
    case OPT_NO_TEMPLATES:
        r->msg.literal = true;
        return 0;
    case OPT_HEADER: {
        const char *why = cli_header_add(&r->msg, arg);
        return why ? cli_usage(r->cc.cmd, "invalid -H '%s': %s", arg, why) : 0;
    }
    case OPT_COUNT:
        if (!cli_parse_int(arg, 1, INT64_MAX, &n))
            return cli_usage(r->cc.cmd, "invalid --count '%s': want a positive whole number", arg);
        r->count = (uint64_t)n;
        return 0;
    case OPT_COMMAND:
        cli_argv_free(r->command);
        r->command = NULL;
        if (cli_split_command(arg, &r->command, &r->command_argc) != 0 || r->command_argc == 0)
            return cli_usage(r->cc.cmd, "cannot split --command '%s' into words", arg);
        return 0;
    }
    return CLI_EXIT_FAIL;
}

static void
answered(struct reply *r)
{
    if (r->count && ++r->answered == r->count) cli_conn_finish(&r->cc, CLI_EXIT_OK, true);
}

static void
send_reply(struct reply *r, const char *to, struct np_str headers, struct np_str data)
{
    if (r->cc.finishing && !r->cc.nc) return;
    char why[160];
    int rc = np_client_publish(r->cc.nc, to, NULL, headers, data);
    if (rc == NP_CLIENT_EMAX_PAYLOAD) {
        cli_payload_problem(r->cc.nc, headers.len, data.len, why, sizeof why);
        cli_error(r->cc.cmd, "cannot reply to '%s': %s", to, why);
    } else if (rc != 0) {
        cli_error(r->cc.cmd, "cannot reply to '%s': %s", to, np_client_strerror(rc));
    }
    answered(r);
}

/*
 * Replies with the Nats-Service-Error headers (after the -H fields in extra, if any), so the
 * requester learns of the failure at once instead of waiting for its timeout, and
 * `request --fail-on-service-error` can tell.
 */
static void
send_service_error(struct reply *r, const char *to, struct np_str extra, const char *why,
                   struct np_str body)
{
    struct np_hdr_builder hb;
    struct np_hdr h;
    struct np_str hdrs, key, value;
    np_hdr_builder_init(&hb, 0, NULL);
    if (extra.len && np_hdr_parse(&h, extra.ptr, extra.len) == 0) {
        size_t pos = 0;
        while (np_hdr_next(&h, &pos, &key, &value) == 1)
            np_hdr_builder_add(&hb, key, value);
    }
    np_hdr_builder_add(&hb, NP_STR_LIT("Nats-Service-Error"), (struct np_str){why, strlen(why)});
    np_hdr_builder_add(&hb, NP_STR_LIT("Nats-Service-Error-Code"), NP_STR_LIT("500"));
    if (np_hdr_builder_finish(&hb, &hdrs) == 0) send_reply(r, to, hdrs, body);
    np_hdr_builder_release(&hb);
    cli_error(r->cc.cmd, "%s", why);
}

/* ---------------------------------------------------------------------------------------------- */
/* --command                                                                                       */
/* ---------------------------------------------------------------------------------------------- */

static void
job_handle_closed(uv_handle_t *h)
{
    struct job *j = h->data;
    if (--j->open_handles > 0) return;
    j->r->jobs--;
    struct job **link = &j->r->running;
    while (*link != j)
        link = &(*link)->next;
    *link = j->next;
    free(j->reply_to);
    np_buf_release(&j->input);
    np_buf_release(&j->output);
    np_buf_release(&j->headers);
    free(j);
}

static void
close_job_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, job_handle_closed);
}

/* Sends the program's output once it has both exited and closed its stdout. */
static void
job_maybe_done(struct job *j)
{
    if (!j->exited || !j->eof) return;
    struct reply *r = j->r;
    struct np_str out = {j->output.ptr ? j->output.ptr : "", j->output.len};
    struct np_str hdrs = {j->headers.ptr, j->headers.len};
    if (j->replied) {
        /* answered when the command was interrupted */
    } else if (j->exit_status == 0) {
        send_reply(r, j->reply_to, hdrs, out);
    } else {
        char why[64];
        snprintf(why, sizeof why, "command exited with status %lld", (long long)j->exit_status);
        send_service_error(r, j->reply_to, hdrs, why, out);
    }
    close_job_handle((uv_handle_t *)&j->proc);
    close_job_handle((uv_handle_t *)&j->in);
    close_job_handle((uv_handle_t *)&j->out);
}

static void
on_child_exit(uv_process_t *p, int64_t status, int signum)
{
    struct job *j = p->data;
    j->exit_status = signum ? 128 + signum : status;
    j->exited = true;
    job_maybe_done(j);
}

static void
on_out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct job *j = h->data;
    (void)hint;
    *buf = uv_buf_init(NULL, 0);
    if (np_buf_reserve(&j->output, 65536) == 0)
        *buf = uv_buf_init(j->output.ptr + j->output.len, 65536);
}

static void
on_out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct job *j = s->data;
    (void)buf;
    if (n > 0) {
        j->output.len += (size_t)n;
        j->output.ptr[j->output.len] = '\0';
        return;
    }
    if (n == 0) return;
    uv_read_stop(s);
    j->eof = true;
    job_maybe_done(j);
}

/* The program may exit without reading its stdin: a failed write is not an error. */
static void
on_input_written(uv_write_t *w, int status)
{
    struct job *j = w->data;
    (void)status;
    close_job_handle((uv_handle_t *)&j->in);
}

static char **
child_env(const char *subject, const char *body)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "NATS_REQUEST_", 13) != 0) env[k++] = environ[i];
    }
    size_t ls = strlen(subject) + 22, lb = strlen(body) + 19;
    env[k] = malloc(ls);
    env[k + 1] = malloc(lb);
    if (env[k]) snprintf(env[k], ls, "NATS_REQUEST_SUBJECT=%s", subject);
    if (env[k + 1]) snprintf(env[k + 1], lb, "NATS_REQUEST_BODY=%s", body);
    return env;
}

static void
free_child_env(char **env)
{
    size_t n = 0;
    while (env[n])
        n++;
    /* our two entries are the last ones; the rest belong to environ */
    for (size_t i = n >= 2 ? n - 2 : 0; i < n; i++)
        free(env[i]);
    free(env);
}

static int
spawn_job(struct job *j, char **argv, char **env)
{
    uv_loop_t *loop = j->r->cc.loop;
    uv_pipe_init(loop, &j->in, 0);
    uv_pipe_init(loop, &j->out, 0);
    j->in.data = j->out.data = j->proc.data = j->write.data = j;
    j->open_handles = 2;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&j->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&j->out},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t o = {.exit_cb = on_child_exit,
                              .file = argv[0],
                              .args = argv,
                              .env = env,
                              .stdio_count = 3,
                              .stdio = stdio};
    int rc = uv_spawn(loop, &j->proc, &o);
    j->open_handles++; /* uv_spawn initialises the process handle even when it fails */
    if (rc != 0) return rc;
    uv_read_start((uv_stream_t *)&j->out, on_out_alloc, on_out_read);
    static char empty[1];
    uv_buf_t b = uv_buf_init(j->input.ptr ? j->input.ptr : empty, (unsigned)j->input.len);
    if (uv_write(&j->write, (uv_stream_t *)&j->in, &b, 1, on_input_written) != 0)
        close_job_handle((uv_handle_t *)&j->in);
    return 0;
}

static void
run_command(struct reply *r, const struct np_msg *m, const struct cli_tmpl_ctx *ctx)
{
    struct job *j = calloc(1, sizeof *j);
    char **argv = NULL, **env = NULL;
    int rc = NP_ENOMEM;
    if (!j) goto fail;
    j->r = r;
    j->reply_to = strndup(m->reply.ptr, m->reply.len);
    char *subject = strndup(m->subject.ptr, m->subject.len);
    /* the -H fields are rendered now: later requests reuse r->msg while this program runs */
    if (j->reply_to && subject && np_buf_add(&j->input, m->data.ptr, m->data.len) == 0 &&
        np_buf_add(&j->headers, r->msg.out_headers.ptr, r->msg.out_headers.len) == 0 &&
        cli_tmpl_expand_argv(ctx, r->command, r->command_argc, &argv) == 0)
        env = child_env(subject, j->input.ptr ? j->input.ptr : "");
    free(subject);
    if (!env) goto fail;
    r->jobs++;
    j->next = r->running;
    r->running = j;
    rc = spawn_job(j, argv, env);
    if (rc != 0) {
        cli_error(r->cc.cmd, "cannot run '%s': %s", argv[0], uv_strerror(rc));
        j->exit_status = 127;
        j->exited = j->eof = true;
        job_maybe_done(j);
    }
    free_child_env(env);
    cli_argv_free(argv);
    return;
fail:
    cli_error(r->cc.cmd, "cannot run the command: out of memory");
    if (j) {
        free(j->reply_to);
        np_buf_release(&j->input);
        np_buf_release(&j->headers);
        free(j);
    }
    cli_argv_free(argv);
}

/* ---------------------------------------------------------------------------------------------- */

static void
log_request(struct reply *r, const struct np_msg *m)
{
    /* the subject comes from the requester: escaped, it cannot drive the terminal */
    struct np_buf subj = {0};
    if (cli_out_escape(&subj, m->subject.ptr, m->subject.len) != 0) subj.len = 0;
    fprintf(stderr, "[#%llu] Received on \"%.*s\" (%zu bytes)\n", (unsigned long long)r->received,
            (int)subj.len, subj.ptr ? subj.ptr : "", m->data.len);
    np_buf_release(&subj);
}

static void
on_request(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct reply *r = ud;
    (void)c;
    if (r->cc.finishing) return;
    r->received++;
    log_request(r, m);
    if (m->reply.len == 0) {
        cli_error(r->cc.cmd, "no reply subject: nothing to answer");
        return;
    }
    r->reply_to.len = 0;
    if (np_buf_add(&r->reply_to, m->reply.ptr, m->reply.len) != 0) {
        cli_error(r->cc.cmd, "out of memory");
        return;
    }
    const char *to = r->reply_to.ptr;
    struct cli_tmpl_ctx ctx = {
        .count = r->received, .reply = true, .request = m->data, .subject = m->subject};
    int rc = r->echo ? 0 : cli_msg_render(&r->msg, &ctx);
    if (r->echo) {
        send_reply(r, to, m->headers, m->data);
    } else if (rc != 0) {
        /* e.g. {{Request}} put a newline into a -H value: answer rather than let it time out */
        send_service_error(r, to, (struct np_str){NULL, 0},
                           rc == NP_EHEADER
                               ? "cannot build the reply: a header expanded to an invalid value"
                               : "cannot build the reply: out of memory",
                           (struct np_str){"", 0});
    } else if (r->command) {
        run_command(r, m, &ctx);
    } else {
        send_reply(r, to, r->msg.out_headers, r->msg.out_data);
    }
}

static void
on_subscribed(struct np_client *c, int status, void *ud)
{
    struct reply *r = ud;
    (void)c;
    if (r->cc.finishing) return;
    if (status != 0) {
        cli_conn_fail(&r->cc, status, "subscribe");
        return;
    }
    fprintf(stderr, "Listening on %s in queue group %s\n", r->subject, r->queue);
}

static void
on_connected(struct cli_conn *cc)
{
    struct reply *r = cc->ud;
    int64_t sid = np_client_subscribe(cc->nc, r->subject, r->queue, r->count, on_request, r);
    int rc = sid < 0 ? (int)sid : np_client_flush(cc->nc, on_subscribed, r);
    if (rc != 0) cli_conn_fail(cc, rc, "subscribe");
}

/*
 * The command ends (Ctrl-C, or a lost connection): a program still running gets SIGTERM, so
 * natsctl stops now rather than when the program is done, and its requester gets a service error
 * at once: the drain that follows flushes it, while a reply sent once the program has exited
 * would find the connection closed.
 */
static void
on_finish(struct cli_conn *cc)
{
    struct reply *r = cc->ud;
    for (struct job *j = r->running; j; j = j->next) {
        if (j->exited) continue;
        send_service_error(r, j->reply_to, (struct np_str){j->headers.ptr, j->headers.len},
                           "interrupted before the command finished", (struct np_str){"", 0});
        j->replied = true;
        uv_process_kill(&j->proc, SIGTERM);
    }
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct reply *r = ud;
    if (nargs < 1 || nargs > 2)
        return cli_usage(r->cc.cmd, "usage: natsctl reply SUBJECT [BODY] (see --help)");
    if (!*r->queue || strpbrk(r->queue, " \t\r\n"))
        return cli_usage(r->cc.cmd, "invalid queue group '%s'", r->queue);
    char why[160];
    size_t others = 1 + strlen(r->queue) + 1 + cli_digits(UINT32_MAX); /* SUB subject queue sid */
    if (!cli_subject_check("subject", args[0], true, others, why, sizeof why))
        return cli_usage(r->cc.cmd, "%s", why);
    int modes = r->echo + (r->command != NULL) + (nargs == 2);
    if (modes > 1) return cli_usage(r->cc.cmd, "give one of BODY, --echo and --command");
    if (r->echo && r->msg.nheaders)
        return cli_usage(r->cc.cmd, "--echo sends the request's headers: drop -H");
    r->subject = args[0];
    r->msg.subject = args[0];
    r->msg.body = nargs == 2 ? (struct np_str){args[1], strlen(args[1])} : NP_STR_LIT("");
    r->echo = modes == 0 || r->echo;
    return 0;
}

int
cmd_reply(int argc, char **argv, const struct cli_cmd *self)
{
    struct reply *r = calloc(1, sizeof *r);
    if (!r) return CLI_EXIT_FAIL;
    r->cc = (struct cli_conn){
        .cmd = self, .env = &r->env, .on_connected = on_connected, .on_finish = on_finish, .ud = r};
    r->queue = DEFAULT_QUEUE;
    cli_env_init(&r->env, self);
    int rc = cli_conn_parse(self, &r->env, argc, argv, on_opt, check_args, r);
    if (rc == 0) {
        r->cc.long_running = r->count == 0;
        rc = cli_conn_run(&r->cc);
    }
    cli_msg_release(&r->msg);
    cli_argv_free(r->command);
    np_buf_release(&r->reply_to);
    free(r);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
