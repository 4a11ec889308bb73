/*
 * natsctl server check connection: a monitoring-plugin check with natscli's flags, output line and
 * exit codes, so an existing Nagios/Icinga/Sensu definition for `nats server check connection`
 * works with natsctl in its place.
 *
 * The check connects, times the connection, one PING/PONG and one message sent to itself through
 * a fresh inbox, and compares each time with its warning and critical thresholds. The output is
 * one line, "STATUS Connection Crit:... Warn:... OK:... | perfdata", and the exit code is the
 * monitoring-plugin one: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the check could not run: bad
 * options or settings). This is the one natsctl command whose exit codes are not those of
 * docs/exit-codes.md, because monitoring systems read them.
 *
 * natscli reports an RTT over the warning threshold as critical; here it is a warning, as the
 * flag's name says.
 */
#include "cli.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum check_exit {
    CHECK_OK = 0,
    CHECK_WARNING = 1,
    CHECK_CRITICAL = 2,
    CHECK_UNKNOWN = 3,
};

enum {
    OPT_CONNECT_WARN = 1,
    OPT_CONNECT_CRIT,
    OPT_RTT_WARN,
    OPT_RTT_CRIT,
    OPT_REQ_WARN,
    OPT_REQ_CRIT,
};

const struct cli_opt cmd_check_opts[] = {
    {OPT_CONNECT_WARN, NULL, "connect-warn", NULL, "DURATION",
     "warning threshold for the connect time (default 500ms)", NULL},
    {OPT_CONNECT_CRIT, NULL, "connect-critical", NULL, "DURATION",
     "critical threshold for the connect time (default 1s)", NULL},
    {OPT_RTT_WARN, NULL, "rtt-warn", NULL, "DURATION",
     "warning threshold for the server RTT (default 500ms)", NULL},
    {OPT_RTT_CRIT, NULL, "rtt-critical", NULL, "DURATION",
     "critical threshold for the server RTT (default 1s)", NULL},
    {OPT_REQ_WARN, NULL, "req-warn", NULL, "DURATION",
     "warning threshold for a message's round trip (default 500ms)", NULL},
    {OPT_REQ_CRIT, NULL, "req-critical", NULL, "DURATION",
     "critical threshold for a message's round trip (default 1s)", NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char *const cmd_check_kinds[] = {"connection", NULL};

const char cmd_check_details[] =
    "A check for monitoring systems, with natscli's flags and output: it connects, measures\n"
    "the connect time, the server round trip time (PING/PONG) and the round trip of one\n"
    "message through an inbox, and prints one line in the Nagios plugin format:\n"
    "\n"
    "  OK Connection OK:connected to nats://127.0.0.1:4222 in 1.2ms OK:rtt time 150µs\n"
    "  OK:round trip took 0.000300s | connect_time=0.0012s;0.5000;1.0000 ...\n"
    "\n"
    "(one line; wrapped here). `conn` is short for `connection`.\n"
    "\n"
    "Exit codes (monitoring-plugin codes, not natsctl's usual ones): 0 OK, 1 WARNING (a time\n"
    "reached its warning threshold), 2 CRITICAL (no connection, a failed step, or a time at\n"
    "its critical threshold), 3 UNKNOWN (the check could not run: bad options or settings).\n"
    "\n"
    "Examples:\n"
    "  natsctl server check connection\n"
    "  natsctl server check conn -s nats://nats.example:4222 --rtt-warn 50ms --rtt-critical "
    "200ms\n";

struct check {
    const struct cli_cmd *cmd;
    struct cli_env env;
    uint64_t ms[OPT_REQ_CRIT + 1]; /* thresholds in milliseconds, by option id */
    char crit[4096], warn[2048], ok[2048], perf[1024]; /* " Crit:..." lists and perfdata */
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct check *c = ud;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&c->env, id, arg);
    if (!cli_parse_duration(arg, &c->ms[id])) return cli_bad_value(c->cmd, id, arg);
    return 0;
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct check *c = ud;
    if (nargs < 1) return cli_usage(c->cmd, "missing the check: connection");
    if (strcmp(args[0], "connection") != 0 && strcmp(args[0], "conn") != 0)
        return cli_usage(c->cmd, "unknown check '%s' (natsctl checks: connection)", args[0]);
    if (nargs > 1) return cli_usage(c->cmd, "unexpected argument '%s'", args[1]);
    return 0;
}

static void add(char *buf, size_t cap, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends " <prefix><message>" to one of the result lists. */
static void
add(char *buf, size_t cap, const char *prefix, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len >= cap - 1) return;
    int n = snprintf(buf + len, cap - len, " %s", prefix);
    if (n < 0 || (size_t)n >= cap - len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len + (size_t)n, cap - len - (size_t)n, fmt, ap);
    va_end(ap);
}

#define CRIT(c, ...) add((c)->crit, sizeof(c)->crit, "Crit:", __VA_ARGS__)
#define WARN(c, ...) add((c)->warn, sizeof(c)->warn, "Warn:", __VA_ARGS__)
#define OK(c, ...)   add((c)->ok, sizeof(c)->ok, "OK:", __VA_ARGS__)

/* One perfdata item as natscli writes it: name=value s;warn;crit, seconds to 4 places. */
static void
perf(struct check *c, const char *name, uint64_t ns, uint64_t warn_ms, uint64_t crit_ms)
{
    size_t len = strlen(c->perf);
    char thresholds[64] = "";
    if (warn_ms || crit_ms) {
        int n = warn_ms ? snprintf(thresholds, sizeof thresholds, ";%.4f", (double)warn_ms / 1e3)
                        : snprintf(thresholds, sizeof thresholds, ";");
        if (crit_ms)
            snprintf(thresholds + n, sizeof thresholds - (size_t)n, ";%.4f", (double)crit_ms / 1e3);
    }
    snprintf(c->perf + len, sizeof c->perf - len, "%s%s=%.4fs%s", len ? " " : "", name,
             (double)ns / 1e9, thresholds);
}

/* Which threshold a time reached: 2 critical, 1 warning, 0 neither. */
static int
level(uint64_t ns, uint64_t warn_ms, uint64_t crit_ms)
{
    if (ns >= crit_ms * 1000000) return 2;
    if (ns >= warn_ms * 1000000) return 1;
    return 0;
}

static void
judge_connect(struct check *c, const struct cli_probe *p, const char *url)
{
    uint64_t w = c->ms[OPT_CONNECT_WARN], k = c->ms[OPT_CONNECT_CRIT];
    char took[64];
    perf(c, "connect_time", p->connect_ns, w, k);
    int l = level(p->connect_ns, w, k);
    cli_format_duration(p->connect_ns, took, sizeof took);
    if (l == 2)
        CRIT(c, "connected to %s, connect time exceeded %g", url, (double)k / 1e3);
    else if (l == 1)
        WARN(c, "connected to %s, connect time exceeded %g", url, (double)w / 1e3);
    else
        OK(c, "connected to %s in %s", url, took);
}

static void
judge_rtt(struct check *c, const struct cli_probe *p)
{
    uint64_t w = c->ms[OPT_RTT_WARN], k = c->ms[OPT_RTT_CRIT];
    char took[64];
    perf(c, "rtt", p->rtt_ns, w, k);
    int l = level(p->rtt_ns, w, k);
    cli_format_duration(p->rtt_ns, took, sizeof took);
    if (l == 2)
        CRIT(c, "rtt time exceeded %g", (double)k / 1e3);
    else if (l == 1)
        WARN(c, "rtt time exceeded %g", (double)w / 1e3);
    else
        OK(c, "rtt time %s", took);
}

static void
judge_message(struct check *c, const struct cli_probe *p)
{
    uint64_t w = c->ms[OPT_REQ_WARN], k = c->ms[OPT_REQ_CRIT];
    double secs = (double)p->message_ns / 1e9;
    perf(c, "request_time", p->message_ns, w, k);
    if (!p->message_ok) CRIT(c, "did not receive expected message");
    int l = level(p->message_ns, w, k);
    if (l == 2)
        CRIT(c, "round trip request took %f", secs);
    else if (l == 1)
        WARN(c, "round trip request took %f", secs);
    else
        OK(c, "round trip took %fs", secs);
}

/* Runs the probe and fills the result lists. Returns false when Ctrl-C in the shell ended it. */
static bool
run_check(struct check *c)
{
    struct cli_probe p = {.env = &c->env, .pings = 1, .message = true};
    int rc = cli_probe_run(&p);
    if (p.interrupted) return false;
    char *url = cli_redact_servers(c->env.server);
    if (rc != 0 && strcmp(p.where, "connect") == 0) {
        CRIT(c, "connection failed: %s", p.why);
    } else {
        judge_connect(c, &p, url ? url : "the server");
        if (rc != 0 && strcmp(p.where, "rtt") == 0) {
            CRIT(c, "rtt failed: %s", p.why);
        } else {
            judge_rtt(c, &p);
            if (rc != 0)
                CRIT(c, "did not receive from the inbox: %s", p.why);
            else
                judge_message(c, &p);
        }
    }
    free(url);
    return true;
}

/* Prints the Nagios line and returns its exit code. */
static int
report(struct check *c)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL"};
    int status = *c->crit ? CHECK_CRITICAL : *c->warn ? CHECK_WARNING : CHECK_OK;
    printf("%s Connection%s%s%s%s%s\n", names[status], c->crit, c->warn, c->ok,
           *c->perf ? " | " : "", c->perf);
    return status;
}

int
cmd_server_check(int argc, char **argv, const struct cli_cmd *self)
{
    struct check c = {.cmd = self};
    c.ms[OPT_CONNECT_WARN] = c.ms[OPT_RTT_WARN] = c.ms[OPT_REQ_WARN] = 500;
    c.ms[OPT_CONNECT_CRIT] = c.ms[OPT_RTT_CRIT] = c.ms[OPT_REQ_CRIT] = 1000;
    cli_env_init(&c.env, self);
    int rc = cli_conn_parse(self, &c.env, argc, argv, on_opt, check_args, &c);
    if (rc < 0) return CLI_EXIT_OK;
    if (rc > 0) {
        /* Settings errors (a context natsctl cannot use) are in env.err; option errors only on
         * stderr, already printed. */
        printf("UNKNOWN Connection Unknown:%s\n",
               *c.env.err ? c.env.err : "the check could not run (see stderr)");
        return CHECK_UNKNOWN;
    }
    if (!run_check(&c)) return CLI_EXIT_INTERRUPTED;
    return report(&c);
}
