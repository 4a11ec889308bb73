/*
 * The shared client run loop. Ending is the subtle part: every path (the command is done, a
 * signal, a lost connection, a server error) goes through cli_conn_finish(), which records the exit
 * code, lets the command close its own handles, and closes the signals and the connection; the loop
 * then runs out of handles and cli_conn_run() returns.
 */
#include "cli_conn.h"
#include "cli_host.h"

#include <errno.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

int
cli_exit_for(int err)
{
    switch (err) {
    case 0:
        return CLI_EXIT_OK;
    case NP_CLIENT_ENO_SERVERS:
    case NP_CLIENT_EAUTH:
    case NP_CLIENT_ECLOSED:
    case NP_CLIENT_ETLS:
    case NP_CLIENT_ESECURE:
        return CLI_EXIT_CONNECT;
    case NP_CLIENT_ETLS_FILES:
    case NP_CLIENT_ECREDS_FILES:
        return CLI_EXIT_USAGE;
    case NP_CLIENT_ETIMEOUT:
        return CLI_EXIT_TIMEOUT;
    case NP_CLIENT_ENO_RESPONDERS:
        return CLI_EXIT_NO_RESPONDERS;
    case NP_CLIENT_ESERVER_ERR:
    case NP_CLIENT_EMAX_PAYLOAD:
        return CLI_EXIT_REJECTED;
    case NP_ESUBJECT:
        return CLI_EXIT_USAGE;
    default:
        return np_err_is_url(err) ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
}

int
cli_conn_parse(const struct cli_cmd *cmd, struct cli_env *env, int argc, char **argv,
               cli_opt_fn on_opt, cli_args_fn check, void *ud)
{
    int first = 0;
    int rc = cli_opt_parse(cmd, argc, argv, on_opt, ud, &first);
    if (rc == 0) rc = check(ud, argc - first, argv + first);
    if (rc == 0 && cli_env_resolve(env) != 0) rc = cli_usage(cmd, "%s", env->err);
    return rc;
}

int
cli_conn_env_opt(struct cli_env *e, int id, const char *arg)
{
    int rc = cli_env_opt(e, id, arg);
    if (rc != 0) cli_error(e->cmd, "%s", e->err);
    return rc;
}

/* Where the server list came from, for messages: "from -s", "the default". */
static void
origin(const struct cli_env *e, char *out, size_t cap)
{
    if (!*e->server_from || strcmp(e->server_from, "default") == 0)
        snprintf(out, cap, "the default");
    else
        snprintf(out, cap, "from %s", e->server_from);
}

/* Why the i-th server could not be reached, in the words a user acts on. */
static void
attempt_reason(struct np_client *nc, size_t i, const struct cli_env *e, char *out, size_t cap)
{
    int err = np_client_attempt_error(nc, i);
    switch (err) {
    case NP_CLIENT_ETLS:
        snprintf(out, cap, "TLS handshake failed: %s", np_client_attempt_detail(nc, i));
        return;
    case UV_ECONNREFUSED:
        snprintf(out, cap, "connection refused");
        return;
    case UV_EAI_NONAME:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_NODATA:
        snprintf(out, cap, "name not resolved");
        return;
    case NP_CLIENT_ETIMEOUT:
        if (e->timeout_ms % 1000 == 0)
            snprintf(out, cap, "timed out after %llus", (unsigned long long)e->timeout_ms / 1000);
        else
            snprintf(out, cap, "timed out after %llums", (unsigned long long)e->timeout_ms);
        return;
    case UV_EOF:
    case UV_ECONNRESET:
        snprintf(out, cap, "closed by the server during the handshake");
        return;
    default:
        snprintf(out, cap, "%s", np_client_strerror(err));
        return;
    }
}

/* "URL: reason" for each server of the list, joined by "; ". */
static void
list_reasons(const struct cli_env *e, struct np_client *nc, char *out, size_t cap)
{
    size_t len = 0, i = 0;
    out[0] = '\0';
    for (const char *p = e->server; *p && len < cap; i++) {
        size_t n = strcspn(p, ",");
        char one[512], shown[512], why[128];
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        cli_redact_url(one, shown, sizeof shown);
        attempt_reason(nc, i, e, why, sizeof why);
        int w = snprintf(out + len, cap - len, "%s%s: %s", i ? "; " : "", shown, why);
        len += w > 0 ? (size_t)w : 0;
        p += n + (p[n] == ',');
    }
}

void
cli_conn_why(const struct cli_env *e, struct np_client *nc, int status, char *out, size_t cap)
{
    char from[320], why[2048];
    origin(e, from, sizeof from);
    char *shown = cli_redact_servers(e->server);
    const char *servers = shown ? shown : "the server";
    if (status == NP_CLIENT_EAUTH) {
        const char *text = np_client_last_error(nc);
        snprintf(why, sizeof why, "%s", *text ? text : "authorization violation");
    } else if (status == NP_CLIENT_ETLS_FILES || status == NP_CLIENT_ECREDS_FILES) {
        snprintf(why, sizeof why, "%s", np_client_last_error(nc)); /* which file, and why */
    } else if (status != NP_CLIENT_ENO_SERVERS) {
        snprintf(why, sizeof why, "%s", np_client_strerror(status));
    } else if (!strchr(e->server, ',')) {
        attempt_reason(nc, 0, e, why, sizeof why);
    } else {
        servers = "any server";
        list_reasons(e, nc, why, sizeof why);
    }
    snprintf(out, cap, "%s (%s): %s", servers, from, why);
    free(shown);
}

void
cli_conn_connect_error(const struct cli_cmd *cmd, const struct cli_env *e, struct np_client *nc,
                       int status)
{
    char why[3072];
    cli_conn_why(e, nc, status, why, sizeof why);
    cli_error(cmd, "%s %s", status == NP_CLIENT_EAUTH ? "refused by" : "cannot connect to", why);
}

void
cli_conn_fail(struct cli_conn *cc, int err, const char *what)
{
    if (err == NP_CLIENT_ESERVER_ERR && cc->nc)
        cli_error(cc->cmd, "%s: server error: %s", what, np_client_last_error(cc->nc));
    else
        cli_error(cc->cmd, "%s: %s", what, np_client_strerror(err));
    cli_conn_finish(cc, cli_exit_for(err), false);
}

void
cli_conn_output_failed(struct cli_conn *cc, int err)
{
    /* Reported here, once: drop what stdout still buffers, or main()'s final flush would retry
     * the write and report the same failure a second time. */
    __fpurge(stdout);
    clearerr(stdout);
    if (err == -EPIPE) {
        cli_conn_finish(cc, CLI_EXIT_OK, false);
        return;
    }
    cli_error(cc->cmd, "cannot write output: %s", strerror(-err));
    cli_conn_finish(cc, CLI_EXIT_FAIL, false);
}

static void
close_signals(struct cli_conn *cc)
{
    if (cc->hosted) {
        cli_host_listen(NULL, NULL);
        return;
    }
    for (size_t i = 0; i < 2; i++) {
        if (!uv_is_closing((uv_handle_t *)&cc->sigs[i]))
            uv_close((uv_handle_t *)&cc->sigs[i], NULL);
    }
}

/* The signals stay armed until the connection is gone, so a second Ctrl-C can cut a drain short. */
static void
on_closed(struct np_client *c, int status, void *ud)
{
    struct cli_conn *cc = ud;
    (void)c;
    cc->nc = NULL;
    close_signals(cc);
    if (status != 0 && cc->rc == CLI_EXIT_OK) {
        cli_error(cc->cmd, "drain: %s", np_client_strerror(status));
        cc->rc = cli_exit_for(status);
    }
}

void
cli_conn_finish(struct cli_conn *cc, int rc, bool drain)
{
    if (cc->finishing) {
        if (cc->rc == CLI_EXIT_OK) cc->rc = rc;
        return;
    }
    cc->finishing = true;
    cc->rc = rc;
    if (cc->on_finish) cc->on_finish(cc);
    if (!cc->nc) {
        close_signals(cc);
        return;
    }
    if (!drain || np_client_drain(cc->nc, on_closed, cc) != 0)
        np_client_close(cc->nc, on_closed, cc);
}

/* A signal while already finishing (a slow drain) abandons it. */
static void
on_interrupt(void *ud)
{
    struct cli_conn *cc = ud;
    if (cc->finishing) {
        cc->rc = CLI_EXIT_INTERRUPTED;
        if (cc->nc) np_client_close(cc->nc, on_closed, cc);
    } else {
        cli_conn_finish(cc, cc->long_running ? CLI_EXIT_OK : CLI_EXIT_INTERRUPTED,
                        cc->long_running);
    }
}

static void
on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    on_interrupt(h->data);
}

static void
on_event(struct np_client *c, enum np_client_event ev, int status, void *ud)
{
    struct cli_conn *cc = ud;
    if (cc->finishing) return;
    switch (ev) {
    case NP_CLIENT_DISCONNECTED:
        if (status == 0) {
            cli_error(cc->cmd, "disconnected, reconnecting");
            return;
        }
        cli_error(cc->cmd, "connection lost: %s", np_client_strerror(status));
        cli_conn_finish(cc, CLI_EXIT_CONNECT, false);
        return;
    case NP_CLIENT_RECONNECTED:
        cli_error(cc->cmd, "reconnected");
        return;
    case NP_CLIENT_LAME_DUCK:
        cli_error(cc->cmd, "server entering lame duck mode, will reconnect to another");
        return;
    case NP_CLIENT_SERVER_ERROR:
        cli_error(cc->cmd, "server error: %s", np_client_last_error(c));
        cli_conn_finish(cc, CLI_EXIT_REJECTED, false);
        return;
    case NP_CLIENT_CONNECTED:
        return;
    }
}

static void
on_connect(struct np_client *c, int status, void *ud)
{
    struct cli_conn *cc = ud;
    if (cc->finishing) return;
    if (status != 0) {
        cli_conn_connect_error(cc->cmd, cc->env, c, status);
        cli_conn_finish(cc, status == NP_CLIENT_EAUTH ? CLI_EXIT_CONNECT : cli_exit_for(status),
                        false);
    } else {
        cc->on_connected(cc);
    }
}

/* Returns whether a Ctrl-C came already (hosted: while the command was getting ready). */
static bool
arm_signals(struct cli_conn *cc)
{
    static const int signums[2] = {SIGINT, SIGTERM};
    if (cc->hosted) return cli_host_listen(on_interrupt, cc);
    for (size_t i = 0; i < 2; i++) {
        uv_signal_init(cc->loop, &cc->sigs[i]);
        cc->sigs[i].data = cc;
        uv_signal_start(&cc->sigs[i], on_signal, signums[i]);
    }
    return false;
}

struct np_client_opts
cli_conn_client_opts(const struct cli_env *e)
{
    return (struct np_client_opts){
        .servers = e->server,
        .user = e->user,
        .pass = e->password,
        .token = e->token,
        .name = e->name,
        .timeout_ms = e->timeout_ms,
        .max_reconnects = 0,
        .tls_cert = e->tls_cert,
        .tls_key = e->tls_key,
        .tls_ca = e->tls_ca,
        .nkey_file = e->nkey,
        .creds_file = e->creds,
    };
}

/* Returns 0, or an error after which the loop only has the closing of what was started to run. */
static int
start(struct cli_conn *cc)
{
    const struct cli_env *e = cc->env;
    struct np_client_opts o = cli_conn_client_opts(e);
    o.max_reconnects = cc->long_running ? -1 : 0;
    o.on_event = on_event;
    o.ud = cc;
    bool interrupted = arm_signals(cc);
    int rc = np_client_new(&cc->nc, cc->loop, &o);
    if (rc != 0) {
        cc->nc = NULL;
        close_signals(cc);
        return rc;
    }
    rc = np_client_connect(cc->nc, on_connect, cc);
    if (rc != 0)
        np_client_close(cc->nc, on_closed, cc);
    else if (interrupted)
        on_interrupt(cc);
    return rc;
}

static bool
closed(void *ud)
{
    struct cli_conn *cc = ud;
    return cc->finishing && !cc->nc;
}

int
cli_conn_run(struct cli_conn *cc)
{
    uv_loop_t own;
    cc->loop = cli_host_loop();
    cc->hosted = cc->loop != NULL;
    if (!cc->hosted && uv_loop_init(&own) != 0) {
        cli_error(cc->cmd, "cannot start the event loop");
        return CLI_EXIT_FAIL;
    }
    if (!cc->hosted) cc->loop = &own;
    cc->rc = CLI_EXIT_OK;
    int rc = start(cc);
    if (rc == NP_CLIENT_ETLS_FILES || rc == NP_CLIENT_ECREDS_FILES) {
        cli_error(cc->cmd, "%s", np_client_last_error(cc->nc));
        cc->finishing = true;
        cc->rc = cli_exit_for(rc);
    } else if (rc != 0) {
        cli_error(cc->cmd, "%s", np_client_strerror(rc));
        cc->finishing = true;
        cc->rc = cli_exit_for(rc);
    }
    if (cc->hosted) {
        cli_host_run(closed, cc);
    } else {
        uv_run(&own, UV_RUN_DEFAULT);
        uv_loop_close(&own);
    }
    cc->loop = NULL;
    return cc->rc;
}
