/*
 * Configuration reload, as nats-server 2.9.10's Reload(): the new configuration is compared with
 * the running one option by option, in nats-server's order. One option that cannot change refuses
 * the whole reload and nothing changes; otherwise each change is logged ("Reloaded: debug = true"),
 * applied, and every client is checked again against the new authorization (nb_client.c).
 *
 * What natsctl reloads: authorization (token, user and password, users and their permissions,
 * no_auth_user as far as nats-server allows, timeout), the client port's TLS block (for new
 * connections: the ones made keep their session and its context) with its handshake timeout, and
 * the logging options (debug, trace, logtime, log_file: the caller's logger is told). nats-server reloads a few more (max_payload, ping_interval, routes...): natsctl
 * refuses those with nats-server's own words for an option it cannot reload.
 */
#include "nb_reload.h"
#include "nb_auth.h"
#include "nb_client.h"
#include "nb_srv.h"
#include "nb_tls.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diff -------------------------------------------------------------------------------------- */

static bool
same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

void
nb__go_duration(int64_t ms, char *buf, size_t cap)
{
    if (ms == 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf(buf, cap, "%" PRId64 "ms", ms);
        return;
    }
    int64_t s = ms / 1000, frac = ms % 1000;
    int n = 0;
    if (s >= 3600) n = snprintf(buf, cap, "%" PRId64 "h", s / 3600);
    if (s >= 60) n += snprintf(buf + n, cap - (size_t)n, "%" PRId64 "m", s % 3600 / 60);
    n += snprintf(buf + n, cap - (size_t)n, "%" PRId64, s % 60);
    if (frac) {
        char digits[8];
        snprintf(digits, sizeof digits, "%03" PRId64, frac);
        for (size_t k = strlen(digits); k > 0 && digits[k - 1] == '0'; k--)
            digits[k - 1] = '\0';
        n += snprintf(buf + n, cap - (size_t)n, ".%s", digits);
    }
    snprintf(buf + n, cap - (size_t)n, "s");
}

static int
refuse(char *msg, size_t cap, const char *name, const char *old, const char *new)
{
    snprintf(msg, cap, "config reload not supported for %s: old=%s, new=%s", name, old ? old : "",
             new ? new : "");
    return NB_ECONFIG;
}

static int
refuse_int(char *msg, size_t cap, const char *name, int64_t old, int64_t new)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "%" PRId64, old);
    snprintf(b, sizeof b, "%" PRId64, new);
    return refuse(msg, cap, name, a, b);
}

static int
refuse_dur(char *msg, size_t cap, const char *name, int64_t old, int64_t new)
{
    char a[48], b[48];
    nb__go_duration(old, a, sizeof a);
    nb__go_duration(new, b, sizeof b);
    return refuse(msg, cap, name, a, b);
}

static int
refuse_bool(char *msg, size_t cap, const char *name, bool old, bool new)
{
    return refuse(msg, cap, name, old ? "true" : "false", new ? "true" : "false");
}

/* Whether cfg's users list has a user called name. */
static bool
has_user(const struct nb_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nusers; i++) {
        if (same_str(cfg->users[i].name, name)) return true;
    }
    return false;
}

/*
 * nats-server's rule: no_auth_user may only go away together with its user; setting or changing
 * it is refused.
 */
static int
diff_no_auth_user(const struct nb_config *old, const struct nb_config *new, char *msg, size_t cap)
{
    if (same_str(old->no_auth_user, new->no_auth_user)) return 0;
    bool dropped =
        old->no_auth_user && *old->no_auth_user && (!new->no_auth_user || !*new->no_auth_user);
    if (dropped && !has_user(new, old->no_auth_user)) return 0;
    return refuse(msg, cap, "NoAuthUser", old->no_auth_user, new->no_auth_user);
}

/* The same route URLs, in any order (nats-server sorts them before comparing). */
static bool
same_routes(const struct nb_config *a, const struct nb_config *b)
{
    if (a->nroutes != b->nroutes) return false;
    for (size_t i = 0; i < a->nroutes; i++) {
        size_t in_a = 0, in_b = 0;
        for (size_t k = 0; k < a->nroutes; k++) {
            in_a += same_str(a->routes[i], a->routes[k]);
            in_b += same_str(a->routes[i], b->routes[k]);
        }
        if (in_a != in_b) return false;
    }
    return true;
}

/* The cluster block: nats-server reloads some of it, natsctl none; its words for host and port. */
/* The settings the client port's TLS context is made from (its timeout and pins aside). */
static bool
same_tls(const struct nb_tls_config *a, const struct nb_tls_config *b)
{
    return a->enabled == b->enabled && same_str(a->cert_file, b->cert_file) &&
           same_str(a->key_file, b->key_file) && same_str(a->ca_file, b->ca_file) &&
           a->verify == b->verify && a->map == b->map && a->min_version == b->min_version &&
           same_str(a->ciphers, b->ciphers) && same_str(a->curves, b->curves);
}

static int
diff_cluster(const struct nb_config *o, const struct nb_config *n, char *msg, size_t cap)
{
    if (!same_str(o->cluster_host, n->cluster_host))
        return refuse(msg, cap, "cluster host", o->cluster_host, n->cluster_host);
    if (o->cluster_port != n->cluster_port && n->cluster_port != -1)
        return refuse_int(msg, cap, "cluster port", o->cluster_port, n->cluster_port);
    if (!same_str(o->cluster_name, n->cluster_name))
        return refuse(msg, cap, "cluster name", o->cluster_name, n->cluster_name);
    if (!same_str(o->cluster_advertise, n->cluster_advertise))
        return refuse(msg, cap, "cluster advertise", o->cluster_advertise, n->cluster_advertise);
    if (o->cluster_no_advertise != n->cluster_no_advertise)
        return refuse_bool(msg, cap, "cluster no_advertise", o->cluster_no_advertise,
                           n->cluster_no_advertise);
    if (o->connect_retries != n->connect_retries)
        return refuse_int(msg, cap, "cluster connect_retries", o->connect_retries,
                          n->connect_retries);
    if (!same_str(o->cluster_user, n->cluster_user) || !same_str(o->cluster_pass, n->cluster_pass))
        return refuse(msg, cap, "cluster authorization", "", "");
    if (o->cluster_auth_timeout_ms != n->cluster_auth_timeout_ms)
        return refuse_dur(msg, cap, "cluster authorization timeout", o->cluster_auth_timeout_ms,
                          n->cluster_auth_timeout_ms);
    /* Routes already up keep the context they were made with: a change would only half apply. */
    if (!same_tls(&o->cluster_tls, &n->cluster_tls) ||
        o->cluster_tls.insecure != n->cluster_tls.insecure ||
        o->cluster_tls.timeout_ms != n->cluster_tls.timeout_ms ||
        !same_str(o->cluster_tls.pinned, n->cluster_tls.pinned))
        return refuse(msg, cap, "cluster tls", "", "");
    return 0;
}

/*
 * The set of accounts and the system account: a client lives in an account's subject space, and
 * moving spaces under running subscriptions is not something natsctl does on a reload. Users may
 * still change within the accounts that stay.
 */
static int
diff_accounts(const struct nb_config *o, const struct nb_config *n, char *msg, size_t cap)
{
    bool same = o->naccounts == n->naccounts && same_str(o->system_account, n->system_account);
    for (size_t i = 0; same && i < o->naccounts; i++)
        same = same_str(o->accounts[i], n->accounts[i]);
    return same ? 0 : refuse(msg, cap, "accounts", "", "");
}

/* The options up to AuthTimeout in nats-server's order that natsctl cannot change. */
static int
diff_head(const struct nb_config *o, const struct nb_config *n, char *msg, size_t cap)
{
    if (!same_str(o->server_name, n->server_name))
        return refuse(msg, cap, "ServerName", o->server_name, n->server_name);
    if (!same_str(o->host, n->host)) return refuse(msg, cap, "Host", o->host, n->host);
    /* A random port (0) is whatever the running one is. */
    if (o->port != n->port && n->port != 0) return refuse_int(msg, cap, "Port", o->port, n->port);
    if (!same_str(o->client_advertise, n->client_advertise))
        return refuse(msg, cap, "ClientAdvertise", o->client_advertise, n->client_advertise);
    if (o->max_connections != n->max_connections)
        return refuse_int(msg, cap, "MaxConn", o->max_connections, n->max_connections);
    if (o->max_subscriptions != n->max_subscriptions)
        return refuse_int(msg, cap, "MaxSubs", o->max_subscriptions, n->max_subscriptions);
    int rc = diff_no_auth_user(o, n, msg, cap);
    if (rc) return rc;
    if (o->ping_interval_ms != n->ping_interval_ms)
        return refuse_dur(msg, cap, "PingInterval", o->ping_interval_ms, n->ping_interval_ms);
    if (o->ping_max != n->ping_max)
        return refuse_int(msg, cap, "MaxPingsOut", o->ping_max, n->ping_max);
    if (o->http_port != n->http_port)
        return refuse_int(msg, cap, "HTTPPort", o->http_port, n->http_port);
    if (o->https_port != n->https_port)
        return refuse_int(msg, cap, "HTTPSPort", o->https_port, n->https_port);
    return 0;
}

/* From MaxControlLine to the end of nats-server's options. */
static int
diff_tail(const struct nb_config *o, const struct nb_config *n, char *msg, size_t cap)
{
    if (o->max_control_line != n->max_control_line)
        return refuse_int(msg, cap, "MaxControlLine", o->max_control_line, n->max_control_line);
    if (o->max_payload != n->max_payload)
        return refuse_int(msg, cap, "MaxPayload", o->max_payload, n->max_payload);
    if (o->max_pending != n->max_pending)
        return refuse_int(msg, cap, "MaxPending", o->max_pending, n->max_pending);
    int rc = diff_cluster(o, n, msg, cap);
    if (!rc) rc = diff_accounts(o, n, msg, cap);
    if (rc) return rc;
    if (o->jetstream != n->jetstream)
        return refuse_bool(msg, cap, "JetStream", o->jetstream, n->jetstream);
    if (o->js_max_memory != n->js_max_memory || o->js_max_file != n->js_max_file) {
        snprintf(msg, cap, "config reload not supported for jetstream max memory and store");
        return NB_ECONFIG;
    }
    if (!same_str(o->store_dir, n->store_dir)) {
        snprintf(msg, cap, "config reload not supported for jetstream storage directory");
        return NB_ECONFIG;
    }
    if (o->js_sync_interval_ms != n->js_sync_interval_ms)
        return refuse_dur(msg, cap, "SyncInterval", o->js_sync_interval_ms, n->js_sync_interval_ms);
    if (!same_routes(o, n)) return refuse(msg, cap, "Routes", "", "");
    if (!same_str(o->tls.pinned, n->tls.pinned))
        return refuse(msg, cap, "TLSPinnedCerts", o->tls.pinned, n->tls.pinned);
    if (o->write_deadline_ms != n->write_deadline_ms)
        return refuse_dur(msg, cap, "WriteDeadline", o->write_deadline_ms, n->write_deadline_ms);
    if (o->lame_duck_duration_ms != n->lame_duck_duration_ms)
        return refuse_dur(msg, cap, "LameDuckDuration", o->lame_duck_duration_ms,
                          n->lame_duck_duration_ms);
    if (o->lame_duck_grace_ms != n->lame_duck_grace_ms)
        return refuse_dur(msg, cap, "LameDuckGracePeriod", o->lame_duck_grace_ms,
                          n->lame_duck_grace_ms);
    return 0;
}

int
nb__reload_diff(const struct nb_config *o, const struct nb_config *n, struct nb_reload_diff *d,
                char *msg, size_t cap)
{
    *d = (struct nb_reload_diff){0};
    int rc = diff_head(o, n, msg, cap);
    if (!rc) rc = diff_tail(o, n, msg, cap);
    if (rc) return rc;
    d->trace = o->trace != n->trace;
    d->debug = o->debug != n->debug;
    d->logtime = o->logtime != n->logtime;
    d->log_file = !same_str(o->log_file, n->log_file);
    d->username = !same_str(o->auth_user, n->auth_user);
    d->password = !same_str(o->auth_pass, n->auth_pass);
    d->token = !same_str(o->auth_token, n->auth_token);
    d->auth_timeout = o->auth_timeout_ms != n->auth_timeout_ms;
    d->tls_timeout = o->tls.timeout_ms != n->tls.timeout_ms;
    d->tls = !same_tls(&o->tls, &n->tls);
    return 0;
}

/* ---- applying ---------------------------------------------------------------------------------- */

/* Exchanges the options a reload changes; the others stay where they are. */
static void
swap_reloadable(struct nb_config *a, struct nb_config *b)
{
    struct nb_config t = *a;
    a->auth_token = b->auth_token;
    a->auth_user = b->auth_user;
    a->auth_pass = b->auth_pass;
    a->users = b->users;
    a->nusers = b->nusers;
    a->no_auth_user = b->no_auth_user;
    a->auth_timeout_ms = b->auth_timeout_ms;
    a->tls = b->tls;
    a->debug = b->debug;
    a->trace = b->trace;
    a->logtime = b->logtime;
    a->log_file = b->log_file;
    b->auth_token = t.auth_token;
    b->auth_user = t.auth_user;
    b->auth_pass = t.auth_pass;
    b->users = t.users;
    b->nusers = t.nusers;
    b->no_auth_user = t.no_auth_user;
    b->auth_timeout_ms = t.auth_timeout_ms;
    b->tls = t.tls;
    b->debug = t.debug;
    b->trace = t.trace;
    b->logtime = t.logtime;
    b->log_file = t.log_file;
}

/* nats-server's "Reloaded: ..." lines, in its option order (Go's %v of seconds for timeouts). */
static void
log_changes(struct nb_server *srv, const struct nb_reload_diff *d, bool tls)
{
    const struct nb_config *c = &srv->cfg;
    if (d->trace) nb__log(srv, NB_LOG_INFO, "Reloaded: trace = %s", c->trace ? "true" : "false");
    if (d->debug) nb__log(srv, NB_LOG_INFO, "Reloaded: debug = %s", c->debug ? "true" : "false");
    if (d->logtime)
        nb__log(srv, NB_LOG_INFO, "Reloaded: logtime = %s", c->logtime ? "true" : "false");
    /* Users and accounts never compare equal in nats-server: both are reloaded every time. */
    nb__log(srv, NB_LOG_INFO, "Reloaded: authorization users");
    nb__log(srv, NB_LOG_INFO, "Reloaded: accounts");
    if (d->username) nb__log(srv, NB_LOG_INFO, "Reloaded: authorization username");
    if (d->password) nb__log(srv, NB_LOG_INFO, "Reloaded: authorization password");
    if (d->token) nb__log(srv, NB_LOG_INFO, "Reloaded: authorization token");
    if (d->auth_timeout)
        nb__log(srv, NB_LOG_INFO, "Reloaded: authorization timeout = %g",
                (double)c->auth_timeout_ms / 1000);
    if (d->log_file)
        nb__log(srv, NB_LOG_INFO, "Reloaded: log_file = %s", c->log_file ? c->log_file : "");
    if (d->tls_timeout)
        nb__log(srv, NB_LOG_INFO, "Reloaded: tls timeout = %g", (double)c->tls.timeout_ms / 1000);
    if (tls)
        nb__log(srv, NB_LOG_INFO, "Reloaded: tls = %s", c->tls.enabled ? "enabled" : "disabled");
}

/* Checks every client again, as nats-server's reloadAuthorization does after the swap. */
static void
recheck_clients(struct nb_server *srv)
{
    for (struct nb_conn *c = srv->conns; c; c = c->next) {
        if (nb__conn_is_client(c)) nb__client_recheck(nb__client_of(c));
    }
}

static int
no_memory(char *msg, size_t cap)
{
    snprintf(msg, cap, "%s", nb_strerror(NB_ENOMEM));
    return NB_ENOMEM;
}

/* Switches to what next holds (reloadable options only) and to its authentication and TLS. */
static int
apply(struct nb_server *srv, struct nb_config *next, const struct nb_reload_diff *d,
      struct nb_tls_ctx *tls, char *msg, size_t cap)
{
    struct nb_auth *auth;
    swap_reloadable(&srv->cfg, next);
    if (nb__auth_new(&srv->cfg, &auth) != 0) {
        swap_reloadable(&srv->cfg, next);
        return no_memory(msg, cap);
    }
    /* nats-server compares the loaded certificates: new files under the old names count. */
    bool tls_changed = d->tls || (tls && srv->tls && !nb__tls_ctx_same_pair(srv->tls, tls));
    log_changes(srv, d, tls_changed);
    if (srv->cfg.relog && (d->trace || d->debug || d->logtime || d->log_file))
        srv->cfg.relog(srv->cfg.log_ud, &srv->cfg);
    struct nb_auth *old = srv->auth;
    srv->auth = auth;
    nb__tls_ctx_free(srv->tls);
    srv->tls = tls;
    recheck_clients(srv);
    /* Every client now points into the new users; nothing refers to the old ones. */
    nb__auth_free(old);
    return 0;
}

int
nb_server_reload(struct nb_server *srv, const struct nb_config *cfg, char *msg, size_t cap)
{
    if (!srv->started || srv->stopping) {
        snprintf(msg, cap, "%s", nb_strerror(NB_ESTATE));
        return NB_ESTATE;
    }
    struct nb_reload_diff d;
    int rc = nb__reload_diff(&srv->cfg, cfg, &d, msg, cap);
    if (rc) return rc;
    rc = nb_config_validate(cfg, msg, cap);
    if (rc) return rc;
    struct nb_config next;
    if (nb_config_copy(&next, cfg) != 0) return no_memory(msg, cap);
    struct nb_tls_ctx *tls = NULL;
    if (next.tls.enabled) rc = nb__tls_ctx_new(&tls, &next.tls, false, msg, cap);
    if (!rc) rc = apply(srv, &next, &d, tls, msg, cap);
    if (rc) nb__tls_ctx_free(tls);
    nb_config_release(&next);
    if (rc) return rc;
    srv->config_load_ns = nb__wall_ns();
    nb__log(srv, NB_LOG_INFO, "Reloaded server configuration");
    return rc;
}
