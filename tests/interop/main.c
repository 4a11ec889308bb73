/*
 * Entry point of the interop binary. run.sh starts one server per configuration and runs one group
 * per server: `interop GROUP URL`, with the secrets of the auth groups in INTEROP_TOKEN,
 * INTEROP_USER and INTEROP_PASS, and the tls group's certificates in the directory INTEROP_CERTS. The exit status is the number of failed tests (capped), so any
 * failure, crash or usage error is non-zero. libnats is closed and waited for at the end so that
 * its background threads do not outlive main under a leak checker.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct group {
    const char *name;
    int (*run)(void);
};

static const struct group groups[] = {
    {"pubsub", interop_run_pubsub}, {"request", interop_run_request},
    {"limits", interop_run_limits}, {"slow", interop_run_slow},
    {"token", interop_run_token},   {"userpass", interop_run_userpass},
    {"users", interop_run_users},   {"js", interop_run_js},
    {"jsc", interop_run_jsc},       {"tls", interop_run_tls},
};

static void
usage(void)
{
    fputs("usage: interop GROUP URL\ngroups:", stderr);
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        fprintf(stderr, " %s", groups[i].name);
    fputc('\n', stderr);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        usage();
        return 2;
    }
    const struct group *g = NULL;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(argv[1], groups[i].name) == 0) g = &groups[i];
    if (g == NULL) {
        usage();
        return 2;
    }
    interop_env.url = argv[2];
    interop_env.token = getenv("INTEROP_TOKEN");
    interop_env.user = getenv("INTEROP_USER");
    interop_env.pass = getenv("INTEROP_PASS");
    interop_env.certs = getenv("INTEROP_CERTS");
    if (nats_Open(-1) != NATS_OK) {
        fputs("interop: cannot initialise libnats\n", stderr);
        return 2;
    }
    int failed = g->run();
    nats_CloseAndWait(5000);
    return failed > 100 ? 100 : failed;
}
