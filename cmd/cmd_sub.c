/*
 * natsctl sub: prints the messages on one or more subjects.
 *
 * Output follows cli_out: pretty banners on a terminal, raw bodies when piped, NDJSON with --json.
 * Once every subscription is confirmed (a flush), one status line on stderr says so; scripts can
 * wait for it before publishing. --count ends after N messages, --wait after a quiet period.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_jsc.h"
#include "cli_out.h"
#include "np_time.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    OPT_QUEUE = 1,
    OPT_COUNT,
    OPT_WAIT,
    OPT_RAW,
    OPT_PRETTY,
    OPT_JSON,
    OPT_TIMESTAMP,
    OPT_DELTA,
    OPT_HEADERS_ONLY,
    OPT_SUBJECTS_ONLY,
    OPT_STREAM,
    OPT_DURABLE,
    OPT_FROM,
    OPT_ACK,
    OPT_NO_ACK,
};

const struct cli_opt cmd_sub_opts[] = {
    {OPT_QUEUE, NULL, "queue", NULL, "GROUP", "join this queue group", NULL},
    {OPT_COUNT, NULL, "count", NULL, "N", "exit 0 after N messages", NULL},
    {OPT_WAIT, NULL, "wait", NULL, "DURATION",
     "stop after this long without a message (exit 4 if --count was not reached)", NULL},
    {OPT_RAW, NULL, "raw", NULL, NULL, "print bodies only (the default when piped)", NULL},
    {OPT_PRETTY, NULL, "pretty", NULL, NULL, "print banners and headers (the default on a TTY)",
     NULL},
    {OPT_JSON, NULL, "json", NULL, NULL, "print one JSON object per message", NULL},
    {OPT_TIMESTAMP, "t", "timestamp", NULL, NULL, "show when each message arrived", NULL},
    {OPT_DELTA, "d", "delta", NULL, NULL, "show the time since the previous message", NULL},
    {OPT_HEADERS_ONLY, NULL, "headers-only", NULL, NULL,
     "print banners and headers without bodies, also when piped", NULL},
    {OPT_SUBJECTS_ONLY, NULL, "subjects-only", NULL, NULL, "print only the subject of each message",
     NULL},
    {OPT_STREAM, NULL, "stream", NULL, "STREAM", "read the stream through a consumer", NULL},
    {OPT_DURABLE, NULL, "durable", NULL, "NAME",
     "use (or create) this durable consumer, to resume where the last run stopped", NULL},
    {OPT_FROM, NULL, "from", NULL, "WHERE",
     "start: all, new, last, last-per-subject, SEQ, DURATION (1h), RFC 3339 TIME or -N", NULL},
    {OPT_ACK, NULL, "ack", NULL, NULL, "acknowledge each message (the default with --durable)",
     NULL},
    {OPT_NO_ACK, NULL, "no-ack", NULL, NULL, "no acknowledgements (the default without --durable)",
     NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_sub_details[] =
    "Subjects may use the wildcards '*' (one token) and '>' (the rest). On a terminal each\n"
    "message shows as a banner, its headers and its body; piped, only the body is printed, one\n"
    "per line. --json prints one object per line with subject, reply, headers, data (or\n"
    "data_b64 when the body is not UTF-8), size and ts. Control bytes show as escapes (\\x1b)\n"
    "in pretty output and on a terminal; raw output to a pipe is byte for byte. Ctrl-C drains\n"
    "the subscriptions and exits 0.\n"
    "\n"
    "Examples:\n"
    "  natsctl sub 'orders.>'\n"
    "  natsctl sub --queue workers jobs.new --count 1 --raw\n"
    "  natsctl sub --json 'sensors.*' | jq .data\n"
    "  natsctl sub logs.app --wait 5s > app.log\n"
    "\n"
    "With --stream, messages come from a stream through a pull consumer (at most one SUBJECT:\n"
    "its filter), oldest first, each with its stream sequence (\"seq\") and stored time (\"ts\").\n"
    "--from picks the start (default all): all, new, last, last-per-subject, a sequence, a\n"
    "duration back from now (1h), an RFC 3339 time, or -N for the last N messages. The\n"
    "consumer is deleted at exit unless it is a --durable, which a later run resumes.\n"
    "\n"
    "  natsctl sub --stream ORDERS --from -10 --count 10\n"
    "  natsctl sub --stream ORDERS orders.new --from 1h --json\n"
    "  natsctl sub --stream ORDERS --durable audit --ack\n";

struct sub {
    struct cli_jsc j; /* first: cli_jsc finds itself through cc.ud */
    struct cli_conn cc;
    struct cli_env env;
    struct cli_out out;
    char **subjects;
    int nsubjects;
    const char *queue;
    uint64_t count, received, wait_ms;
    bool raw, pretty, json, timestamp, delta, headers_only, subjects_only, timer_up;
    uint64_t last_ns;
    uv_timer_t wait_timer;
    const char *stream, *durable, *from;
    int ack; /* -1 unset, 0 --no-ack, 1 --ack */
    uint64_t last_n, skip;
    bool resumed;
    cJSON *config;
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct sub *s = ud;
    long long n;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&s->env, id, arg);
    switch (id) {
    case OPT_QUEUE:
        s->queue = arg;
        return 0;
    case OPT_COUNT:
        if (!cli_parse_int(arg, 1, INT64_MAX, &n))
            return cli_usage(s->cc.cmd, "invalid --count '%s': want a positive whole number", arg);
        s->count = (uint64_t)n;
        return 0;
    case OPT_WAIT:
        if (!cli_parse_duration(arg, &s->wait_ms) || !s->wait_ms)
            return cli_bad_value(s->cc.cmd, id, arg);
        return 0;
    case OPT_RAW:
        s->raw = true;
        return 0;
    case OPT_PRETTY:
        s->pretty = true;
        return 0;
    case OPT_JSON:
        s->json = true;
        return 0;
    case OPT_TIMESTAMP:
        s->timestamp = true;
        return 0;
    case OPT_DELTA:
        s->delta = true;
        return 0;
    case OPT_HEADERS_ONLY:
        s->headers_only = true;
        return 0;
    case OPT_SUBJECTS_ONLY:
        s->subjects_only = true;
        return 0;
    case OPT_STREAM:
        s->stream = arg;
        return 0;
    case OPT_DURABLE:
        s->durable = arg;
        return 0;
    case OPT_FROM:
        s->from = arg;
        return 0;
    case OPT_ACK:
    case OPT_NO_ACK:
        s->ack = id == OPT_ACK;
        return 0;
    }
    return CLI_EXIT_FAIL;
}

/* The " @ ..." text of a pretty banner for -t and -d; NULL when neither is on. */
static const char *
stamp_of(struct sub *s, const struct timespec *now, char *buf, size_t cap)
{
    uint64_t ns = (uint64_t)now->tv_sec * 1000000000u + (uint64_t)now->tv_nsec;
    uint64_t gap = s->last_ns && ns > s->last_ns ? ns - s->last_ns : 0;
    s->last_ns = ns;
    if (!s->timestamp && !s->delta) return NULL;
    char when[32] = "", delta[40] = "";
    if (s->timestamp) cli_fmt_stamp_micro(now, when, sizeof when);
    if (s->delta) {
        char d[32];
        cli_fmt_duration(gap, d, sizeof d);
        snprintf(delta, sizeof delta, "%s+%s", s->timestamp ? " " : "", d);
    }
    snprintf(buf, cap, "%s%s", when, delta);
    return buf;
}

static void
on_wait_expired(uv_timer_t *t)
{
    struct sub *s = t->data;
    if (s->count && s->received < s->count) {
        cli_error(s->cc.cmd, "timed out after %llu of %llu messages",
                  (unsigned long long)s->received, (unsigned long long)s->count);
        cli_conn_finish(&s->cc, CLI_EXIT_TIMEOUT, false);
        return;
    }
    cli_conn_finish(&s->cc, CLI_EXIT_OK, false);
}

/* Prints one message and counts it: --count ends the command, --wait starts over. */
static void
show(struct sub *s, struct cli_out_msg *om)
{
    om->count = ++s->received;
    int rc = cli_out_msg(&s->out, om);
    if (rc != 0) {
        cli_conn_output_failed(&s->cc, rc);
        return;
    }
    if (s->count && s->received == s->count) {
        /* Drained, so the acks and the consumer's delete still reach the server. */
        cli_conn_finish(&s->cc, CLI_EXIT_OK, s->stream != NULL);
        return;
    }
    if (s->wait_ms) uv_timer_again(&s->wait_timer);
}

static void
on_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct sub *s = ud;
    char stamp[80];
    (void)c;
    if (s->cc.finishing) return;
    struct cli_out_msg om = {
        .subject = m->subject, .reply = m->reply, .headers = m->headers, .data = m->data};
    clock_gettime(CLOCK_REALTIME, &om.ts);
    om.stamp = stamp_of(s, &om.ts, stamp, sizeof stamp);
    show(s, &om);
}

/* ---------------------------------------------------------------------------------------------- */
/* --stream                                                                                        */
/* ---------------------------------------------------------------------------------------------- */

/* A stream message shows its sequence and the time the stream stored it. */
static void
on_stream_msg(struct cli_jsc *j, const struct np_msg *m, const struct cli_jsc_meta *meta)
{
    struct sub *s = j->ud;
    char when[64];
    if (s->skip) {
        s->skip--;
        return;
    }
    struct cli_out_msg om = {.subject = m->subject,
                             .headers = m->headers,
                             .data = m->data,
                             .stream_seq = meta->stream_seq,
                             .stamp = when};
    om.ts.tv_sec = (time_t)(meta->ts_ns / 1000000000);
    om.ts.tv_nsec = (long)(meta->ts_ns % 1000000000);
    cli_fmt_rfc3339nano(&om.ts, when, sizeof when);
    show(s, &om);
}

/* -N with a filter: the stream's sequences do not say which are the filter's last N, so the
 * consumer starts at the filter's first message and the ones before the last N are skipped. */
static void
on_stream_ready(struct cli_jsc *j)
{
    struct sub *s = j->ud;
    uint64_t pending = (uint64_t)cli_js_int(j->info, "num_pending", 0);
    if (s->last_n && pending > s->last_n && !s->resumed) s->skip = pending - s->last_n;
    fprintf(stderr, "Reading stream %s through consumer %s\n", s->stream, j->consumer);
}

static void
on_stream_info(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct sub *s = cc->ud;
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(resp, "state");
    int64_t first = cli_js_int(state, "first_seq", 0), last = cli_js_int(state, "last_seq", 0);
    int64_t start = last - (int64_t)s->last_n + 1;
    (void)raw;
    if (last > 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(s->config, "deliver_policy");
        cJSON_AddStringToObject(s->config, "deliver_policy", "by_start_sequence");
        cli_js_add_int(s->config, "opt_start_seq", start > first ? start : first);
    }
    s->last_n = 0;
    cli_jsc_create(&s->j, s->config);
}

static void
create_consumer(struct sub *s)
{
    char api[400];
    if (s->last_n && s->nsubjects == 0) {
        snprintf(api, sizeof api, "STREAM.INFO.%s", s->stream);
        cli_js_call(&s->cc, api, NULL, on_stream_info);
        return;
    }
    cli_jsc_create(&s->j, s->config);
}

/* A durable that exists is resumed as it is; --from only applies to a new one. */
static void
on_durable(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct sub *s = cc->ud;
    char why[512];
    int code;
    (void)raw;
    if (cli_js_error(resp, why, sizeof why, &code)) {
        if (code == 10014)
            create_consumer(s);
        else
            cli_js_refused(cc, resp);
        return;
    }
    if (*cli_jsc_deliver(resp)) {
        cli_error(cc->cmd, "consumer '%s' is a push consumer: sub --stream reads pull consumers",
                  s->durable);
        cli_conn_finish(cc, CLI_EXIT_USAGE, false);
        return;
    }
    const char *policy = cli_js_str(cJSON_GetObjectItemCaseSensitive(resp, "config"), "ack_policy");
    s->j.ack = s->ack != 0 && strcmp(policy, "none") != 0;
    s->resumed = true;
    cli_jsc_start(&s->j, cJSON_Duplicate(resp, true));
}

static void
start_stream(struct sub *s)
{
    char api[600];
    s->j = (struct cli_jsc){.cc = &s->cc,
                            .stream = s->stream,
                            .ack = s->ack == 1 || (s->ack == -1 && s->durable),
                            /* No more than --count is pulled, so a durable keeps the rest. */
                            .batch = s->count < 256 ? s->count : 256,
                            .on_ready = on_stream_ready,
                            .on_msg = on_stream_msg,
                            .ud = s};
    if (!s->durable) {
        create_consumer(s);
        return;
    }
    snprintf(s->j.consumer, sizeof s->j.consumer, "%s", s->durable);
    snprintf(api, sizeof api, "CONSUMER.INFO.%s.%s", s->stream, s->durable);
    cli_js_call_any(&s->cc, api, NULL, on_durable);
}

static void
on_subscribed(struct np_client *c, int status, void *ud)
{
    struct sub *s = ud;
    (void)c;
    if (s->cc.finishing) return;
    if (status != 0) {
        cli_conn_fail(&s->cc, status, "subscribe");
        return;
    }
    fprintf(stderr, "Subscribing on");
    for (int i = 0; i < s->nsubjects; i++)
        fprintf(stderr, " %s", s->subjects[i]);
    if (s->queue) fprintf(stderr, " in queue group %s", s->queue);
    fputc('\n', stderr);
}

static void
on_connected(struct cli_conn *cc)
{
    struct sub *s = cc->ud;
    uv_timer_init(cc->loop, &s->wait_timer);
    s->wait_timer.data = s;
    s->timer_up = true;
    if (s->wait_ms) uv_timer_start(&s->wait_timer, on_wait_expired, s->wait_ms, s->wait_ms);
    if (s->stream) {
        start_stream(s);
        return;
    }
    for (int i = 0; i < s->nsubjects; i++) {
        int64_t sid = np_client_subscribe(cc->nc, s->subjects[i], s->queue, 0, on_msg, s);
        if (sid < 0) {
            cli_conn_fail(cc, (int)sid, "subscribe");
            return;
        }
    }
    int rc = np_client_flush(cc->nc, on_subscribed, s);
    if (rc != 0) cli_conn_fail(cc, rc, "subscribe");
}

static void
on_finish(struct cli_conn *cc)
{
    struct sub *s = cc->ud;
    if (s->timer_up) uv_close((uv_handle_t *)&s->wait_timer, NULL);
    s->timer_up = false;
    if (s->stream) cli_jsc_cleanup(&s->j);
}

/* --headers-only is the pretty layout without bodies, so it goes with --pretty and nothing else. */
static int
check_output(struct sub *s)
{
    const char *const names[] = {"--raw", "--json", "--subjects-only",
                                 s->headers_only ? "--headers-only" : "--pretty"};
    const bool set[] = {s->raw, s->json, s->subjects_only, s->pretty || s->headers_only};
    char msg[128];
    return cli_out_one_format(4, names, set, msg, sizeof msg) ? 0 : cli_usage(s->cc.cmd, "%s", msg);
}

static bool
valid_name(const char *name)
{
    return *name && strlen(name) < 200 && !strpbrk(name, " \t\r\n.*>");
}

/* The consumer --stream creates when there is no durable of that name yet. */
static int
stream_config(struct sub *s, int nargs, char **args)
{
    s->config = cJSON_CreateObject();
    if (!cli_jsc_from(s->from ? s->from : "all", s->config, &s->last_n))
        return cli_usage(s->cc.cmd, "invalid --from '%s' (see --help)", s->from);
    bool ack = s->ack == 1 || (s->ack == -1 && s->durable);
    cJSON_AddStringToObject(s->config, "ack_policy", ack ? "explicit" : "none");
    /* last_per_subject needs a filter even when it is the whole stream. */
    const char *filter = nargs == 1                                            ? args[0]
                         : s->from && strcmp(s->from, "last-per-subject") == 0 ? ">"
                                                                               : NULL;
    if (filter) cJSON_AddStringToObject(s->config, "filter_subject", filter);
    if (s->durable) cJSON_AddStringToObject(s->config, "durable_name", s->durable);
    return 0;
}

static int
check_stream(struct sub *s, int nargs, char **args)
{
    char why[160];
    if (!s->stream) {
        if (s->durable || s->from || s->ack != -1)
            return cli_usage(s->cc.cmd, "--durable, --from, --ack and --no-ack need --stream");
        return 0;
    }
    if (!valid_name(s->stream)) return cli_usage(s->cc.cmd, "invalid stream name '%s'", s->stream);
    if (s->durable && !valid_name(s->durable))
        return cli_usage(s->cc.cmd, "invalid consumer name '%s'", s->durable);
    if (nargs > 1 || s->queue)
        return cli_usage(s->cc.cmd,
                         "--stream takes at most one SUBJECT (the filter) and no --queue");
    if (nargs == 1 && !cli_subject_check("subject", args[0], true, 0, why, sizeof why))
        return cli_usage(s->cc.cmd, "%s", why);
    return stream_config(s, nargs, args);
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct sub *s = ud;
    int rc = check_stream(s, nargs, args);
    if (rc != 0 || s->stream) {
        if (rc == 0) rc = check_output(s);
        s->nsubjects = nargs;
        return rc;
    }
    if (nargs < 1) return cli_usage(s->cc.cmd, "usage: natsctl sub SUBJECT... (see --help)");
    rc = check_output(s);
    if (rc != 0) return rc;
    if (s->queue && (!*s->queue || strpbrk(s->queue, " \t\r\n")))
        return cli_usage(s->cc.cmd, "invalid queue group '%s'", s->queue);
    /* SUB subject [queue] sid */
    size_t others = (s->queue ? 1 + strlen(s->queue) : 0) + 1 + cli_digits(UINT32_MAX);
    char why[160];
    for (int i = 0; i < nargs; i++) {
        if (!cli_subject_check("subject", args[i], true, others, why, sizeof why))
            return cli_usage(s->cc.cmd, "%s", why);
    }
    s->subjects = args;
    s->nsubjects = nargs;
    return 0;
}

static void
setup_output(struct sub *s)
{
    bool pretty = s->pretty || s->headers_only;
    enum cli_out_mode mode = cli_out_pick(s->json, s->raw, pretty, STDOUT_FILENO);
    if (s->subjects_only) mode = CLI_OUT_SUBJECTS;
    cli_out_init(&s->out, stdout, mode);
    s->out.headers_only = s->headers_only;
}

int
cmd_sub(int argc, char **argv, const struct cli_cmd *self)
{
    struct sub *s = calloc(1, sizeof *s);
    if (!s) return CLI_EXIT_FAIL;
    s->cc = (struct cli_conn){
        .cmd = self, .env = &s->env, .on_connected = on_connected, .on_finish = on_finish, .ud = s};
    s->ack = -1;
    cli_env_init(&s->env, self);
    int rc = cli_conn_parse(self, &s->env, argc, argv, on_opt, check_args, s);
    if (rc == 0) {
        s->cc.long_running = s->count == 0;
        setup_output(s);
        rc = cli_conn_run(&s->cc);
        cli_out_release(&s->out);
    }
    cJSON_Delete(s->config);
    free(s);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
