/*
 * natsctl request: sends a request and prints the replies with their round-trip times.
 *
 * Replies arrive on an inbox of our own rather than the client's muxed one, because a
 * scatter-gather (--replies) takes many replies to one request. Two timers bound the wait: the
 * overall --timeout, and once the first reply is in, a gap timer (--reply-gap) that ends the
 * collection when responders go quiet. --count repeats the whole exchange.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_host.h"
#include "cli_msg.h"
#include "cli_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_HEADER = 1,
    OPT_COUNT,
    OPT_REPLIES,
    OPT_REPLY_GAP,
    OPT_RAW,
    OPT_PRETTY,
    OPT_JSON,
    OPT_NO_TEMPLATES,
    OPT_FAIL_ON_SERVICE_ERROR,
};

const struct cli_opt cmd_request_opts[] = {
    {OPT_HEADER, "H", "header", NULL, "KEY:VALUE", "add a header (repeatable)", NULL},
    {OPT_COUNT, NULL, "count", NULL, "N", "send N requests, one after another (default 1)", NULL},
    {OPT_REPLIES, NULL, "replies", NULL, "N",
     "wait for N replies per request; 0 = as many as arrive (default 1)", NULL},
    {OPT_REPLY_GAP, NULL, "reply-gap", NULL, "DURATION",
     "with --replies, stop when no reply came for this long (default 300ms)", NULL},
    {OPT_RAW, NULL, "raw", NULL, NULL, "print reply bodies only (the default when piped)", NULL},
    {OPT_PRETTY, NULL, "pretty", NULL, NULL, "print round-trip time, headers and body", NULL},
    {OPT_JSON, NULL, "json", NULL, NULL, "print one JSON object per reply, with rtt_us", NULL},
    {OPT_NO_TEMPLATES, NULL, "no-templates", NULL, NULL, "send {{...}} placeholders as they are",
     NULL},
    {OPT_FAIL_ON_SERVICE_ERROR, NULL, "fail-on-service-error", NULL, NULL,
     "exit 6 when a reply carries a Nats-Service-Error-Code header", NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_request_details[] =
    "Sends BODY (or stdin when BODY is '-' or stdin is a pipe or a file; else an empty body)\n"
    "and waits up to --timeout for the reply. The placeholders of 'natsctl pub' work here too.\n"
    "With --replies N it collects up to N replies (all of them with 0), ending early once\n"
    "--reply-gap passes without one.\n"
    "\n"
    "Exit status: 0 with the replies asked for, 4 on a timeout (or fewer replies than\n"
    "--replies), 5 when no service listens on the subject.\n"
    "\n"
    "Examples:\n"
    "  natsctl request time.now ''\n"
    "  natsctl request --replies 0 --reply-gap 100ms discovery.ping '' --json\n"
    "  natsctl request -H auth:abc --timeout 500ms orders.get '{\"id\":7}'\n";

#define DEFAULT_GAP_MS 300

struct request {
    struct cli_conn cc;
    struct cli_env env;
    struct cli_msg msg;
    struct cli_out out;
    struct np_buf body;
    uint64_t count, done, want, got, gap_ms;
    bool raw, pretty, json, fail_on_service_error, timers_up;
    char inbox[64];
    uint64_t sent_ns;
    uv_timer_t timeout_timer, gap_timer;
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct request *r = ud;
    long long n;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&r->env, id, arg);
    switch (id) {
    case OPT_HEADER: {
        const char *why = cli_header_add(&r->msg, arg);
        return why ? cli_usage(r->cc.cmd, "invalid -H '%s': %s", arg, why) : 0;
    }
    case OPT_COUNT:
        if (!cli_parse_int(arg, 1, INT64_MAX, &n))
            return cli_usage(r->cc.cmd, "invalid --count '%s': want a positive whole number", arg);
        r->count = (uint64_t)n;
        return 0;
    case OPT_REPLIES:
        if (!cli_parse_int(arg, 0, INT64_MAX, &n)) return cli_bad_value(r->cc.cmd, id, arg);
        r->want = (uint64_t)n;
        return 0;
    case OPT_REPLY_GAP:
        if (!cli_parse_duration(arg, &r->gap_ms) || !r->gap_ms)
            return cli_bad_value(r->cc.cmd, id, arg);
        return 0;
    case OPT_RAW:
        r->raw = true;
        return 0;
    case OPT_PRETTY:
        r->pretty = true;
        return 0;
    case OPT_JSON:
        r->json = true;
        return 0;
    case OPT_NO_TEMPLATES:
        r->msg.literal = true;
        return 0;
    case OPT_FAIL_ON_SERVICE_ERROR:
        r->fail_on_service_error = true;
        return 0;
    }
    return CLI_EXIT_FAIL;
}

static uint64_t
now_ns(void)
{
    return uv_hrtime();
}

static void send_request(struct request *r);

/* One request is over: either the next one goes out, or the command ends with rc. */
static void
request_done(struct request *r, int rc)
{
    uv_timer_stop(&r->timeout_timer);
    uv_timer_stop(&r->gap_timer);
    if (rc != CLI_EXIT_OK || ++r->done == r->count) {
        cli_conn_finish(&r->cc, rc, false);
        return;
    }
    send_request(r);
}

static void
on_timeout(uv_timer_t *t)
{
    struct request *r = t->data;
    if (r->want == 0 && r->got > 0) {
        request_done(r, CLI_EXIT_OK);
        return;
    }
    if (r->got == 0)
        cli_error(r->cc.cmd, "no reply on '%s' within the timeout", r->msg.out_subject);
    else
        cli_error(r->cc.cmd, "only %llu of %llu replies within the timeout",
                  (unsigned long long)r->got, (unsigned long long)r->want);
    request_done(r, CLI_EXIT_TIMEOUT);
}

static void
on_gap(uv_timer_t *t)
{
    struct request *r = t->data;
    if (r->want == 0) {
        request_done(r, CLI_EXIT_OK);
        return;
    }
    cli_error(r->cc.cmd, "only %llu of %llu replies before responders went quiet",
              (unsigned long long)r->got, (unsigned long long)r->want);
    request_done(r, CLI_EXIT_TIMEOUT);
}

static bool
service_error(const struct np_msg *m)
{
    struct np_hdr h;
    struct np_str v;
    return m->headers.len && np_hdr_parse(&h, m->headers.ptr, m->headers.len) == 0 &&
           np_hdr_get(&h, "Nats-Service-Error-Code", &v);
}

static int
print_reply(struct request *r, const struct np_msg *m, uint64_t rtt_ns)
{
    char rtt[32], banner[64];
    cli_fmt_duration(rtt_ns, rtt, sizeof rtt);
    snprintf(banner, sizeof banner, "Received with rtt %s", rtt);
    struct cli_out_msg om = {.subject = m->subject,
                             .headers = m->headers,
                             .data = m->data,
                             .count = r->got,
                             .banner = banner,
                             .has_rtt = true,
                             .rtt_ns = rtt_ns};
    clock_gettime(CLOCK_REALTIME, &om.ts);
    return cli_out_msg(&r->out, &om);
}

static void
on_reply(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct request *r = ud;
    (void)c;
    if (r->cc.finishing) return;
    uint64_t rtt = now_ns() - r->sent_ns;
    if (m->status == NP_STATUS_NO_RESPONDERS && m->data.len == 0) {
        if (r->got > 0) return; /* late news: someone did answer */
        cli_error(r->cc.cmd, "no responders on '%s'", r->msg.out_subject);
        request_done(r, CLI_EXIT_NO_RESPONDERS);
        return;
    }
    r->got++;
    int rc = print_reply(r, m, rtt);
    if (rc != 0) {
        cli_conn_output_failed(&r->cc, rc);
        return;
    }
    if (r->fail_on_service_error && service_error(m)) {
        cli_error(r->cc.cmd, "the service answered with an error");
        request_done(r, CLI_EXIT_REJECTED);
    } else if (r->want && r->got >= r->want) {
        request_done(r, CLI_EXIT_OK);
    } else {
        uv_timer_start(&r->gap_timer, on_gap, r->gap_ms, 0);
    }
}

static void
send_request(struct request *r)
{
    struct cli_tmpl_ctx ctx = {.count = r->done + 1};
    struct cli_msg *m = &r->msg;
    char why[160];
    r->got = 0;
    m->body = (struct np_str){r->body.ptr ? r->body.ptr : "", r->body.len};
    int rc = cli_msg_render(m, &ctx);
    size_t args =
        cli_pub_args(strlen(r->inbox), m->out_headers.len, m->out_headers.len + m->out_data.len);
    bool fits =
        rc != 0 || cli_subject_check("subject", m->out_subject, false, args, why, sizeof why);
    if (rc == 0 && fits) {
        r->sent_ns = now_ns();
        rc = np_client_publish(r->cc.nc, m->out_subject, r->inbox, m->out_headers, m->out_data);
    }
    if (rc == NP_CLIENT_EMAX_PAYLOAD)
        cli_payload_problem(r->cc.nc, m->out_headers.len, m->out_data.len, why, sizeof why);
    if (!fits) {
        cli_error(r->cc.cmd, "%s", why);
        cli_conn_finish(&r->cc, CLI_EXIT_USAGE, false);
    } else if (rc == NP_CLIENT_EMAX_PAYLOAD) {
        cli_error(r->cc.cmd, "%s", why);
        cli_conn_finish(&r->cc, CLI_EXIT_REJECTED, false);
    } else if (rc == NP_EHEADER) {
        cli_error(r->cc.cmd, "a header expanded to an invalid value");
        cli_conn_finish(&r->cc, CLI_EXIT_USAGE, false);
    } else if (rc != 0) {
        cli_conn_fail(&r->cc, rc, "cannot send the request");
    } else {
        uv_timer_start(&r->timeout_timer, on_timeout, r->env.timeout_ms, 0);
    }
}

static void
on_connected(struct cli_conn *cc)
{
    struct request *r = cc->ud;
    uv_timer_init(cc->loop, &r->timeout_timer);
    uv_timer_init(cc->loop, &r->gap_timer);
    r->timeout_timer.data = r->gap_timer.data = r;
    r->timers_up = true;
    np_client_new_inbox(cc->nc, r->inbox, sizeof r->inbox);
    int64_t sid = np_client_subscribe(cc->nc, r->inbox, NULL, 0, on_reply, r);
    if (sid < 0) {
        cli_conn_fail(cc, (int)sid, "subscribe");
        return;
    }
    send_request(r);
}

static void
on_finish(struct cli_conn *cc)
{
    struct request *r = cc->ud;
    if (!r->timers_up) return;
    r->timers_up = false;
    uv_close((uv_handle_t *)&r->timeout_timer, NULL);
    uv_close((uv_handle_t *)&r->gap_timer, NULL);
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct request *r = ud;
    if (nargs < 1 || nargs > 2)
        return cli_usage(r->cc.cmd, "usage: natsctl request SUBJECT [BODY|-] (see --help)");
    const char *const formats[] = {"--raw", "--pretty", "--json"};
    const bool set[] = {r->raw, r->pretty, r->json};
    char msg[128];
    if (!cli_out_one_format(3, formats, set, msg, sizeof msg))
        return cli_usage(r->cc.cmd, "%s", msg);
    r->msg.subject = args[0];
    bool templated = !r->msg.literal && cli_tmpl_maybe(args[0], strlen(args[0]));
    char why[160];
    if (!templated && !cli_subject_check("subject", args[0], false, 0, why, sizeof why))
        return cli_usage(r->cc.cmd, "%s", why);
    bool from_stdin = nargs == 2 ? strcmp(args[1], "-") == 0 : cli_stdin_has_data();
    int rc = from_stdin   ? cli_host_read_fd(&r->body, STDIN_FILENO)
             : nargs == 2 ? np_buf_adds(&r->body, args[1])
                          : 0;
    if (rc == -EINTR) return CLI_EXIT_INTERRUPTED;
    if (rc != 0) {
        cli_error(r->cc.cmd, "cannot read the body: %s", strerror(-rc));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

int
cmd_request(int argc, char **argv, const struct cli_cmd *self)
{
    struct request *r = calloc(1, sizeof *r);
    if (!r) return CLI_EXIT_FAIL;
    r->cc = (struct cli_conn){
        .cmd = self, .env = &r->env, .on_connected = on_connected, .on_finish = on_finish, .ud = r};
    r->count = r->want = 1;
    r->gap_ms = DEFAULT_GAP_MS;
    cli_env_init(&r->env, self);
    int rc = cli_conn_parse(self, &r->env, argc, argv, on_opt, check_args, r);
    if (rc == 0) {
        cli_out_init(&r->out, stdout, cli_out_pick(r->json, r->raw, r->pretty, STDOUT_FILENO));
        rc = cli_conn_run(&r->cc);
        cli_out_release(&r->out);
    }
    cli_msg_release(&r->msg);
    np_buf_release(&r->body);
    free(r);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
