/*
 * natsctl rtt: the round trip time to each server of the list, as natscli's `nats rtt` prints it:
 * each server is visited on a connection of its own, pinged ITERATIONS times one PING after the
 * other, and the average is printed. natscli exits 0 even when a server failed; here a failure is
 * reported on stderr, the server's line says "failed", and the exit code is 3.
 */
#include "cli.h"
#include "cli_conn.h"
#include "cli_env.h"
#include "cli_probe.h"

#include <stdlib.h>
#include <string.h>

enum {
    OPT_ITERATIONS = 1,
};

const struct cli_opt cmd_rtt_opts[] = {
    {OPT_ITERATIONS, NULL, "iterations", NULL, "N", "round trips per server (default 5)", NULL},
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_rtt_details[] =
    "Connects to each server of the list (-s, NATS_URL or the context) in turn, measures\n"
    "ITERATIONS PING/PONG round trips one after the other, and prints their average per\n"
    "server. ITERATIONS may also be given as the argument, as with natscli. Unlike natscli,\n"
    "a host name is measured once, at the address the connection uses, not at each address\n"
    "it resolves to.\n"
    "\n"
    "Exit status: 0 when every server answered, 3 when one could not be reached.\n"
    "\n"
    "Examples:\n"
    "  natsctl rtt\n"
    "  natsctl rtt --iterations 20 -s nats://a:4222,nats://b:4222\n";

struct rtt {
    const struct cli_cmd *cmd;
    struct cli_env env;
    long long iterations;
};

static int
on_opt(void *ud, int id, const char *arg)
{
    struct rtt *r = ud;
    if (cli_env_is_global(id)) return cli_conn_env_opt(&r->env, id, arg);
    if (!cli_parse_int(arg, 1, 1000000, &r->iterations)) return cli_bad_value(r->cmd, id, arg);
    return 0;
}

static int
check_args(void *ud, int nargs, char **args)
{
    struct rtt *r = ud;
    if (nargs > 1) return cli_usage(r->cmd, "unexpected argument '%s'", args[1]);
    if (nargs == 1 && !cli_parse_int(args[0], 1, 1000000, &r->iterations))
        return cli_usage(r->cmd, "invalid iterations '%s' (a number from 1)", args[0]);
    return 0;
}

/* The entries of a comma-separated list, trimmed, as a malloc'd NULL-terminated array. */
static char **
split_servers(const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    char **out = calloc(n + 1, sizeof *out);
    size_t k = 0;
    for (const char *p = list; out;) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s && !(out[k++] = strndup(s, (size_t)(e - s)))) break;
        if (!p[len]) return out;
        p += len + 1;
    }
    for (size_t i = 0; out && i < k; i++)
        free(out[i]);
    free(out);
    return NULL;
}

/*
 * Measures one server and prints its result, with the reason on stderr when it failed. Returns
 * the exit code for this server.
 */
static int
measure(struct rtt *r, const char *server, int width)
{
    struct cli_env one = r->env;
    one.server = server;
    struct cli_probe p = {.env = &one, .pings = (int)r->iterations};
    char shown[512], avg[64];
    cli_redact_url(server, shown, sizeof shown);
    int rc = cli_probe_run(&p);
    if (p.interrupted) return CLI_EXIT_INTERRUPTED;
    if (rc == 0)
        cli_format_duration_short(p.rtt_ns, avg, sizeof avg);
    else if (strcmp(p.where, "connect") == 0)
        cli_error(r->cmd, "cannot connect to %s", p.why);
    else
        cli_error(r->cmd, "%s: %s", shown, p.why);
    printf("%s:\n\n%*s: %s\n\n", shown, width, shown, rc == 0 ? avg : "failed");
    fflush(stdout);
    if (rc == 0) return CLI_EXIT_OK;
    return strcmp(p.where, "connect") == 0 ? CLI_EXIT_CONNECT : cli_exit_for(rc);
}

int
cmd_rtt(int argc, char **argv, const struct cli_cmd *self)
{
    struct rtt r = {.cmd = self, .iterations = 5};
    cli_env_init(&r.env, self);
    int rc = cli_conn_parse(self, &r.env, argc, argv, on_opt, check_args, &r);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    char **servers = split_servers(r.env.server);
    if (!servers) {
        cli_error(self, "out of memory");
        return CLI_EXIT_FAIL;
    }
    if (!servers[0]) rc = cli_usage(self, "no server to measure");
    int width = 3;
    for (char **s = servers; *s; s++) {
        char shown[512];
        int n = (int)cli_redact_url(*s, shown, sizeof shown) + 3;
        if (n > width) width = n;
    }
    for (char **s = servers; rc != CLI_EXIT_USAGE && rc != CLI_EXIT_INTERRUPTED && *s; s++) {
        int one = measure(&r, *s, width);
        if (rc == CLI_EXIT_OK) rc = one;
    }
    for (char **s = servers; *s; s++)
        free(*s);
    free(servers);
    return rc;
}
