/*
 * :stats: the server's figures from GET /varz on its monitoring port, within a fixed budget so an
 * unreachable port costs the shell two seconds at most.
 */
#include "cli_http.h"
#include "cli_shell.h"
#include "np_url.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define STATS_BUDGET_MS 2000

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

static void
print_figures(const cJSON *doc)
{
    static const char *const fields[] = {"connections",   "subscriptions", "in_msgs",
                                         "out_msgs",      "in_bytes",      "out_bytes",
                                         "slow_consumers"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, fields[i]);
        printf("%-16s %.0f\n", fields[i], cJSON_IsNumber(v) ? v->valuedouble : 0.0);
    }
}

int
cli_shell_stats(struct shell *sh)
{
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
    print_figures(doc);
    cJSON_Delete(doc);
    return CLI_EXIT_OK;
}
