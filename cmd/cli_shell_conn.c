/*
 * The shell's connection: it reconnects forever (the prompt says so), carries the background
 * commands, and is replaced by :connect, after which the background commands subscribe again.
 */
#include "cli_conn.h"
#include "cli_shell.h"
#include "np_url.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
cli_shell_notice(struct shell *sh, const char *fmt, ...)
{
    va_list ap;
    cli_line_hide(&sh->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_line_show(&sh->line);
}

void
cli_shell_prompt_update(struct shell *sh)
{
    char p[600];
    char *shown = cli_redact_servers(sh->server);
    snprintf(p, sizeof p, "%s%s> ", shown ? shown : "natsctl",
             !sh->nc            ? " (not connected)"
             : sh->reconnecting ? " (reconnecting)"
             : !sh->connected   ? " (connecting)"
                                : "");
    free(shown);
    if (sh->interactive) cli_line_set_prompt(&sh->line, p);
}

static void
on_event(struct np_client *c, enum np_client_event ev, int status, void *ud)
{
    struct shell *sh = ud;
    if (c != sh->nc) return;
    switch (ev) {
    case NP_CLIENT_DISCONNECTED:
        sh->reconnecting = status == 0;
        cli_shell_notice(sh, "(disconnected%s)", status == 0 ? ", reconnecting" : "");
        break;
    case NP_CLIENT_RECONNECTED:
        sh->reconnecting = false;
        cli_shell_notice(sh, "(reconnected)");
        break;
    case NP_CLIENT_SERVER_ERROR:
        cli_shell_notice(sh, "(error) server: %s", np_client_last_error(c));
        break;
    case NP_CLIENT_LAME_DUCK:
        cli_shell_notice(sh, "(server entering lame duck mode)");
        break;
    case NP_CLIENT_CONNECTED:
        break;
    }
    cli_shell_prompt_update(sh);
}

static void
on_connect(struct np_client *c, int status, void *ud)
{
    struct shell *sh = ud;
    sh->busy--;
    if (c != sh->nc) return;
    if (status != 0) {
        char why[3072];
        struct cli_env e = sh->env;
        e.server = sh->server;
        cli_conn_why(&e, c, status, why, sizeof why);
        cli_shell_notice(sh, "(error) cannot connect to %s", why);
        sh->async_rc = CLI_EXIT_CONNECT;
        np_client_close(c, NULL, NULL);
        sh->nc = NULL;
    } else {
        sh->connected = true;
        cli_names_refresh(&sh->streams, sh->nc);
    }
    cli_shell_prompt_update(sh);
}

/*
 * Foreground commands connect on their own: they find the shell's server, TLS files and nkey or
 * creds file in these variables.
 */
static void
export_settings(const struct shell *sh)
{
    setenv("NATS_URL", sh->server, 1);
    const char *const vars[][2] = {{"NATS_CA", sh->env.tls_ca},
                                   {"NATS_CERT", sh->env.tls_cert},
                                   {"NATS_KEY", sh->env.tls_key},
                                   {"NATS_NKEY", sh->env.nkey},
                                   {"NATS_CREDS", sh->env.creds}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (vars[i][1]) setenv(vars[i][0], vars[i][1], 1);
}

int
cli_shell_connect(struct shell *sh, const char *servers)
{
    char *copy = strdup(servers);
    if (!copy) return CLI_EXIT_FAIL;
    if (sh->nc) np_client_close(sh->nc, NULL, NULL);
    sh->nc = NULL;
    free(sh->server);
    sh->server = copy;
    sh->connected = sh->reconnecting = false;
    export_settings(sh);
    struct np_client_opts o = cli_conn_client_opts(&sh->env);
    o.servers = sh->server;
    o.max_reconnects = -1;
    o.on_event = on_event;
    o.ud = sh;
    int rc = np_client_new(&sh->nc, &sh->loop, &o);
    if (rc == 0) rc = np_client_connect(sh->nc, on_connect, sh);
    if (rc != 0) {
        bool file = rc == NP_CLIENT_ETLS_FILES || rc == NP_CLIENT_ECREDS_FILES;
        cli_error(sh->cmd, "%s",
                  file && sh->nc ? np_client_last_error(sh->nc) : np_client_strerror(rc));
        if (sh->nc) np_client_close(sh->nc, NULL, NULL);
        sh->nc = NULL;
        return cli_exit_for(rc);
    }
    sh->busy++;
    for (struct job *j = sh->jobs; j; j = j->next)
        cli_shell_job_subscribe(j);
    cli_shell_prompt_update(sh);
    return CLI_EXIT_OK;
}

int
cli_shell_meta_connect(struct shell *sh, int argc, char **argv)
{
    if (argc != 2) return cli_usage(sh->cmd, "usage: :connect URL[,URL...]");
    char *shown = cli_redact_servers(argv[1]);
    for (const char *p = argv[1]; *p;) {
        char one[1024];
        size_t n = strcspn(p, ",");
        struct np_url u;
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        int rc = np_url_parse(&u, one);
        if (rc != 0) {
            cli_error(sh->cmd, "invalid server URL '%s': %s", shown ? shown : "", np_strerror(rc));
            free(shown);
            return CLI_EXIT_USAGE;
        }
        np_url_release(&u);
        p += n + (p[n] == ',');
    }
    free(shown);
    return cli_shell_connect(sh, argv[1]);
}
