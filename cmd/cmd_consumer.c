/*
 * natsctl consumer: JetStream consumers through the JSON API (cli_js.h) with natscli's
 * subcommands and flag names: add, ls, info, rm and next. As with stream, each subcommand is its
 * own row of the command table, and prompts and confirmations happen before connecting and only
 * with a terminal on stdin.
 */
#include "cli.h"
#include "cli_check.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_jsc.h"
#include "cli_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_PULL = 1,
    OPT_TARGET,
    OPT_DELIVER,
    OPT_ACK_POLICY,
    OPT_FILTER,
    OPT_REPLAY,
    OPT_WAIT,
    OPT_MAX_DELIVER,
    OPT_MAX_PENDING,
    OPT_MAX_WAITING,
    OPT_HEARTBEAT,
    OPT_FLOW_CONTROL,
    OPT_HEADERS_ONLY,
    OPT_DELIVER_GROUP,
    OPT_INACTIVE,
    OPT_BACKOFF,
    OPT_DESCRIPTION,
    OPT_DEFAULTS,
    OPT_CONFIG,
    OPT_JSON,
    OPT_FORCE,
    OPT_COUNT,
    OPT_ACK,
    OPT_NO_ACK,
    OPT_RAW,
};

static const char *const acks[] = {"none", "all", "explicit", NULL};
static const char *const replays[] = {"instant", "original", NULL};

/* clang-format off */
#define ROW_JSON {OPT_JSON, "j", "json", NULL, NULL, "print the API response as JSON", NULL}
#define ROW_END {0, NULL, NULL, NULL, NULL, NULL, NULL}
/* clang-format on */

const struct cli_opt cmd_consumer_add_opts[] = {
    {OPT_PULL, NULL, "pull", NULL, NULL, "a pull consumer (the default)", NULL},
    {OPT_TARGET, NULL, "target", NULL, "SUBJECT", "a push consumer delivering to SUBJECT", NULL},
    {OPT_DELIVER, NULL, "deliver", NULL, "WHERE",
     "start: all, new, last, last-per-subject, SEQ, DURATION (1h) or RFC 3339 TIME", NULL},
    {OPT_ACK_POLICY, NULL, "ack", NULL, "POLICY", "none, all or explicit (default)", acks},
    {OPT_FILTER, NULL, "filter", NULL, "SUBJECT", "only messages on SUBJECT", NULL},
    {OPT_REPLAY, NULL, "replay", NULL, "POLICY", "instant (default) or original", replays},
    {OPT_WAIT, NULL, "wait", NULL, "DURATION", "how long an ack is waited for (ack wait)", NULL},
    {OPT_MAX_DELIVER, NULL, "max-deliver", NULL, "N", "most deliveries of a message (-1 any)",
     NULL},
    {OPT_MAX_PENDING, NULL, "max-pending", NULL, "N", "most unacknowledged messages", NULL},
    {OPT_MAX_WAITING, NULL, "max-waiting", NULL, "N", "most waiting pull requests", NULL},
    {OPT_HEARTBEAT, NULL, "heartbeat", NULL, "DURATION", "push: idle heartbeat interval", NULL},
    {OPT_FLOW_CONTROL, NULL, "flow-control", NULL, NULL, "push: flow control", NULL},
    {OPT_HEADERS_ONLY, NULL, "headers-only", NULL, NULL, "deliver headers without bodies", NULL},
    {OPT_DELIVER_GROUP, NULL, "deliver-group", NULL, "GROUP", "push: deliver to a queue group",
     NULL},
    {OPT_INACTIVE, NULL, "inactive-threshold", NULL, "DURATION",
     "delete the consumer after this long unused", NULL},
    {OPT_BACKOFF, NULL, "backoff", NULL, "DURATIONS", "redelivery delays, comma separated", NULL},
    {OPT_DESCRIPTION, NULL, "description", NULL, "TEXT", "a description", NULL},
    {OPT_DEFAULTS, NULL, "defaults", NULL, NULL, "the server's defaults for what is not given",
     NULL},
    {OPT_CONFIG, NULL, "config", NULL, "FILE", "read the configuration from a JSON file", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_consumer_ls_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_consumer_info_opts[] = {ROW_JSON, CLI_GLOBAL_OPT_ROWS, ROW_END};
const struct cli_opt cmd_consumer_rm_opts[] = {
    {OPT_FORCE, "f", "force", NULL, NULL, "do not ask for confirmation", NULL},
    ROW_JSON,
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};
const struct cli_opt cmd_consumer_next_opts[] = {
    {OPT_COUNT, NULL, "count", NULL, "N", "how many messages (default 1)", NULL},
    {OPT_ACK, NULL, "ack", NULL, NULL, "acknowledge each message (the default)", NULL},
    {OPT_NO_ACK, NULL, "no-ack", NULL, NULL, "leave the messages unacknowledged", NULL},
    {OPT_RAW, NULL, "raw", NULL, NULL, "print the bodies only", NULL},
    {OPT_JSON, "j", "json", NULL, NULL, "print one JSON object per message", NULL},
    CLI_GLOBAL_OPT_ROWS,
    ROW_END,
};

const char *const cmd_consumer_subcommands[] = {"add", "info", "ls", "next", "rm", NULL};

const char cmd_consumer_details[] =
    "Subcommands; `natsctl consumer SUBCOMMAND --help` has more:\n"
    "  add STREAM NAME        create a durable consumer (create, new)\n"
    "  ls STREAM              list a stream's consumers (list, l)\n"
    "  info STREAM NAME       show a consumer's configuration and state (i)\n"
    "  rm STREAM NAME         delete a consumer (delete, del)\n"
    "  next STREAM NAME       pull the next messages of a pull consumer\n"
    "\n"
    "Exit status: 0 done, 2 usage (also: a value or a confirmation missing without a\n"
    "terminal), 3 connection, 4 no reply, or next got fewer messages than --count, 5 JetStream\n"
    "is not enabled, 6 the server refused (stream or consumer not found, bad configuration).\n";
const char cmd_consumer_add_details[] =
    "Creates a durable consumer: a pull consumer, or a push consumer with --target. Without a\n"
    "terminal, give --pull or --target, or --defaults (a pull consumer); on one, natsctl asks\n"
    "for the name and for pull or push when they are missing. --config FILE reads a JSON\n"
    "consumer configuration; flags override it.\n"
    "\n"
    "Examples:\n"
    "  natsctl consumer add ORDERS audit --pull --deliver all --ack explicit\n"
    "  natsctl consumer add ORDERS mirror --target mirror.orders --heartbeat 5s --flow-control\n";
const char cmd_consumer_ls_details[] = "Prints one consumer name per line; --json a JSON array.\n";
const char cmd_consumer_info_details[] =
    "Prints the configuration and the state: delivered and ack floor sequences, outstanding\n"
    "acks, redeliveries, waiting pulls and unprocessed messages. --json the API response.\n";
const char cmd_consumer_rm_details[] = "Asks first on a terminal; without one, -f is required.\n";
const char cmd_consumer_next_details[] =
    "Pulls up to --count messages and prints them as sub --stream does (sequence and stored\n"
    "time; --raw, --json). Waits at most --timeout for them: exit 4 when fewer came.\n";

struct consumer {
    struct cli_jsc j; /* first: cli_jsc finds itself through cc.ud */
    struct cli_conn cc;
    struct cli_env env;
    const char *stream, *name, *config_file;
    cJSON *cfg;
    bool json, force, defaults, raw, has_mode, no_ack;
    long long count;
    int64_t offset;
    cJSON *names;
    struct cli_out out;
};

static struct consumer *
of(struct cli_conn *cc)
{
    return cc->ud;
}

/* ---------------------------------------------------------------------------------------------- */
/* Options                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static bool
set_ns(cJSON *cfg, const char *key, const char *arg)
{
    uint64_t ms;
    return cli_parse_duration(arg, &ms) && ms <= INT64_MAX / 1000000 &&
           cli_js_add_int(cfg, key, (int64_t)ms * 1000000);
}

static bool
set_num(cJSON *cfg, const char *key, const char *arg, long long min)
{
    long long n;
    return cli_parse_int(arg, min, INT64_MAX, &n) && cli_js_add_int(cfg, key, n);
}

static bool
set_str(cJSON *cfg, const char *key, const char *arg)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
    return cJSON_AddStringToObject(cfg, key, arg) != NULL;
}

static bool
one_of(const char *const *values, const char *arg)
{
    for (size_t i = 0; values[i]; i++) {
        if (strcmp(values[i], arg) == 0) return true;
    }
    return false;
}

static bool
set_backoff(cJSON *cfg, const char *arg)
{
    cJSON *list = cJSON_CreateArray();
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "backoff");
    cJSON_AddItemToObject(cfg, "backoff", list);
    for (const char *p = arg; *p;) {
        size_t n = strcspn(p, ",");
        char one[64];
        uint64_t ms;
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        if (n >= sizeof one || !cli_parse_duration(one, &ms) || ms > INT64_MAX / 1000000)
            return false;
        snprintf(one, sizeof one, "%" PRIu64, ms * 1000000);
        cJSON_AddItemToArray(list, cJSON_CreateRaw(one));
        p += n + (p[n] == ',');
    }
    return cJSON_GetArraySize(list) > 0;
}

static bool
set_deliver(cJSON *cfg, const char *arg)
{
    uint64_t last_n = 0;
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "deliver_policy");
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "opt_start_seq");
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "opt_start_time");
    return cli_jsc_from(arg, cfg, &last_n) && last_n == 0;
}

static bool
cfg_opt(struct consumer *c, int id, const char *arg)
{
    cJSON *cfg = c->cfg;
    switch (id) {
    case OPT_PULL:
        c->has_mode = true;
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "deliver_subject");
        return true;
    case OPT_TARGET:
        c->has_mode = true;
        return cli_subject_problem(arg, strlen(arg), false) == NULL &&
               set_str(cfg, "deliver_subject", arg);
    case OPT_DELIVER:
        return set_deliver(cfg, arg);
    case OPT_ACK_POLICY:
        return one_of(acks, arg) && set_str(cfg, "ack_policy", arg);
    case OPT_REPLAY:
        return one_of(replays, arg) && set_str(cfg, "replay_policy", arg);
    case OPT_FILTER:
        return cli_subject_problem(arg, strlen(arg), true) == NULL &&
               set_str(cfg, "filter_subject", arg);
    case OPT_WAIT:
        return set_ns(cfg, "ack_wait", arg);
    case OPT_HEARTBEAT:
        return set_ns(cfg, "idle_heartbeat", arg);
    case OPT_INACTIVE:
        return set_ns(cfg, "inactive_threshold", arg);
    case OPT_MAX_DELIVER:
        return set_num(cfg, "max_deliver", arg, -1);
    case OPT_MAX_PENDING:
        return set_num(cfg, "max_ack_pending", arg, -1);
    case OPT_MAX_WAITING:
        return set_num(cfg, "max_waiting", arg, 1);
    case OPT_FLOW_CONTROL:
    case OPT_HEADERS_ONLY:
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, id == OPT_FLOW_CONTROL ? "flow_control"
                                                                            : "headers_only");
        return cJSON_AddTrueToObject(cfg, id == OPT_FLOW_CONTROL ? "flow_control" : "headers_only");
    case OPT_DELIVER_GROUP:
        return set_str(cfg, "deliver_group", arg);
    case OPT_BACKOFF:
        return set_backoff(cfg, arg);
    case OPT_DESCRIPTION:
        return set_str(cfg, "description", arg);
    }
    return false;
}

static int
on_opt(void *ud, int id, const char *arg)
{
    struct consumer *c = ud;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&c->env, id, arg);
    switch (id) {
    case OPT_DEFAULTS:
        c->defaults = true;
        return 0;
    case OPT_CONFIG:
        c->config_file = arg;
        return 0;
    case OPT_JSON:
        c->json = true;
        return 0;
    case OPT_FORCE:
        c->force = true;
        return 0;
    case OPT_ACK:
    case OPT_NO_ACK:
        c->no_ack = id == OPT_NO_ACK;
        return 0;
    case OPT_RAW:
        c->raw = true;
        return 0;
    case OPT_COUNT:
        return cli_parse_int(arg, 1, 1000000, &c->count) ? 0 : cli_bad_value(c->cc.cmd, id, arg);
    }
    return cfg_opt(c, id, arg) ? 0 : cli_bad_value(c->cc.cmd, id, arg);
}

/* ---------------------------------------------------------------------------------------------- */
/* Arguments, prompts and confirmations (before connecting)                                        */
/* ---------------------------------------------------------------------------------------------- */

static bool
valid_name(const char *s)
{
    return *s && strlen(s) < 200 && !strpbrk(s, " \t\r\n\f.*>/\\");
}

static int
want(struct consumer *c, int nargs, char **args, int min, int max, const char *usage)
{
    if (nargs < min || nargs > max)
        return cli_usage(c->cc.cmd, "usage: natsctl %s %s (see --help)", c->cc.cmd->name, usage);
    if (!valid_name(args[0])) return cli_usage(c->cc.cmd, "invalid stream name '%s'", args[0]);
    c->stream = args[0];
    if (nargs < 2) return 0;
    if (!valid_name(args[1])) return cli_usage(c->cc.cmd, "invalid consumer name '%s'", args[1]);
    c->name = args[1];
    return 0;
}

/* The name, and pull or push, asked for on a terminal when missing. */
static int
ask_missing(struct consumer *c)
{
    static char name[200];
    char line[512];
    while (!c->name) {
        if (!cli_js_ask("Consumer name: ", name, sizeof name))
            return cli_usage(c->cc.cmd, "no answer");
        if (valid_name(name)) c->name = name;
    }
    if (c->has_mode || c->defaults || c->config_file) return 0;
    if (!cli_js_ask("Push target subject (--target; Enter for a pull consumer): ", line,
                    sizeof line))
        return cli_usage(c->cc.cmd, "no answer");
    if (*line && !cfg_opt(c, OPT_TARGET, line))
        return cli_usage(c->cc.cmd, "invalid subject '%s'", line);
    return 0;
}

static cJSON *
read_config(struct consumer *c)
{
    struct np_buf b = {0};
    FILE *f = fopen(c->config_file, "r");
    int rc = f ? cli_read_fd(&b, fileno(f)) : -errno;
    if (f) fclose(f);
    cJSON *cfg = rc == 0 ? cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.len) : NULL;
    np_buf_release(&b);
    if (cJSON_IsObject(cfg)) return cfg;
    if (rc != 0)
        cli_error(c->cc.cmd, "cannot read %s: %s", c->config_file, strerror(-rc));
    else
        cli_error(c->cc.cmd, "%s is not a JSON object", c->config_file);
    cJSON_Delete(cfg);
    return NULL;
}

/* The flags' settings over the file's (natscli's order of precedence). */
static int
merge_config(struct consumer *c)
{
    cJSON *base = read_config(c);
    if (!base) return CLI_EXIT_USAGE;
    for (cJSON *it = c->cfg->child; it; it = it->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(base, it->string);
        cJSON_AddItemToObject(base, it->string, cJSON_Duplicate(it, true));
    }
    cJSON_Delete(c->cfg);
    c->cfg = base;
    return 0;
}

static int
check_add(void *ud, int nargs, char **args)
{
    struct consumer *c = ud;
    int rc = want(c, nargs, args, 1, 2, "STREAM NAME [options]");
    if (rc) return rc;
    if (cli_stdin_is_tty()) {
        rc = ask_missing(c);
    } else if (!c->name) {
        rc = cli_usage(c->cc.cmd, "no terminal to ask for the consumer name: give NAME");
    } else if (!c->has_mode && !c->defaults && !c->config_file) {
        rc = cli_usage(c->cc.cmd, "no terminal to ask: give --pull or --target SUBJECT, or "
                                  "--defaults for a pull consumer");
    }
    if (rc == 0 && c->config_file) rc = merge_config(c);
    if (rc) return rc;
    if (!cJSON_GetObjectItemCaseSensitive(c->cfg, "ack_policy"))
        cJSON_AddStringToObject(c->cfg, "ack_policy", "explicit");
    set_str(c->cfg, "durable_name", c->name);
    return 0;
}

static int
check_ls(void *ud, int nargs, char **args)
{
    return want(ud, nargs, args, 1, 1, "STREAM [options]");
}

static int
check_info(void *ud, int nargs, char **args)
{
    return want(ud, nargs, args, 2, 2, "STREAM NAME [options]");
}

static int
check_rm(void *ud, int nargs, char **args)
{
    struct consumer *c = ud;
    char q[600];
    int rc = want(c, nargs, args, 2, 2, "STREAM NAME [-f]");
    if (rc || c->force) return rc;
    if (!cli_stdin_is_tty())
        return cli_usage(c->cc.cmd, "not deleting consumer '%s' without confirmation: use -f",
                         c->name);
    snprintf(q, sizeof q, "Really delete consumer '%s' of stream '%s'?", c->name, c->stream);
    return cli_js_confirm(q) ? 0 : -1;
}

static int
check_next(void *ud, int nargs, char **args)
{
    struct consumer *c = ud;
    if (c->raw && c->json) return cli_usage(c->cc.cmd, "--raw and --json do not go together");
    return want(c, nargs, args, 2, 2, "STREAM NAME [options]");
}

/* ---------------------------------------------------------------------------------------------- */
/* add, info, rm                                                                                   */
/* ---------------------------------------------------------------------------------------------- */

static void
done(struct cli_conn *cc)
{
    cli_conn_finish(cc, CLI_EXIT_OK, false);
}

static void
print_seqs(const char *label, const cJSON *o)
{
    printf("%22s: consumer seq %" PRId64 ", stream seq %" PRId64 "\n", label,
           cli_js_int(o, "consumer_seq", 0), cli_js_int(o, "stream_seq", 0));
}

static void
print_duration(const char *label, const cJSON *cfg, const char *key)
{
    char d[32];
    int64_t ns = cli_js_int(cfg, key, 0);
    if (!ns) return;
    cli_format_duration((uint64_t)ns, d, sizeof d);
    printf("%22s: %s\n", label, d);
}

static void
print_config(const cJSON *cfg)
{
    const char *target = cli_js_str(cfg, "deliver_subject");
    printf("%22s: %s\n", "Durable name",
           *cli_js_str(cfg, "durable_name") ? cli_js_str(cfg, "durable_name") : "(ephemeral)");
    printf("%22s: %s\n", *target ? "Delivery subject" : "Pull mode", *target ? target : "true");
    if (*cli_js_str(cfg, "filter_subject"))
        printf("%22s: %s\n", "Filter subject", cli_js_str(cfg, "filter_subject"));
    printf("%22s: %s\n", "Deliver policy", cli_js_str(cfg, "deliver_policy"));
    if (cli_js_int(cfg, "opt_start_seq", 0))
        printf("%22s: %" PRId64 "\n", "Start sequence", cli_js_int(cfg, "opt_start_seq", 0));
    if (*cli_js_str(cfg, "opt_start_time"))
        printf("%22s: %s\n", "Start time", cli_js_str(cfg, "opt_start_time"));
    printf("%22s: %s\n", "Ack policy", cli_js_str(cfg, "ack_policy"));
    print_duration("Ack wait", cfg, "ack_wait");
    printf("%22s: %s\n", "Replay policy", cli_js_str(cfg, "replay_policy"));
    printf("%22s: %" PRId64 "\n", "Max deliver", cli_js_int(cfg, "max_deliver", -1));
    printf("%22s: %" PRId64 "\n", "Max ack pending", cli_js_int(cfg, "max_ack_pending", 0));
    print_duration("Idle heartbeat", cfg, "idle_heartbeat");
    print_duration("Inactive threshold", cfg, "inactive_threshold");
    if (cli_js_bool(cfg, "flow_control")) printf("%22s: true\n", "Flow control");
    if (cli_js_bool(cfg, "headers_only")) printf("%22s: true\n", "Headers only");
}

static void
print_info(const cJSON *info)
{
    printf("Information for consumer %s > %s created %s\n\nConfiguration:\n\n",
           cli_js_str(info, "stream_name"), cli_js_str(info, "name"), cli_js_str(info, "created"));
    print_config(cJSON_GetObjectItemCaseSensitive(info, "config"));
    printf("\nState:\n\n");
    print_seqs("Last delivered", cJSON_GetObjectItemCaseSensitive(info, "delivered"));
    print_seqs("Acknowledgment floor", cJSON_GetObjectItemCaseSensitive(info, "ack_floor"));
    printf("%22s: %" PRId64 "\n", "Outstanding acks", cli_js_int(info, "num_ack_pending", 0));
    printf("%22s: %" PRId64 "\n", "Redelivered", cli_js_int(info, "num_redelivered", 0));
    printf("%22s: %" PRId64 "\n", "Waiting pulls", cli_js_int(info, "num_waiting", 0));
    printf("%22s: %" PRId64 "\n", "Unprocessed", cli_js_int(info, "num_pending", 0));
}

static void
on_info(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    if (of(cc)->json)
        printf("%.*s\n", (int)raw.len, raw.ptr);
    else
        print_info(resp);
    done(cc);
}

static void
start_add(struct cli_conn *cc)
{
    struct consumer *c = of(cc);
    char api[600];
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "stream_name", c->stream);
    cJSON_AddItemReferenceToObject(body, "config", c->cfg);
    snprintf(api, sizeof api, "CONSUMER.DURABLE.CREATE.%s.%s", c->stream, c->name);
    cli_js_call(cc, api, body, on_info);
    cJSON_Delete(body);
}

static void
start_info(struct cli_conn *cc)
{
    char api[600];
    snprintf(api, sizeof api, "CONSUMER.INFO.%s.%s", of(cc)->stream, of(cc)->name);
    cli_js_call(cc, api, NULL, on_info);
}

static void
on_deleted(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    (void)resp;
    if (of(cc)->json) printf("%.*s\n", (int)raw.len, raw.ptr);
    done(cc);
}

static void
start_rm(struct cli_conn *cc)
{
    char api[600];
    snprintf(api, sizeof api, "CONSUMER.DELETE.%s.%s", of(cc)->stream, of(cc)->name);
    cli_js_call(cc, api, NULL, on_deleted);
}

/* ---------------------------------------------------------------------------------------------- */
/* ls                                                                                              */
/* ---------------------------------------------------------------------------------------------- */

static void ls_page(struct cli_conn *cc);

static void
ls_done(struct cli_conn *cc)
{
    struct consumer *c = of(cc);
    const cJSON *it;
    if (c->json) {
        char *text = cJSON_PrintUnformatted(c->names);
        if (text) puts(text);
        cJSON_free(text);
    } else {
        cJSON_ArrayForEach(it, c->names) puts(it->valuestring);
    }
    done(cc);
}

static void
on_names(struct cli_conn *cc, const cJSON *resp, struct np_str raw)
{
    struct consumer *c = of(cc);
    const cJSON *it;
    int n = 0;
    (void)raw;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(resp, "consumers"))
    {
        n++;
        if (cJSON_IsString(it)) cJSON_AddItemToArray(c->names, cJSON_CreateString(it->valuestring));
    }
    c->offset += n;
    if (n == 0 || c->offset >= cli_js_int(resp, "total", 0))
        ls_done(cc);
    else
        ls_page(cc);
}

static void
ls_page(struct cli_conn *cc)
{
    char api[400];
    cJSON *body = cJSON_CreateObject();
    cli_js_add_int(body, "offset", of(cc)->offset);
    snprintf(api, sizeof api, "CONSUMER.NAMES.%s", of(cc)->stream);
    cli_js_call(cc, api, body, on_names);
    cJSON_Delete(body);
}

static void
start_ls(struct cli_conn *cc)
{
    of(cc)->names = cJSON_CreateArray();
    ls_page(cc);
}

/* ---------------------------------------------------------------------------------------------- */
/* next                                                                                            */
/* ---------------------------------------------------------------------------------------------- */

static void
on_next_msg(struct cli_jsc *j, const struct np_msg *m, const struct cli_jsc_meta *meta)
{
    struct consumer *c = j->ud;
    char when[64];
    struct cli_out_msg om = {.subject = m->subject,
                             .headers = m->headers,
                             .data = m->data,
                             .count = j->received,
                             .stream_seq = meta->stream_seq,
                             .stamp = when};
    om.ts.tv_sec = (time_t)(meta->ts_ns / 1000000000);
    om.ts.tv_nsec = (long)(meta->ts_ns % 1000000000);
    cli_fmt_rfc3339nano(&om.ts, when, sizeof when);
    int rc = cli_out_msg(&c->out, &om);
    if (rc != 0)
        cli_conn_output_failed(&c->cc, rc);
    else if (j->received == (uint64_t)c->count)
        cli_conn_finish(&c->cc, CLI_EXIT_OK, true);
}

static void
on_next_end(struct cli_jsc *j)
{
    struct consumer *c = j->ud;
    cli_error(c->cc.cmd, "timed out after %" PRIu64 " of %lld messages", j->received, c->count);
    cli_conn_finish(&c->cc, CLI_EXIT_TIMEOUT, true);
}

static void
on_next_ready(struct cli_jsc *j)
{
    struct consumer *c = j->ud;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j->info, "config");
    if (*cli_jsc_deliver(j->info)) {
        cli_error(c->cc.cmd, "consumer '%s' is a push consumer: next reads pull consumers",
                  c->name);
        cli_conn_finish(&c->cc, CLI_EXIT_USAGE, false);
        return;
    }
    j->ack = !c->no_ack && strcmp(cli_js_str(cfg, "ack_policy"), "none") != 0;
}

static void
start_next(struct cli_conn *cc)
{
    struct consumer *c = of(cc);
    c->j = (struct cli_jsc){.cc = cc,
                            .stream = c->stream,
                            .single = true,
                            .batch = (uint64_t)c->count,
                            .expires_ms = c->env.timeout_ms,
                            .on_ready = on_next_ready,
                            .on_msg = on_next_msg,
                            .on_end = on_next_end,
                            .ud = c};
    snprintf(c->j.consumer, sizeof c->j.consumer, "%s", c->name);
    cli_jsc_bind(&c->j);
}

static void
on_finish(struct cli_conn *cc)
{
    cli_jsc_cleanup(&of(cc)->j);
}

/* ---------------------------------------------------------------------------------------------- */

static int
run(const struct cli_cmd *self, int argc, char **argv, cli_args_fn check,
    void (*start)(struct cli_conn *))
{
    struct consumer *c = calloc(1, sizeof *c);
    if (!c) return CLI_EXIT_FAIL;
    c->cc = (struct cli_conn){
        .cmd = self, .env = &c->env, .on_connected = start, .on_finish = on_finish, .ud = c};
    c->cfg = cJSON_CreateObject();
    c->count = 1;
    cli_env_init(&c->env, self);
    int rc = cli_conn_parse(self, &c->env, argc, argv, on_opt, check, c);
    if (rc == 0) {
        cli_out_init(&c->out, stdout, cli_out_pick(c->json, c->raw, false, STDOUT_FILENO));
        rc = cli_conn_run(&c->cc);
        cli_out_release(&c->out);
    }
    cJSON_Delete(c->cfg);
    cJSON_Delete(c->names);
    free(c);
    return rc < 0 ? CLI_EXIT_OK : rc;
}

int
cmd_consumer_add(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_add, start_add);
}

int
cmd_consumer_ls(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_ls, start_ls);
}

int
cmd_consumer_info(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_info, start_info);
}

int
cmd_consumer_rm(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_rm, start_rm);
}

int
cmd_consumer_next(int argc, char **argv, const struct cli_cmd *self)
{
    return run(self, argc, argv, check_next, start_next);
}

/* natscli's other names for the subcommands. */
static const char *
canonical(const char *sub)
{
    static const char *const map[][2] = {
        {"create", "add"}, {"new", "add"},   {"list", "ls"}, {"l", "ls"},
        {"i", "info"},     {"delete", "rm"}, {"del", "rm"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(sub, map[i][0]) == 0) return map[i][1];
    }
    return NULL;
}

int
cmd_consumer(int argc, char **argv, const struct cli_cmd *self)
{
    if (argc < 2) return cli_usage(self, "usage: natsctl consumer SUBCOMMAND ... (see --help)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_cmd_help(self, stdout);
        return CLI_EXIT_OK;
    }
    const char *sub = canonical(argv[1]);
    if (!sub) return cli_usage(self, "'%s' is not a consumer subcommand (see --help)", argv[1]);
    char *words[2] = {(char *)"consumer", (char *)sub};
    int used;
    const struct cli_cmd *cmd = cli_cmd_lookup(words, 2, &used);
    return cmd->fn(argc - 1, argv + 1, cmd);
}
