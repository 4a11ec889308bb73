/*
 * natsctl pub: publishes one message, --count copies, or one message per input line.
 *
 * Messages go out in batches, each closed by a flush (PING/PONG): the flush both checks that the
 * server took the batch and keeps the client from queueing more than a batch ahead of it. With
 * --sleep every message is its own batch. --lines reads stdin as it arrives (a pipe is polled by the
 * loop, so `tail -f log | natsctl pub logs --lines` works), one message per line.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_host.h"
#include "cli_js.h"
#include "cli_msg.h"
#include "cli_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_COUNT = 1,
    OPT_SLEEP,
    OPT_HEADER,
    OPT_REPLY,
    OPT_LINES,
    OPT_EMPTY,
    OPT_NO_TEMPLATES,
    OPT_JETSTREAM,
    OPT_JSON,
};

const struct cli_opt cmd_pub_opts[] = {
    {OPT_COUNT, NULL, "count", NULL, "N", "publish N messages (default 1)", NULL},
    {OPT_SLEEP, NULL, "sleep", NULL, "DURATION", "wait this long between messages", NULL},
    {OPT_HEADER, "H", "header", NULL, "KEY:VALUE", "add a header (repeatable)", NULL},
    {OPT_REPLY, NULL, "reply", NULL, "SUBJECT", "reply subject to send with the message", NULL},
    {OPT_LINES, NULL, "lines", NULL, NULL, "publish one message per line of stdin", NULL},
    {OPT_EMPTY, NULL, "empty", NULL, NULL, "publish an empty body without reading stdin", NULL},
    {OPT_NO_TEMPLATES, NULL, "no-templates", NULL, NULL, "send {{...}} placeholders as they are",
     NULL},
    {OPT_JETSTREAM, "J", "jetstream", NULL, NULL,
     "wait for each message's JetStream acknowledgement and print it", NULL},
    {OPT_JSON, NULL, "json", NULL, NULL, "with --jetstream, print the acknowledgements as JSON",
     NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_pub_details[] =
    "The body is BODY, or stdin when BODY is '-' or stdin is a pipe or a file. On a terminal\n"
    "without BODY it reads until ^D and says so. Subject, body and headers may use the\n"
    "placeholders {{Count}} {{TimeStamp}} {{Unix}} {{UnixNano}} {{Time}} {{ID}} and\n"
    "{{Random MIN MAX}}; anything else in braces is sent as written.\n"
    "\n"
    "Every batch of messages is confirmed by the server before the command goes on, so exit 0\n"
    "means the server received them.\n"
    "\n"
    "With --jetstream each message is a request that a stream acknowledges, one at a time:\n"
    "the acknowledgement is printed (`Published 5 bytes to \"orders.new\": stream ORDERS seq "
    "12`),\n"
    "a stream that refuses the message (a Nats-Expected-* header that does not hold, a limit)\n"
    "exits 6 with its reason, and a subject no stream captures exits 5.\n"
    "\n"
    "Examples:\n"
    "  natsctl pub orders.new '{\"id\":1}'\n"
    "  natsctl pub -H trace:abc --count 1000 load.test 'msg {{Count}} at {{UnixNano}}'\n"
    "  tail -f app.log | natsctl pub logs.app --lines\n"
    "  natsctl pub sensors.t1 - < reading.json\n"
    "  natsctl pub --jetstream -H Nats-Msg-Id:order-7 orders.new '{\"id\":7}'\n";

#define BATCH_MSGS  1000
#define BATCH_BYTES (1u << 20)
#define READ_CHUNK  65536

struct pub {
    struct cli_conn cc;
    struct cli_env env;
    struct cli_msg msg;
    const char *reply;
    uint64_t count, sent, sleep_ms;
    bool lines, empty, jetstream, json;
    const char *body_arg; /* BODY as given ('-' included), NULL when absent */
    struct np_buf body;   /* the body read from stdin */
    struct np_buf input;  /* --lines: bytes read but not yet published */
    bool eof, polling, progress, handles;
    uv_poll_t poll;
    uv_timer_t sleep_timer, progress_timer;
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct pub *p = ud;
    long long n;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&p->env, id, arg);
    switch (id) {
    case OPT_COUNT:
        if (!cli_parse_int(arg, 1, INT64_MAX, &n))
            return cli_usage(p->cc.cmd, "invalid --count '%s': want a positive whole number", arg);
        p->count = (uint64_t)n;
        return 0;
    case OPT_SLEEP:
        if (!cli_parse_duration(arg, &p->sleep_ms)) break;
        return 0;
    case OPT_HEADER: {
        const char *why = cli_header_add(&p->msg, arg);
        return why ? cli_usage(p->cc.cmd, "invalid -H '%s': %s", arg, why) : 0;
    }
    case OPT_REPLY:
        p->reply = arg;
        return 0;
    case OPT_LINES:
        p->lines = true;
        return 0;
    case OPT_EMPTY:
        p->empty = true;
        return 0;
    case OPT_NO_TEMPLATES:
        p->msg.literal = true;
        return 0;
    case OPT_JETSTREAM:
        p->jetstream = true;
        return 0;
    case OPT_JSON:
        p->json = true;
        return 0;
    }
    return cli_bad_value(p->cc.cmd, id, arg);
}

/* ---------------------------------------------------------------------------------------------- */
/* Progress on a terminal                                                                          */
/* ---------------------------------------------------------------------------------------------- */

static void
draw_progress(struct pub *p, bool last)
{
    char bar[41];
    size_t filled = (size_t)(p->sent * 40 / p->count);
    memset(bar, '#', filled);
    memset(bar + filled, '.', 40 - filled);
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %3u%% %llu/%llu%s", bar, (unsigned)(p->sent * 100 / p->count),
            (unsigned long long)p->sent, (unsigned long long)p->count, last ? "\n" : "");
    fflush(stderr);
}

static void
on_progress(uv_timer_t *t)
{
    draw_progress(t->data, false);
}

static void
start_progress(struct pub *p)
{
    if (p->count < 2 || p->lines || !cli_stderr_is_tty()) return;
    p->progress = true;
    uv_timer_start(&p->progress_timer, on_progress, 100, 100);
}

/* ---------------------------------------------------------------------------------------------- */
/* Publishing                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

/* Ends the command with one line and code. Returns -1 for publish_one to pass on. */
static int
refuse(struct pub *p, int code, const char *msg)
{
    cli_error(p->cc.cmd, "%s", msg);
    cli_conn_finish(&p->cc, code, false);
    return -1;
}

/* Renders the next message and checks it; returns 0, or -1 after ending the command. */
static int
render(struct pub *p, struct np_str body)
{
    struct cli_tmpl_ctx ctx = {.count = p->sent + 1};
    struct cli_msg *m = &p->msg;
    char why[160];
    m->body = body;
    int rc = cli_msg_render(m, &ctx);
    if (rc == NP_EHEADER) return refuse(p, CLI_EXIT_USAGE, "a header expanded to an invalid value");
    if (rc != 0) {
        cli_conn_fail(&p->cc, rc, "publish");
        return -1;
    }
    size_t args = cli_pub_args(p->reply ? strlen(p->reply) : 0, m->out_headers.len,
                               m->out_headers.len + m->out_data.len);
    if (!cli_subject_check("subject", m->out_subject, false, args, why, sizeof why))
        return refuse(p, CLI_EXIT_USAGE, why);
    return 0;
}

static int
publish_one(struct pub *p, struct np_str body)
{
    struct cli_msg *m = &p->msg;
    char why[160];
    if (render(p, body) != 0) return -1;
    int rc = np_client_publish(p->cc.nc, m->out_subject, p->reply, m->out_headers, m->out_data);
    if (rc == NP_CLIENT_EMAX_PAYLOAD) {
        cli_payload_problem(p->cc.nc, m->out_headers.len, m->out_data.len, why, sizeof why);
        return refuse(p, CLI_EXIT_REJECTED, why);
    }
    if (rc != 0) {
        cli_conn_fail(&p->cc, rc, "publish");
    } else {
        p->sent++;
    }
    return rc;
}

static void next_batch(struct pub *p);
static void on_flushed(struct np_client *c, int status, void *ud);

static void
flush(struct pub *p)
{
    int rc = np_client_flush(p->cc.nc, on_flushed, p);
    if (rc != 0) cli_conn_fail(&p->cc, rc, "flush");
}

static void
on_sleep_done(uv_timer_t *t)
{
    next_batch(t->data);
}

static void
batch_confirmed(struct pub *p)
{
    if (p->sent == p->count) {
        if (p->progress) draw_progress(p, true);
        cli_conn_finish(&p->cc, CLI_EXIT_OK, false);
    } else if (p->sleep_ms) {
        uv_timer_start(&p->sleep_timer, on_sleep_done, p->sleep_ms, 0);
    } else {
        next_batch(p);
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* --jetstream: one request and one acknowledgement per message                                    */
/* ---------------------------------------------------------------------------------------------- */

static void batch_confirmed(struct pub *p);

static void
print_ack(struct pub *p, const cJSON *ack, struct np_str raw)
{
    if (p->json) {
        printf("%.*s\n", (int)raw.len, raw.ptr);
    } else {
        printf("Published %zu bytes to \"%s\": stream %s seq %" PRId64 "%s\n", p->msg.out_data.len,
               p->msg.out_subject, cli_js_str(ack, "stream"), cli_js_int(ack, "seq", 0),
               cli_js_bool(ack, "duplicate") ? " (duplicate)" : "");
    }
    fflush(stdout);
}

static void
on_ack(struct cli_conn *cc, int status, const struct np_msg *m)
{
    struct pub *p = cc->ud;
    if (status == NP_CLIENT_ENO_RESPONDERS) {
        char msg[600];
        snprintf(msg, sizeof msg, "no stream captures subject '%s'", p->msg.out_subject);
        refuse(p, CLI_EXIT_NO_RESPONDERS, msg);
        return;
    }
    if (status != 0) {
        cli_js_fail(cc, status, p->msg.out_subject);
        return;
    }
    cJSON *ack = cJSON_ParseWithLength(m->data.ptr, m->data.len);
    if (!cJSON_IsObject(ack) ||
        (!cJSON_GetObjectItemCaseSensitive(ack, "error") && !*cli_js_str(ack, "stream"))) {
        refuse(p, CLI_EXIT_FAIL, "the reply is not a JetStream acknowledgement");
    } else if (cJSON_GetObjectItemCaseSensitive(ack, "error")) {
        cli_js_refused(cc, ack);
    } else {
        print_ack(p, ack, m->data);
        p->sent++;
        batch_confirmed(p);
    }
    cJSON_Delete(ack);
}

static void
publish_js(struct pub *p)
{
    struct np_str body = {p->body.ptr ? p->body.ptr : "", p->body.len};
    if (render(p, body) != 0) return;
    cli_js_request(&p->cc, p->msg.out_subject, p->msg.out_headers, p->msg.out_data, on_ack);
}

static void
next_batch(struct pub *p)
{
    if (p->jetstream) {
        publish_js(p);
        return;
    }
    struct np_str body = {p->body.ptr ? p->body.ptr : "", p->body.len};
    uint64_t limit = p->sleep_ms ? 1 : BATCH_MSGS;
    size_t bytes = 0;
    for (uint64_t i = 0; i < limit && p->sent < p->count && bytes < BATCH_BYTES; i++) {
        if (publish_one(p, body) != 0) return;
        bytes += p->msg.out_data.len + p->msg.out_headers.len;
    }
    flush(p);
}

/* ---------------------------------------------------------------------------------------------- */
/* --lines                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static void read_lines(struct pub *p);
static void on_readable(uv_poll_t *h, int status, int events);

/* Publishes every complete line in the input buffer (and the unterminated rest at EOF). */
static int
publish_lines(struct pub *p)
{
    char *start = p->input.ptr, *end = p->input.ptr + p->input.len;
    while (start < end) {
        char *nl = memchr(start, '\n', (size_t)(end - start));
        if (!nl && !p->eof) break;
        char *stop = nl ? nl : end;
        if (stop > start && stop[-1] == '\r') stop--;
        if (publish_one(p, (struct np_str){start, (size_t)(stop - start)}) != 0) return -1;
        start = nl ? nl + 1 : end;
    }
    size_t rest = (size_t)(end - start);
    memmove(p->input.ptr, start, rest);
    p->input.len = rest;
    return 0;
}

static void
lines_confirmed(struct pub *p)
{
    if (p->eof) {
        cli_conn_finish(&p->cc, CLI_EXIT_OK, false);
    } else if (p->polling) {
        uv_poll_start(&p->poll, UV_READABLE, on_readable);
    } else {
        read_lines(p);
    }
}

/* Reads one chunk: called when the poll says so, or straight away for a regular file. */
static void
read_lines(struct pub *p)
{
    if (np_buf_reserve(&p->input, READ_CHUNK) != 0) {
        cli_conn_fail(&p->cc, NP_ENOMEM, "read stdin");
        return;
    }
    ssize_t n = read(STDIN_FILENO, p->input.ptr + p->input.len, READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) {
        cli_error(p->cc.cmd, "cannot read stdin: %s", strerror(errno));
        cli_conn_finish(&p->cc, CLI_EXIT_FAIL, false);
        return;
    }
    p->input.len += (size_t)n;
    p->eof = n == 0;
    if (p->polling) uv_poll_stop(&p->poll);
    if (publish_lines(p) == 0) flush(p);
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    read_lines(h->data);
}

static void
on_flushed(struct np_client *c, int status, void *ud)
{
    struct pub *p = ud;
    (void)c;
    if (p->cc.finishing) return;
    if (status != 0) {
        cli_conn_fail(&p->cc, status, "flush");
        return;
    }
    if (p->lines)
        lines_confirmed(p);
    else
        batch_confirmed(p);
}

/* ---------------------------------------------------------------------------------------------- */

static void
on_connected(struct cli_conn *cc)
{
    struct pub *p = cc->ud;
    uv_timer_init(cc->loop, &p->sleep_timer);
    uv_timer_init(cc->loop, &p->progress_timer);
    p->sleep_timer.data = p->progress_timer.data = p;
    p->handles = true;
    if (!p->lines) {
        start_progress(p);
        next_batch(p);
        return;
    }
    p->polling = uv_poll_init(cc->loop, &p->poll, STDIN_FILENO) == 0;
    if (!p->polling) {
        read_lines(p);
        return;
    }
    p->poll.data = p;
    uv_poll_start(&p->poll, UV_READABLE, on_readable);
}

static void
on_finish(struct cli_conn *cc)
{
    struct pub *p = cc->ud;
    if (!p->handles) return;
    if (p->progress && p->sent != p->count) fputc('\n', stderr);
    uv_close((uv_handle_t *)&p->sleep_timer, NULL);
    uv_close((uv_handle_t *)&p->progress_timer, NULL);
    if (p->polling) uv_close((uv_handle_t *)&p->poll, NULL);
    p->polling = false;
}

/* Reads all of stdin into the body (before connecting, so a slow producer costs no timeout). */
static int
read_body(struct pub *p)
{
    if (cli_stdin_is_tty()) fputs("reading body from terminal, end with ^D\n", stderr);
    return cli_host_read_fd(&p->body, STDIN_FILENO);
}

/* Decides where the body comes from (cli.md 11.2). Returns 0 or an exit code. */
static int
choose_body(struct pub *p)
{
    const char *arg = p->body_arg;
    bool from_stdin = arg ? strcmp(arg, "-") == 0 : !p->empty && cli_stdin_has_data();
    if (p->jetstream && (p->lines || p->reply))
        return cli_usage(p->cc.cmd, "--jetstream cannot be combined with --lines or --reply");
    if (p->json && !p->jetstream) return cli_usage(p->cc.cmd, "--json needs --jetstream");
    if (p->lines) {
        if (arg && !from_stdin) return cli_usage(p->cc.cmd, "--lines reads stdin: drop BODY");
        if (p->count != 1 || p->sleep_ms)
            return cli_usage(p->cc.cmd, "--lines cannot be combined with --count or --sleep");
        if (!cli_stdin_has_data() && !cli_stdin_is_tty())
            return cli_usage(p->cc.cmd, "--lines needs stdin to be a pipe, a file or a terminal");
        if (cli_stdin_is_tty()) fputs("reading lines from terminal, end with ^D\n", stderr);
        return 0;
    }
    if (arg && !from_stdin) {
        if (np_buf_adds(&p->body, arg) != 0) return CLI_EXIT_FAIL;
    } else if (from_stdin || (!p->empty && cli_stdin_is_tty())) {
        int rc = read_body(p);
        if (rc == -EINTR) return CLI_EXIT_INTERRUPTED;
        if (rc != 0) {
            cli_error(p->cc.cmd, "cannot read stdin: %s", strerror(-rc));
            return CLI_EXIT_FAIL;
        }
    } else if (!p->empty) {
        return cli_usage(p->cc.cmd, "no body: give BODY, '-' for stdin, or --empty");
    }
    return 0;
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct pub *p = ud;
    if (nargs < 1 || nargs > 2) {
        cli_error(p->cc.cmd, "usage: natsctl pub SUBJECT [BODY|-] (see --help)");
        return CLI_EXIT_USAGE;
    }
    p->msg.subject = args[0];
    p->body_arg = nargs == 2 ? args[1] : NULL;
    char why[160];
    bool templated = !p->msg.literal && cli_tmpl_maybe(args[0], strlen(args[0]));
    /* the body is not read yet: this assumes a one-digit size, publish_one checks again */
    size_t reply_args = (p->reply ? 1 + strlen(p->reply) : 0) + 2;
    if (!templated && !cli_subject_check("subject", args[0], false, reply_args, why, sizeof why))
        return cli_usage(p->cc.cmd, "%s", why);
    if (p->reply &&
        !cli_subject_check("reply subject", p->reply, false, 1 + strlen(args[0]), why, sizeof why))
        return cli_usage(p->cc.cmd, "%s", why);
    return 0;
}

int
cmd_pub(int argc, char **argv, const struct cli_cmd *self)
{
    struct pub *p = calloc(1, sizeof *p);
    if (!p) return CLI_EXIT_FAIL;
    p->cc = (struct cli_conn){
        .cmd = self, .env = &p->env, .on_connected = on_connected, .on_finish = on_finish, .ud = p};
    p->count = 1;
    cli_env_init(&p->env, self);
    int rc = cli_conn_parse(self, &p->env, argc, argv, on_opt, check_args, p);
    if (rc == 0) rc = choose_body(p);
    if (rc == 0) rc = cli_conn_run(&p->cc);
    cli_msg_release(&p->msg);
    np_buf_release(&p->body);
    np_buf_release(&p->input);
    free(p);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
