/*
 * Server options: defaults, error texts, consistency checks, and the mapping from a parsed
 * configuration file (nb_conf.c) onto struct nb_config.
 *
 * The mapper is table driven: one row per accepted key (aliases are rows of their own), matched
 * case-insensitively in file order, so a later key overrides an earlier one as in nats-server.
 * Loading is all or nothing: the file is mapped onto a copy of the configuration, which replaces
 * the caller's only when every key was accepted.
 *
 * A key natsctl does not implement falls in one of three classes, and the class decides between
 * starting and refusing to. Fail closed: a nats-server option that grants, restricts or protects
 * access (TLS, accounts, JWT operators...) is refused, because running without
 * it would silently expose what the file meant to protect. A nats-server option without security
 * meaning (JetStream, clustering, log rotation...) is warned about and ignored, so a file written
 * for nats-server still starts. Anything else is an unknown field and an error, as in nats-server
 * (which also treats an unreferenced variable at the top level as one).
 *
 * Value rules follow nats-server 2.9.10's opts.go: sizes and counts are integers (size suffixes
 * welcome), durations are Go duration strings ("2m", "1h30m") or a bare integer meaning seconds
 * (with a warning, as nats-server gives), and a port of -1 asks for a random port.
 */
#include "nb.h"
#include "nb_auth.h"
#include "nb_conf.h"
#include "nb_tls.h"
#include "nb_users.h"
#include "np.h"
#include "np_units.h"
#include "np_url.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct loader {
    const struct nb_conf *doc;
    struct nb_config *cfg;
    nb_conf_warn_fn warn;
    void *warn_ud;
    struct nb_conf_error *err;
    const cJSON *http_host; /* the last "http" value that named a host, checked at the end */
    bool users_listed;      /* authorization has a users array, even an empty one */
    struct nb_permissions *default_perms; /* authorization.default_permissions while it is read */
    struct nb_tls_config *tls;            /* the tls block being read (clients' or routes') */
    /* The users of accounts, kept apart until the end: authorization may come later and reset. */
    struct nb_user *acct_users;
    size_t nacct_users;
    const cJSON **acct_users_at; /* the users array each came from, for errors */
    struct nb_user *block_users; /* the users of the account block being read */
    size_t nblock_users;
    const cJSON *block_users_at;
};

/* Applies the value v of key to the field at offset off of ld->cfg. */
typedef int (*apply_fn)(struct loader *ld, const char *key, const cJSON *v, size_t off);

struct option {
    const char *name;
    apply_fn apply;
    size_t off;
};

/* ---- defaults, strings and errors -------------------------------------------------------------- */

void
nb_config_init(struct nb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = strdup("127.0.0.1");
    cfg->port = NP_DEFAULT_PORT;
    cfg->max_payload = 1024 * 1024;
    cfg->max_pending = 64 * 1024 * 1024;
    cfg->max_connections = 64 * 1024;
    cfg->max_control_line = 4096;
    cfg->ping_interval_ms = 2 * 60 * 1000;
    cfg->ping_max = 2;
    cfg->write_deadline_ms = 10 * 1000;
    cfg->http_timeout_ms = 10 * 1000;
    cfg->auth_timeout_ms = 2 * 1000;
    cfg->lame_duck_duration_ms = 2 * 60 * 1000;
    cfg->lame_duck_grace_ms = 10 * 1000;
    cfg->cluster_auth_timeout_ms = 2 * 1000;
    cfg->js_max_memory = cfg->js_max_file = -1;
    cfg->js_sync_interval_ms = 2 * 60 * 1000;
    cfg->logtime = true;
    nb__tls_config_init(&cfg->tls);
    nb__tls_config_init(&cfg->cluster_tls);
}

/* Every string field, for release and copy. */
#define CONFIG_STRINGS(cfg)                                                                        \
    {                                                                                              \
        &(cfg)->host, &(cfg)->server_name, &(cfg)->auth_token, &(cfg)->auth_user,                  \
            &(cfg)->auth_pass, &(cfg)->store_dir, &(cfg)->client_advertise, &(cfg)->cluster_host,  \
            &(cfg)->cluster_name, &(cfg)->cluster_advertise, &(cfg)->cluster_user,                 \
            &(cfg)->cluster_pass, &(cfg)->no_auth_user, &(cfg)->log_file, &(cfg)->system_account   \
    }

/* A list of owned strings (routes, account names): emptied, or one more copied in. */
static void
strv_clear(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static int
strv_add(char ***v, size_t *n, const char *s)
{
    char **grown = realloc(*v, (*n + 1) * sizeof *grown);
    if (!grown) return NB_ENOMEM;
    *v = grown;
    if (!(grown[*n] = strdup(s))) return NB_ENOMEM;
    (*n)++;
    return 0;
}

void
nb_config_clear_routes(struct nb_config *cfg)
{
    strv_clear(&cfg->routes, &cfg->nroutes);
}

static void
accounts_clear(struct nb_config *cfg)
{
    strv_clear(&cfg->accounts, &cfg->naccounts);
}

static int
account_add(struct nb_config *cfg, const char *name)
{
    return strv_add(&cfg->accounts, &cfg->naccounts, name);
}

void
nb_config_release(struct nb_config *cfg)
{
    accounts_clear(cfg);
    char **strs[] = CONFIG_STRINGS(cfg);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    nb__users_free(cfg->users, cfg->nusers);
    cfg->users = NULL;
    cfg->nusers = 0;
    nb__tls_config_release(&cfg->tls);
    nb__tls_config_release(&cfg->cluster_tls);
    nb_config_clear_routes(cfg);
}

int
nb_config_add_route(struct nb_config *cfg, const char *url)
{
    return strv_add(&cfg->routes, &cfg->nroutes, url);
}

int
nb_config_set_str(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value))) return NB_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

const char *
nb_strerror(int err)
{
    switch (err) {
#define NB__ERR_TEXT(name, text)                                                                   \
    case NB_E##name:                                                                               \
        return text;
        NB_ERR_MAP(NB__ERR_TEXT)
#undef NB__ERR_TEXT
    default:
        break;
    }
    /* libuv's codes are negated errno values on Unix, except its resolver codes (UV_EAI_*): only
     * libuv can name those, where the C library would say "No error information". */
    if (err < 0 && err > -1000) return strerror(-err);
    return err < 0 ? uv_strerror(err) : "unknown error";
}

/* ---- validation -------------------------------------------------------------------------------- */

static int invalid(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
invalid(char *msg, size_t cap, const char *fmt, ...)
{
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return NB_ECONFIG;
}

/* The limits on sizes and counts; the payload ones mirror nats-server's server.go checks. */
static int
validate_limits(const struct nb_config *cfg, char *msg, size_t cap)
{
    if (cfg->max_payload <= 0) return invalid(msg, cap, "max_payload must be positive");
    if (cfg->max_payload > INT32_MAX) {
        return invalid(msg, cap, "max_payload %lld is too large (the limit is %d)",
                       (long long)cfg->max_payload, INT32_MAX);
    }
    if (cfg->max_payload > cfg->max_pending) {
        return invalid(msg, cap, "max_payload (%lld) must not exceed max_pending (%lld)",
                       (long long)cfg->max_payload, (long long)cfg->max_pending);
    }
    if (cfg->max_control_line <= 0 || cfg->max_control_line > INT32_MAX) {
        return invalid(msg, cap, "max_control_line must be between 1 and %d", INT32_MAX);
    }
    if (cfg->max_connections < 0) return invalid(msg, cap, "max_connections must not be negative");
    if (cfg->max_subscriptions < 0) {
        return invalid(msg, cap, "max_subscriptions must not be negative");
    }
    if (cfg->ping_max < 1) return invalid(msg, cap, "ping_max must be at least 1");
    return 0;
}

/* nats-server's validateNoAuthUser, with its texts. */
static int
validate_no_auth_user(const struct nb_config *cfg, char *msg, size_t cap)
{
    const char *name = cfg->no_auth_user;
    if (!name || !*name) return 0;
    /* nkey users are not users here: nats-server keeps them apart and refuses them as the default */
    size_t named = 0;
    for (size_t i = 0; i < cfg->nusers; i++) {
        if (!cfg->users[i].name) continue;
        if (strcmp(cfg->users[i].name, name) == 0) return 0;
        named++;
    }
    if (named == 0)
        return invalid(msg, cap, "no_auth_user: \"%.60s\" present, but users are not defined",
                       name);
    return invalid(msg, cap,
                   "no_auth_user: \"%.60s\" not present as user in authorization block or account "
                   "configuration",
                   name);
}

/* system_account names a configured account, or $SYS, which always exists (nats-server's words). */
static int
validate_system_account(const struct nb_config *cfg, char *msg, size_t cap)
{
    const char *name = cfg->system_account;
    if (!name || strcmp(name, "$SYS") == 0) return 0;
    for (size_t i = 0; i < cfg->naccounts; i++) {
        if (strcmp(cfg->accounts[i], name) == 0) return 0;
    }
    return invalid(msg, cap, "error resolving system account: account missing");
}

/*
 * nats-server 2.9.10 gives JetStream to $G when the only configured account is the system
 * account; beside any other, no account has it unless its own block enables it, which natsctl
 * does not implement: refused rather than serving streams nats-server would not.
 */
static int
validate_js_accounts(const struct nb_config *cfg, char *msg, size_t cap)
{
    const char *sys = cfg->system_account ? cfg->system_account : "$SYS";
    for (size_t i = 0; i < cfg->naccounts && cfg->jetstream; i++) {
        if (strcmp(cfg->accounts[i], sys) != 0)
            return invalid(msg, cap,
                           "jetstream with account \"%.60s\": JetStream per account is not "
                           "supported by natsctl (refusing to start without it)",
                           cfg->accounts[i]);
    }
    return 0;
}

/* "host[:port]" as nats-server's parseHostPort takes an advertise address. */
static bool
valid_advertise(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!*s || s[0] == ':') return false;
    if (!colon || strchr(s, ':') != colon) return true; /* no port, or a bare IPv6 address */
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return colon[1] && !*end && port >= 0 && port <= 65535;
}

static int
validate_cluster(const struct nb_config *cfg, char *msg, size_t cap)
{
    if (cfg->cluster_port < -1 || cfg->cluster_port > 65535) {
        return invalid(msg, cap, "cluster port %d is out of range (-1 to 65535)",
                       cfg->cluster_port);
    }
    if (cfg->nroutes && cfg->cluster_port == 0) {
        return invalid(msg, cap, "solicited routes require cluster capabilities, e.g. --cluster");
    }
    for (size_t i = 0; i < cfg->nroutes; i++) {
        struct np_url u;
        int rc = np_url_parse_route(&u, cfg->routes[i]);
        np_url_release(&u);
        if (rc == 0) continue;
        char shown[256];
        np_url_redact(cfg->routes[i], shown, sizeof shown);
        return invalid(msg, cap, "invalid route URL '%s': %s", shown, np_strerror(rc));
    }
    const char *adv[] = {cfg->cluster_advertise, cfg->client_advertise};
    const char *names[] = {"cluster_advertise", "client_advertise"};
    for (size_t i = 0; i < 2; i++) {
        if (adv[i] && !valid_advertise(adv[i]))
            return invalid(msg, cap, "%s '%s' is not host[:port]", names[i], adv[i]);
    }
    if (cfg->connect_retries < 0) return invalid(msg, cap, "connect_retries must not be negative");
    if (cfg->cluster_auth_timeout_ms <= 0) {
        return invalid(msg, cap, "cluster authorization timeout must be positive");
    }
    /* Routes compare their password as text: the hash itself would be accepted as one. */
    if (!nb__auth_is_bcrypt(cfg->cluster_pass)) return 0;
    return invalid(msg, cap,
                   "the cluster password is a bcrypt hash: natsctl checks route passwords as "
                   "text only (refusing to start)");
}

int
nb_config_cluster_url(struct nb_config *cfg, const char *url, char *msg, size_t msg_cap)
{
    /* -1 is no port to a URL parser: nats-server too reads it as 0 and then asks for a free one */
    char *text = strdup(url);
    if (!text) return NB_ENOMEM;
    size_t n = strlen(text);
    bool random = n > 3 && strcmp(text + n - 3, ":-1") == 0;
    if (random) strcpy(text + n - 3, ":1");
    struct np_url u;
    int rc = np_url_parse_route(&u, text);
    free(text);
    if (rc == NP_ENOMEM) return NB_ENOMEM;
    if (rc) return invalid(msg, msg_cap, "invalid --cluster URL: %s", np_strerror(rc));
    if (u.pass && !u.user) {
        np_url_release(&u);
        return invalid(msg, msg_cap, "expected cluster password to be set");
    }
    cfg->cluster_port = random ? -1 : u.port;
    rc = nb_config_set_str(&cfg->cluster_host, u.host);
    rc |= nb_config_set_str(&cfg->cluster_user, u.user);
    rc |= nb_config_set_str(&cfg->cluster_pass, u.user ? u.pass : NULL);
    np_url_release(&u);
    return rc ? NB_ENOMEM : 0;
}

/* The https port and the TLS files, in nats-server's words (its StartMonitoring and GenTLSConfig). */
static int
validate_tls(const struct nb_config *cfg, char *msg, size_t cap)
{
    if (cfg->https_port < -1 || cfg->https_port > 65535) {
        return invalid(msg, cap, "https_port %d is out of range (-1 to 65535)", cfg->https_port);
    }
    if (cfg->http_port && cfg->https_port) {
        return invalid(msg, cap, "can't specify both HTTP (%d) and HTTPs (%d) ports",
                       cfg->http_port, cfg->https_port);
    }
    if (cfg->https_port && !cfg->tls.enabled) {
        return invalid(msg, cap, "TLS cert and key required for HTTPS");
    }
    return cfg->tls.enabled ? nb__tls_check(&cfg->tls, msg, cap) : 0;
}

/* nats-server's check when it starts (validateOptions), with its message. */
static int
validate_lame_duck(const struct nb_config *cfg, char *msg, size_t cap)
{
    if (cfg->lame_duck_grace_ms < cfg->lame_duck_duration_ms) return 0;
    char grace[32], dur[32];
    np_duration_format(cfg->lame_duck_grace_ms * 1000000, grace, sizeof grace);
    np_duration_format(cfg->lame_duck_duration_ms * 1000000, dur, sizeof dur);
    return invalid(msg, cap,
                   "lame duck grace period (%s) should be strictly lower than lame duck duration "
                   "(%s)",
                   grace, dur);
}

int
nb_config_validate(const struct nb_config *cfg, char *msg, size_t msg_cap)
{
    if (cfg->port < -1 || cfg->port > 65535) {
        return invalid(msg, msg_cap, "port %d is out of range (-1 to 65535)", cfg->port);
    }
    if (cfg->http_port < -1 || cfg->http_port > 65535) {
        return invalid(msg, msg_cap, "http_port %d is out of range (-1 to 65535)", cfg->http_port);
    }
    int rc = validate_tls(cfg, msg, msg_cap);
    if (rc) return rc;
    rc = validate_limits(cfg, msg, msg_cap);
    if (rc) return rc;
    if (cfg->ping_interval_ms <= 0) return invalid(msg, msg_cap, "ping_interval must be positive");
    if (cfg->write_deadline_ms <= 0) {
        return invalid(msg, msg_cap, "write_deadline must be positive");
    }
    if (cfg->auth_timeout_ms <= 0) {
        return invalid(msg, msg_cap, "authorization timeout must be positive");
    }
    rc = validate_lame_duck(cfg, msg, msg_cap);
    if (rc) return rc;
    rc = validate_cluster(cfg, msg, msg_cap);
    if (!rc) rc = validate_system_account(cfg, msg, msg_cap);
    if (!rc) rc = validate_js_accounts(cfg, msg, msg_cap);
    return rc ? rc : validate_no_auth_user(cfg, msg, msg_cap);
}

/* ---- reporting --------------------------------------------------------------------------------- */

/* Where node v was written, for err and warnings. */
static void
locate(const struct loader *ld, const cJSON *v, struct nb_conf_error *where)
{
    const struct nb_conf_meta *m = nb__conf_meta(ld->doc, v);
    snprintf(where->file, sizeof where->file, "%s", nb__conf_file(ld->doc, m));
    where->line = m ? m->line : 0;
    where->column = m ? m->column : 0;
}

static int reject(struct loader *ld, const cJSON *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills ld->err with where v was written and the message; returns NB_ECONFIG. */
static int
reject(struct loader *ld, const cJSON *v, const char *fmt, ...)
{
    locate(ld, v, ld->err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err->msg, sizeof ld->err->msg, fmt, ap);
    va_end(ap);
    return NB_ECONFIG;
}

static int bad(struct loader *ld, const char *key, const cJSON *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Rejects the value of key, saying why. */
static int
bad(struct loader *ld, const char *key, const cJSON *v, const char *fmt, ...)
{
    char why[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return reject(ld, v, "invalid '%.60s': %s", key, why);
}

static void warn(struct loader *ld, const cJSON *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sends "<file>:<line>:<column>: <text>" to the warn callback. */
static void
warn(struct loader *ld, const cJSON *v, const char *fmt, ...)
{
    if (!ld->warn) return;
    struct nb_conf_error where;
    locate(ld, v, &where);
    char text[256], line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s:%d:%d: %s", where.file, where.line, where.column, text);
    ld->warn(ld->warn_ud, line);
}

/* ---- value readers ----------------------------------------------------------------------------- */

/* The exact value of an integer literal, or false for anything else. */
static bool
get_int(const struct loader *ld, const cJSON *v, int64_t *out, bool *suffixed)
{
    const struct nb_conf_meta *m = nb__conf_meta(ld->doc, v);
    if (!cJSON_IsNumber(v) || !m || !(m->flags & NB_CONF_INT)) return false;
    *out = m->ival;
    if (suffixed) *suffixed = (m->flags & NB_CONF_SUFFIX) != 0;
    return true;
}

/* ---- option handlers --------------------------------------------------------------------------- */

#define FIELD(ld, off, type) ((type *)(void *)((char *)(ld)->cfg + (off)))

static int
apply_string(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    if (!cJSON_IsString(v)) return bad(ld, key, v, "expected a string");
    if (nb_config_set_str(FIELD(ld, off, char *), v->valuestring)) return NB_ENOMEM;
    return 0;
}

static int
apply_bool(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    if (!cJSON_IsBool(v)) return bad(ld, key, v, "expected true or false");
    *FIELD(ld, off, bool) = cJSON_IsTrue(v);
    return 0;
}

/* Sizes and counts: a non-negative integer, size suffixes allowed. */
static int
apply_int64(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int64_t n;
    if (!get_int(ld, v, &n, NULL)) return bad(ld, key, v, "expected an integer");
    if (n < 0) return bad(ld, key, v, "must not be negative");
    *FIELD(ld, off, int64_t) = n;
    return 0;
}

/* A port number as nats-server reads it: -1 is random (our 0) and 0 the default port. */
static int
set_client_port(struct loader *ld, const char *key, const cJSON *v, int64_t port)
{
    if (port < -1 || port > 65535) return bad(ld, key, v, "port must be from -1 to 65535");
    ld->cfg->port = port == -1 ? 0 : port == 0 ? NP_DEFAULT_PORT : (int)port;
    return 0;
}

static int
apply_port(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    int64_t port;
    if (!get_int(ld, v, &port, NULL)) return bad(ld, key, v, "expected an integer");
    return set_client_port(ld, key, v, port);
}

/* http_port, https_port: the field at off. */
static int
apply_http_port(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int64_t port;
    if (!get_int(ld, v, &port, NULL)) return bad(ld, key, v, "expected an integer");
    if (port < -1 || port > 65535) return bad(ld, key, v, "port must be from -1 to 65535");
    *FIELD(ld, off, int) = (int)port;
    return 0;
}

/*
 * Splits "host:port", "[v6]:port", ":port" or "port" (host comes back empty). Returns false when
 * the text is none of these.
 */
static bool
split_host_port(const char *s, char *host, size_t cap, int64_t *port)
{
    const char *colon = strrchr(s, ':'), *p;
    size_t hlen = colon ? (size_t)(colon - s) : 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return false;
        colon = close + 1;
        s++;
        hlen = (size_t)(close - s);
    } else if (colon && strchr(s, ':') != colon) {
        return false; /* an IPv6 address needs brackets */
    }
    p = colon ? colon + 1 : s;
    if (hlen >= cap) return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    char *end;
    long long n = strtoll(p, &end, 10);
    if (end == p || *end || !(isdigit((unsigned char)*p) || *p == '-')) return false;
    *port = n < -2 ? -2 : n > 65536 ? 65536 : n; /* out of range, kept out of range */
    return true;
}

/* listen: an integer port, or a string "host:port", ":port" or "port". */
static int
apply_listen(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    int64_t port;
    if (get_int(ld, v, &port, NULL)) return set_client_port(ld, key, v, port);
    char host[256];
    if (!cJSON_IsString(v) || !split_host_port(v->valuestring, host, sizeof host, &port)) {
        return bad(ld, key, v, "expected \"host:port\", \":port\" or a port number");
    }
    int rc = set_client_port(ld, key, v, port);
    if (!rc && host[0] && nb_config_set_str(&ld->cfg->host, host)) rc = NB_ENOMEM;
    return rc;
}

/*
 * http, https: a monitoring port or "host:port". Monitoring listens on the client address, so a
 * host is only accepted when it is that address (check_http_host(), once the whole file is read).
 */
static int
apply_http(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int64_t port;
    char host[256];
    ld->http_host = NULL;
    if (cJSON_IsString(v)) {
        if (!split_host_port(v->valuestring, host, sizeof host, &port)) {
            return bad(ld, key, v, "expected \"host:port\" or a port number");
        }
        if (port < -1 || port > 65535) return bad(ld, key, v, "port must be from -1 to 65535");
        *FIELD(ld, off, int) = (int)port;
        if (host[0]) ld->http_host = v;
        return 0;
    }
    return apply_http_port(ld, key, v, off);
}

/* ping_interval, write_deadline: a Go duration string, or an integer number of seconds. */
static int
apply_duration(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int64_t n, ns;
    bool suffixed;
    if (cJSON_IsString(v)) {
        if (np_duration_parse(v->valuestring, strlen(v->valuestring), &ns)) {
            return bad(ld, key, v, "\"%.40s\" is not a duration such as \"2m\" or \"1.5s\"",
                       v->valuestring);
        }
        *FIELD(ld, off, int64_t) = ns / 1000000;
        return 0;
    }
    if (!get_int(ld, v, &n, &suffixed)) {
        return bad(ld, key, v, "expected a duration such as \"2m\", or a number of seconds");
    }
    if (suffixed) {
        return bad(ld, key, v, "a size suffix makes this %lld seconds; quote durations (\"2m\")",
                   (long long)n);
    }
    if (n > INT64_MAX / 1000 || n < INT64_MIN / 1000) return bad(ld, key, v, "out of range");
    warn(ld, v, "%s should be converted to a duration", key);
    *FIELD(ld, off, int64_t) = n * 1000;
    return 0;
}

/*
 * lame_duck_duration and lame_duck_grace_period, with nats-server's limits and messages: the
 * duration is at least 30 s, the grace period not negative.
 */
static int
apply_lame_duck(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int rc = apply_duration(ld, key, v, off);
    if (rc) return rc;
    int64_t ms = *FIELD(ld, off, int64_t);
    if (off == offsetof(struct nb_config, lame_duck_grace_ms)) {
        if (ms < 0) return reject(ld, v, "invalid lame_duck_grace_period, needs to be positive");
        /* nats-server reads 0 as "not set", its default */
        if (ms == 0) *FIELD(ld, off, int64_t) = 10 * 1000;
        return 0;
    }
    if (ms >= 30 * 1000) return 0;
    char text[32];
    np_duration_format(ms * 1000000, text, sizeof text);
    return reject(ld, v, "invalid lame_duck_duration of %s, minimum is 30 seconds", text);
}

/* authorization.timeout: seconds (integer or fraction), or a Go duration string. */
static int
apply_auth_timeout(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int64_t ns;
    if (cJSON_IsString(v)) return apply_duration(ld, key, v, off);
    const struct nb_conf_meta *m = nb__conf_meta(ld->doc, v);
    if (!cJSON_IsNumber(v) || !m || (m->flags & NB_CONF_SUFFIX)) {
        return bad(ld, key, v, "expected a number of seconds");
    }
    double sec = (m->flags & NB_CONF_INT) ? (double)m->ival : v->valuedouble;
    if (!(fabs(sec) < 1e9)) return bad(ld, key, v, "out of range");
    ns = (int64_t)llround(sec * 1e9);
    *FIELD(ld, off, int64_t) = ns / 1000000;
    return 0;
}

/* jetstream.sync_interval: a duration, or "always" (sync before every PubAck, as nats-server 2.10). */
static int
apply_sync_interval(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    if (cJSON_IsString(v) && strcasecmp(v->valuestring, "always") == 0) {
        *FIELD(ld, off, int64_t) = 0;
        return 0;
    }
    int rc = apply_duration(ld, key, v, off);
    if (!rc && *FIELD(ld, off, int64_t) <= 0) return bad(ld, key, v, "must be positive or always");
    return rc;
}

/* ---- tables ------------------------------------------------------------------------------------ */

static int apply_authorization(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_users(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_accounts(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_acct_users(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_default_perms(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_jetstream(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_cluster(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_cluster_listen(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_cluster_port(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_routes(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_cluster_auth(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_tls(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_cluster_tls(struct loader *ld, const char *key, const cJSON *v, size_t off);

#define AT(field) offsetof(struct nb_config, field)
#define COUNT(a)  (sizeof(a) / sizeof((a)[0]))

static const struct option top_options[] = {
    {"listen", apply_listen, 0},
    {"host", apply_string, AT(host)},
    {"net", apply_string, AT(host)},
    {"port", apply_port, 0},
    {"server_name", apply_string, AT(server_name)},
    {"max_payload", apply_int64, AT(max_payload)},
    {"max_pending", apply_int64, AT(max_pending)},
    {"max_connections", apply_int64, AT(max_connections)},
    {"max_conn", apply_int64, AT(max_connections)},
    {"max_subscriptions", apply_int64, AT(max_subscriptions)},
    {"max_subs", apply_int64, AT(max_subscriptions)},
    {"max_control_line", apply_int64, AT(max_control_line)},
    {"ping_interval", apply_duration, AT(ping_interval_ms)},
    {"ping_max", apply_int64, AT(ping_max)},
    {"write_deadline", apply_duration, AT(write_deadline_ms)},
    {"lame_duck_duration", apply_lame_duck, AT(lame_duck_duration_ms)},
    {"lame_duck_grace_period", apply_lame_duck, AT(lame_duck_grace_ms)},
    {"http", apply_http, AT(http_port)},
    {"http_port", apply_http_port, AT(http_port)},
    {"monitor_port", apply_http_port, AT(http_port)},
    {"https", apply_http, AT(https_port)},
    {"https_port", apply_http_port, AT(https_port)},
    {"tls", apply_tls, 0},
    {"debug", apply_bool, AT(debug)},
    {"trace", apply_bool, AT(trace)},
    {"logtime", apply_bool, AT(logtime)},
    {"log_file", apply_string, AT(log_file)},
    {"logfile", apply_string, AT(log_file)},
    /* verbose tracing adds the system account's traffic, and there is no system account */
    {"trace_verbose", apply_bool, AT(trace)},
    {"authorization", apply_authorization, 0},
    {"no_auth_user", apply_string, AT(no_auth_user)},
    {"accounts", apply_accounts, 0},
    {"system_account", apply_string, AT(system_account)},
    {"system", apply_string, AT(system_account)},
    {"jetstream", apply_jetstream, 0},
    {"store_dir", apply_string, AT(store_dir)},
    {"storedir", apply_string, AT(store_dir)},
    {"client_advertise", apply_string, AT(client_advertise)},
    {"cluster", apply_cluster, 0},
};

static const struct option cluster_options[] = {
    {"name", apply_string, AT(cluster_name)},
    {"listen", apply_cluster_listen, 0},
    {"host", apply_string, AT(cluster_host)},
    {"net", apply_string, AT(cluster_host)},
    {"port", apply_cluster_port, 0},
    {"routes", apply_routes, 0},
    {"authorization", apply_cluster_auth, 0},
    {"advertise", apply_string, AT(cluster_advertise)},
    {"cluster_advertise", apply_string, AT(cluster_advertise)},
    {"no_advertise", apply_bool, AT(cluster_no_advertise)},
    {"connect_retries", apply_int64, AT(connect_retries)},
    {"tls", apply_cluster_tls, 0},
};

/* nats-server's cluster authorization: one user, no tokens (both are errors there too). */
static const struct option cluster_auth_options[] = {
    {"user", apply_string, AT(cluster_user)},
    {"username", apply_string, AT(cluster_user)},
    {"password", apply_string, AT(cluster_pass)},
    {"pass", apply_string, AT(cluster_pass)},
    {"timeout", apply_auth_timeout, AT(cluster_auth_timeout_ms)},
};

static const struct option jetstream_options[] = {
    {"enabled", apply_bool, AT(jetstream)},
    {"store_dir", apply_string, AT(store_dir)},
    {"storedir", apply_string, AT(store_dir)},
    {"max_memory_store", apply_int64, AT(js_max_memory)},
    {"max_mem_store", apply_int64, AT(js_max_memory)},
    {"max_mem", apply_int64, AT(js_max_memory)},
    {"max_file_store", apply_int64, AT(js_max_file)},
    {"max_file", apply_int64, AT(js_max_file)},
    {"sync_interval", apply_sync_interval, AT(js_sync_interval_ms)},
};

static int apply_tls_version(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_tls_names(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_tls_pins(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_tls_timeout(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_tls_map(struct loader *ld, const char *key, const cJSON *v, size_t off);
static int apply_no_effect(struct loader *ld, const char *key, const cJSON *v, size_t off);

/* nats-server 2.9.10's tls block (and 2.10's min_version) for the client port. */
static const struct option tls_options[] = {
    {"cert_file", apply_string, AT(tls.cert_file)},
    {"key_file", apply_string, AT(tls.key_file)},
    {"ca_file", apply_string, AT(tls.ca_file)},
    {"verify", apply_bool, AT(tls.verify)},
    {"verify_and_map", apply_tls_map, 0},
    {"timeout", apply_tls_timeout, AT(tls.timeout_ms)},
    {"min_version", apply_tls_version, 0},
    {"cipher_suites", apply_tls_names, AT(tls.ciphers)},
    {"curve_preferences", apply_tls_names, AT(tls.curves)},
    {"pinned_certs", apply_tls_pins, 0},
    /* skips the server certificate check of a TLS client; a listener makes no such check */
    {"insecure", apply_no_effect, 0},
};

/*
 * The cluster's tls block: nats-server 2.9.10 always requires and verifies the peer's certificate
 * on routes, so verify changes nothing; insecure skips checking a dialed peer's certificate.
 */
static const struct option cluster_tls_options[] = {
    {"cert_file", apply_string, AT(cluster_tls.cert_file)},
    {"key_file", apply_string, AT(cluster_tls.key_file)},
    {"ca_file", apply_string, AT(cluster_tls.ca_file)},
    {"verify", apply_no_effect, 0},
    {"insecure", apply_bool, AT(cluster_tls.insecure)},
    {"timeout", apply_tls_timeout, AT(cluster_tls.timeout_ms)},
    {"min_version", apply_tls_version, 0},
    {"cipher_suites", apply_tls_names, AT(cluster_tls.ciphers)},
    {"curve_preferences", apply_tls_names, AT(cluster_tls.curves)},
    {"pinned_certs", apply_tls_pins, 0},
};

static const struct option auth_options[] = {
    {"token", apply_string, AT(auth_token)},
    {"user", apply_string, AT(auth_user)},
    {"username", apply_string, AT(auth_user)},
    {"password", apply_string, AT(auth_pass)},
    {"pass", apply_string, AT(auth_pass)},
    {"timeout", apply_auth_timeout, AT(auth_timeout_ms)},
    {"users", apply_users, 0},
    {"default_permission", apply_default_perms, 0},
    {"default_permissions", apply_default_perms, 0},
    {"permissions", apply_default_perms, 0},
};

static const struct option account_options[] = {
    {"users", apply_acct_users, 0},
    {"default_permission", apply_default_perms, 0},
    {"default_permissions", apply_default_perms, 0},
};

/* A nats-server key natsctl does not implement, and what it is, for the message. */
struct absent {
    const char *name;
    const char *what;
};

/* nats-server 2.9.10's top-level keys that grant, restrict or protect access. */
static const struct absent top_refused[] = {
    {"allow_non_tls", "plaintext clients beside TLS ones"},
    {"ocsp", "OCSP stapling"},
    {"operator", "JWT operator mode"},
    {"operators", "JWT operator mode"},
    {"root", "JWT operator mode"},
    {"roots", "JWT operator mode"},
    {"root_operator", "JWT operator mode"},
    {"root_operators", "JWT operator mode"},
    {"trusted", "trusted operator keys"},
    {"trusted_keys", "trusted operator keys"},
    {"resolver", "an account resolver"},
    {"account_resolver", "an account resolver"},
    {"accounts_resolver", "an account resolver"},
    {"resolver_tls", "an account resolver"},
    {"resolver_preload", "an account resolver"},
    {"resolver_pinned_accounts", "an account resolver"},
    /* mappings send messages to other subjects, so subscribers would get what they should not */
    {"mappings", "subject mappings"},
    {"maps", "subject mappings"},
};

/* nats-server 2.9.10's top-level keys without security meaning: natsctl starts without them. */
static const struct absent top_ignored[] = {
    {"disable_sublist_cache", "the subscription cache switch"},
    {"no_sublist_cache", "the subscription cache switch"},
    {"http_base_path", "a monitoring base path"},
    {"gateway", "gateways"},
    {"leaf", "leaf nodes"},
    {"leafnodes", "leaf nodes"},
    {"websocket", "WebSocket clients"},
    {"ws", "WebSocket clients"},
    {"mqtt", "MQTT clients"},
    {"default_js_domain", "JetStream"},
    {"logfile_size_limit", "log rotation by size"},
    {"log_size_limit", "log rotation by size"},
    {"syslog", "syslog"},
    {"remote_syslog", "syslog"},
    {"pidfile", "a pid file set in the file; use -P"},
    {"pid_file", "a pid file set in the file; use -P"},
    {"ports_file_dir", "a ports file set in the file; use --ports_file_dir"},
    {"prof_port", "profiling"},
    {"max_traced_msg_len", "shortened trace lines"},
    {"max_sub_tokens", "a limit on subject tokens"},
    {"max_subscription_tokens", "a limit on subject tokens"},
    {"no_system_account", "the system account"},
    {"no_system", "the system account"},
    {"no_sys_acc", "the system account"},
    {"no_header_support", "turning off message headers"},
    {"connect_error_reports", "cluster error reports"},
    {"reconnect_error_reports", "cluster error reports"},
    {"server_tags", "server tags"},
};

/* Inside an ignored block (cluster, websocket...): the keys that protect its listener. */
static const struct absent block_refused[] = {
    {"authorization", "authorization"},
    {"authentication", "authorization"},
    {"tls", "TLS"},
    {"permissions", "permissions"},
    {"no_auth_user", "a default user for clients without credentials"},
};

/* What an account may have beyond its users: sharing subjects or limits natsctl does not enforce. */
static const struct absent account_refused[] = {
    {"nkey", "account nkeys"},        {"imports", "account imports"},
    {"exports", "account exports"},   {"jetstream", "JetStream in an account other than $G"},
    {"mappings", "subject mappings"}, {"maps", "subject mappings"},
    {"limits", "account limits"},
};

/* Beyond nats-server 2.9.10's tls keys that natsctl implements. */
static const struct absent tls_refused[] = {
    {"connection_rate_limit", "a limit on TLS handshakes per second"},
};

/* Mapping a route's certificate to the cluster user, and checking it against the known URLs. */
static const struct absent cluster_tls_refused[] = {
    {"verify_and_map", "mapping route certificates to the cluster user"},
    {"verify_cert_and_check_known_urls", "checking route certificates against known URLs"},
    {"connection_rate_limit", "a limit on TLS handshakes per second"},
};

/* The authorization keys of nats-server 2.10 that natsctl does not have. */
static const struct absent auth_refused[] = {
    {"auth_callout", "auth callout"},
};

/*
 * Route permissions protect the cluster. Route pooling and pinned accounts (nats-server
 * 2.10) would change the wire between peers, so a file asking for them is not read as if it did not.
 */
static const struct absent cluster_refused[] = {
    {"permissions", "route permissions"},
    {"pool_size", "route pooling (nats-server 2.10's pool_size)"},
    {"accounts", "routes pinned to accounts (nats-server 2.10)"},
};

static const struct absent cluster_ignored[] = {
    {"compression", "route compression (nats-server 2.10)"},
};

static const struct absent cluster_auth_refused[] = {
    {"token", "tokens (nats-server refuses them for routes too)"},
    {"users", "multiple users (nats-server refuses them for routes too)"},
    {"permissions", "route permissions"},
    {"default_permissions", "route permissions"},
    {"default_permission", "route permissions"},
};

/* Encryption at rest protects the stored messages: starting without it would expose them. */
static const struct absent jetstream_refused[] = {
    {"cipher", "encryption at rest"},  {"key", "encryption at rest"},
    {"ek", "encryption at rest"},      {"prev_key", "encryption at rest"},
    {"prev_ek", "encryption at rest"},
};

static const struct absent jetstream_ignored[] = {
    {"domain", "JetStream domains"},
    {"unique_tag", "clustered placement tags"},
    {"max_outstanding_catchup", "cluster catch-up limits"},
    {"extension_hint", "JetStream extension hints"},
    {"limits", "JetStream request limits"},
    {"max_buffered_msgs", "JetStream request limits"},
    {"max_buffered_size", "JetStream request limits"},
    {"request_queue_limit", "JetStream request limits"},
};

/* The keys one map may hold, by class. */
struct scope {
    const char *path; /* the map's key, or NULL at the top */
    const struct option *opts;
    size_t nopts;
    const struct absent *refused, *ignored;
    size_t nrefused, nignored;
};

static const struct scope top_scope = {
    .opts = top_options,
    .nopts = COUNT(top_options),
    .refused = top_refused,
    .nrefused = COUNT(top_refused),
    .ignored = top_ignored,
    .nignored = COUNT(top_ignored),
};

static const struct scope auth_scope = {
    .path = "authorization",
    .opts = auth_options,
    .nopts = COUNT(auth_options),
    .refused = auth_refused,
    .nrefused = COUNT(auth_refused),
};

static const struct scope cluster_scope = {
    .path = "cluster",
    .opts = cluster_options,
    .nopts = COUNT(cluster_options),
    .refused = cluster_refused,
    .nrefused = COUNT(cluster_refused),
    .ignored = cluster_ignored,
    .nignored = COUNT(cluster_ignored),
};

static const struct scope cluster_auth_scope = {
    .path = "cluster.authorization",
    .opts = cluster_auth_options,
    .nopts = COUNT(cluster_auth_options),
    .refused = cluster_auth_refused,
    .nrefused = COUNT(cluster_auth_refused),
};

static const struct scope tls_scope = {
    .path = "tls",
    .opts = tls_options,
    .nopts = COUNT(tls_options),
    .refused = tls_refused,
    .nrefused = COUNT(tls_refused),
};

static const struct scope cluster_tls_scope = {
    .path = "cluster.tls",
    .opts = cluster_tls_options,
    .nopts = COUNT(cluster_tls_options),
    .refused = cluster_tls_refused,
    .nrefused = COUNT(cluster_tls_refused),
};

static const struct scope jetstream_scope = {
    .path = "jetstream",
    .opts = jetstream_options,
    .nopts = COUNT(jetstream_options),
    .refused = jetstream_refused,
    .nrefused = COUNT(jetstream_refused),
    .ignored = jetstream_ignored,
    .nignored = COUNT(jetstream_ignored),
};

static const struct absent *
find_absent(const struct absent *table, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(key, table[i].name) == 0) return &table[i];
    }
    return NULL;
}

static int
refuse(struct loader *ld, const char *path, const cJSON *v, const char *what)
{
    return reject(ld, v,
                  "field \"%.60s%s%.60s\" (%s) is not supported by natsctl (refusing to start "
                  "without it)",
                  path ? path : "", path ? "." : "", v->string, what);
}

/* A key without an option row: refused, ignored with a warning, or unknown. */
static int
absent_key(struct loader *ld, const struct scope *sc, const cJSON *v)
{
    const struct absent *a = find_absent(sc->refused, sc->nrefused, v->string);
    if (a) return refuse(ld, sc->path, v, a->what);
    a = find_absent(sc->ignored, sc->nignored, v->string);
    if (!a) return reject(ld, v, "unknown field \"%.80s\"", v->string);
    for (const cJSON *m = cJSON_IsObject(v) ? v->child : NULL; m; m = m->next) {
        const struct absent *sub = find_absent(block_refused, COUNT(block_refused), m->string);
        if (sub) return refuse(ld, v->string, m, sub->what);
    }
    warn(ld, v, "field \"%.60s\" (%s) is not supported by natsctl and is ignored", v->string,
         a->what);
    return 0;
}

/* Applies every member of map through the scope's options. */
static int
apply_map(struct loader *ld, const cJSON *map, const struct scope *sc)
{
    for (const cJSON *v = map->child; v; v = v->next) {
        size_t i = 0;
        while (i < sc->nopts && strcasecmp(v->string, sc->opts[i].name) != 0)
            i++;
        int rc = i < sc->nopts ? sc->opts[i].apply(ld, v->string, v, sc->opts[i].off)
                               : absent_key(ld, sc, v);
        if (rc) return rc;
    }
    return 0;
}

/* Where a users or permissions value went wrong, as a configuration error. */
static int
users_error(struct loader *ld, int rc, const struct nb_users_error *e)
{
    return rc == NB_ECONFIG ? reject(ld, e->at, "%s", e->msg) : rc;
}

static int
apply_users(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)key;
    (void)off;
    struct nb_users_error e;
    struct nb_user *users = NULL;
    size_t n = 0;
    int rc = nb__users_parse(ld->doc, v, &users, &n, &e);
    if (rc) return users_error(ld, rc, &e);
    nb__users_free(ld->cfg->users, ld->cfg->nusers);
    ld->cfg->users = users;
    ld->cfg->nusers = n;
    ld->users_listed = true;
    return 0;
}

static int
apply_default_perms(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)key;
    (void)off;
    struct nb_users_error e;
    struct nb_permissions *p = NULL;
    int rc = nb__perms_parse(ld->doc, v, &p, &e);
    if (rc) return users_error(ld, rc, &e);
    nb__perms_free(ld->default_perms);
    ld->default_perms = p;
    return 0;
}

/* nats-server's applyDefaultPermissions: users that name no permissions get the defaults. */
static int
apply_defaults(struct loader *ld, const cJSON *v)
{
    struct nb_config *cfg = ld->cfg;
    if (!ld->default_perms) return 0;
    if (cfg->nusers == 0)
        warn(ld, v, "default_permissions only apply to the users of a users list and are ignored");
    for (size_t i = 0; i < cfg->nusers; i++) {
        if (!cfg->users[i].perms && nb__perms_copy(ld->default_perms, &cfg->users[i].perms))
            return NB_ENOMEM;
    }
    return 0;
}

/* The combinations nats-server refuses, with its texts. */
static int
check_auth_mix(struct loader *ld, const cJSON *v)
{
    const struct nb_config *cfg = ld->cfg;
    if (cfg->auth_token && (cfg->auth_user || cfg->auth_pass))
        return reject(ld, v, "Cannot have a user/pass and token");
    if (ld->users_listed && cfg->auth_user)
        return reject(ld, v, "Can not have a single user/pass and a users array");
    if (ld->users_listed && cfg->auth_token)
        return reject(ld, v, "Can not have a token and a users array");
    return 0;
}

/* The block defines the credentials completely, as in nats-server: unset ones are cleared. */
static int
apply_authorization(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsObject(v)) return bad(ld, key, v, "expected a map { ... }");
    struct nb_config *cfg = ld->cfg;
    nb_config_set_str(&cfg->auth_token, NULL);
    nb_config_set_str(&cfg->auth_user, NULL);
    nb_config_set_str(&cfg->auth_pass, NULL);
    nb__users_free(cfg->users, cfg->nusers);
    cfg->users = NULL;
    cfg->nusers = 0;
    ld->users_listed = false;
    int rc = apply_map(ld, v, &auth_scope);
    if (!rc) rc = check_auth_mix(ld, v);
    if (!rc) rc = apply_defaults(ld, v);
    nb__perms_free(ld->default_perms);
    ld->default_perms = NULL;
    return rc;
}

/* ---- accounts ---------------------------------------------------------------------------------- */

static void
acct_users_clear(struct loader *ld)
{
    nb__users_free(ld->acct_users, ld->nacct_users);
    free(ld->acct_users_at);
    ld->acct_users = NULL;
    ld->acct_users_at = NULL;
    ld->nacct_users = 0;
    nb__users_free(ld->block_users, ld->nblock_users);
    ld->block_users = NULL;
    ld->nblock_users = 0;
}

static int
apply_acct_users(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)key;
    (void)off;
    struct nb_users_error e;
    struct nb_user *users = NULL;
    size_t n = 0;
    int rc = nb__users_parse(ld->doc, v, &users, &n, &e);
    if (rc) return users_error(ld, rc, &e);
    nb__users_free(ld->block_users, ld->nblock_users);
    ld->block_users = users;
    ld->nblock_users = n;
    ld->block_users_at = v;
    return 0;
}

/* Moves the block's users, with its default permissions and its name, to the accounts' users. */
static int
account_users_keep(struct loader *ld, const char *account)
{
    size_t n = ld->nacct_users + ld->nblock_users;
    struct nb_user *users = realloc(ld->acct_users, (n ? n : 1) * sizeof *users);
    if (users) ld->acct_users = users;
    const cJSON **at = realloc(ld->acct_users_at, (n ? n : 1) * sizeof *at);
    if (at) ld->acct_users_at = at;
    if (!users || !at) return NB_ENOMEM;
    for (size_t i = 0; i < ld->nblock_users; i++) {
        struct nb_user *u = &ld->block_users[i];
        if (!(u->account = strdup(account))) return NB_ENOMEM;
        if (ld->default_perms && !u->perms && nb__perms_copy(ld->default_perms, &u->perms))
            return NB_ENOMEM;
        users[ld->nacct_users] = *u;
        at[ld->nacct_users++] = ld->block_users_at;
        *u = (struct nb_user){0};
    }
    free(ld->block_users);
    ld->block_users = NULL;
    ld->nblock_users = 0;
    return 0;
}

/* One account of the map form: its name (reserved: $G) and what its block holds. */
static int
apply_account(struct loader *ld, const cJSON *m)
{
    if (!cJSON_IsObject(m)) return reject(ld, m, "Expected map entries for accounts");
    if (strcmp(m->string, "$G") == 0) return reject(ld, m, "\"$G\" is a Reserved Account");
    for (size_t i = 0; i < ld->cfg->naccounts; i++) {
        if (strcmp(ld->cfg->accounts[i], m->string) == 0)
            return reject(ld, m, "Duplicate Account Entry: %.60s", m->string);
    }
    char path[160];
    snprintf(path, sizeof path, "accounts.%.100s", m->string);
    struct scope sc = {
        .path = path,
        .opts = account_options,
        .nopts = COUNT(account_options),
        .refused = account_refused,
        .nrefused = COUNT(account_refused),
    };
    int rc = account_add(ld->cfg, m->string);
    if (!rc) rc = apply_map(ld, m, &sc);
    if (!rc) rc = account_users_keep(ld, m->string);
    nb__perms_free(ld->default_perms);
    ld->default_perms = NULL;
    return rc;
}

/* One account of the list form, [A, B]: a name without users. */
static int
apply_account_name(struct loader *ld, const cJSON *e)
{
    if (!cJSON_IsString(e)) return reject(ld, e, "Expected account names to be strings");
    if (strcmp(e->valuestring, "$G") == 0) return reject(ld, e, "\"$G\" is a Reserved Account");
    for (size_t i = 0; i < ld->cfg->naccounts; i++) {
        if (strcmp(ld->cfg->accounts[i], e->valuestring) == 0)
            return reject(ld, e, "Duplicate Account Entry: %.60s", e->valuestring);
    }
    return account_add(ld->cfg, e->valuestring);
}

/* accounts { NAME { users ... } ... } or accounts [NAME, ...]; a later one replaces an earlier. */
static int
apply_accounts(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    accounts_clear(ld->cfg);
    acct_users_clear(ld);
    bool map = cJSON_IsObject(v);
    if (!map && !cJSON_IsArray(v))
        return bad(ld, key, v, "expected a map { ... } or an array of account names");
    for (const cJSON *m = v->child; m; m = m->next) {
        int rc = map ? apply_account(ld, m) : apply_account_name(ld, m);
        if (rc) return rc;
    }
    return 0;
}

/* The accounts' users join the users list: a name must be unique across all of them. */
static int
merge_account_users(struct loader *ld)
{
    struct nb_config *cfg = ld->cfg;
    for (size_t i = 0; i < ld->nacct_users; i++) {
        const char *name = ld->acct_users[i].name;
        for (size_t j = 0; j < cfg->nusers + i; j++) {
            const char *other =
                j < cfg->nusers ? cfg->users[j].name : ld->acct_users[j - cfg->nusers].name;
            if (strcmp(name, other) == 0)
                return reject(ld, ld->acct_users_at[i], "Duplicate user \"%.60s\" detected", name);
        }
    }
    if (!ld->nacct_users) return 0;
    struct nb_user *users = realloc(cfg->users, (cfg->nusers + ld->nacct_users) * sizeof *users);
    if (!users) return NB_ENOMEM;
    memcpy(users + cfg->nusers, ld->acct_users, ld->nacct_users * sizeof *users);
    cfg->users = users;
    cfg->nusers += ld->nacct_users;
    free(ld->acct_users);
    ld->acct_users = NULL;
    ld->nacct_users = 0;
    return 0;
}

/*
 * jetstream: true|false, "enabled"|"disabled", or a block (which turns streams on unless it says
 * enabled: false).
 */
static int
apply_jetstream(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (cJSON_IsBool(v)) {
        ld->cfg->jetstream = cJSON_IsTrue(v);
        return 0;
    }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (strcasecmp(s, "enabled") == 0 || strcasecmp(s, "enable") == 0) {
            ld->cfg->jetstream = true;
        } else if (strcasecmp(s, "disabled") == 0 || strcasecmp(s, "disable") == 0) {
            ld->cfg->jetstream = false;
        } else {
            return bad(ld, key, v, "expected enabled, disabled, true, false or a block");
        }
        return 0;
    }
    if (!cJSON_IsObject(v)) return bad(ld, key, v, "expected a map { ... } or true/false");
    ld->cfg->jetstream = true;
    return apply_map(ld, v, &jetstream_scope);
}

/* ---- cluster ----------------------------------------------------------------------------------- */

/* nats-server's cluster port: -1 a free one, 0 no clustering. */
static int
set_cluster_port(struct loader *ld, const char *key, const cJSON *v, int64_t port)
{
    if (port < -1 || port > 65535) return bad(ld, key, v, "port must be from -1 to 65535");
    ld->cfg->cluster_port = (int)port;
    return 0;
}

static int
apply_cluster_port(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    int64_t port;
    if (!get_int(ld, v, &port, NULL)) return bad(ld, key, v, "expected an integer");
    return set_cluster_port(ld, key, v, port);
}

static int
apply_cluster_listen(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    int64_t port;
    if (get_int(ld, v, &port, NULL)) return set_cluster_port(ld, key, v, port);
    char host[256];
    if (!cJSON_IsString(v) || !split_host_port(v->valuestring, host, sizeof host, &port)) {
        return bad(ld, key, v, "expected \"host:port\", \":port\" or a port number");
    }
    int rc = set_cluster_port(ld, key, v, port);
    if (!rc && host[0] && nb_config_set_str(&ld->cfg->cluster_host, host)) rc = NB_ENOMEM;
    return rc;
}

/* routes: an array of route URLs, each checked here so an error can point at it. */
static int
apply_routes(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsArray(v)) return bad(ld, key, v, "expected an array of route URLs");
    nb_config_clear_routes(ld->cfg);
    for (const cJSON *e = v->child; e; e = e->next) {
        if (!cJSON_IsString(e)) return bad(ld, key, e, "expected a route URL string");
        struct np_url u;
        int rc = np_url_parse_route(&u, e->valuestring);
        np_url_release(&u);
        if (rc == NP_ENOMEM) return NB_ENOMEM;
        if (rc) return bad(ld, key, e, "%s", np_strerror(rc));
        if (nb_config_add_route(ld->cfg, e->valuestring)) return NB_ENOMEM;
    }
    return 0;
}

static int
apply_cluster_auth(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsObject(v)) return bad(ld, key, v, "expected a map { ... }");
    nb_config_set_str(&ld->cfg->cluster_user, NULL);
    nb_config_set_str(&ld->cfg->cluster_pass, NULL);
    return apply_map(ld, v, &cluster_auth_scope);
}

static int
apply_cluster(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsObject(v)) return bad(ld, key, v, "expected a map { ... }");
    return apply_map(ld, v, &cluster_scope);
}

/* ---- tls --------------------------------------------------------------------------------------- */

/*
 * A tls block defines TLS completely, as in nats-server (a second block replaces the first). The
 * files are loaded here, so that a bad certificate is reported where the block is.
 */
static int
read_tls(struct loader *ld, const cJSON *v, struct nb_tls_config *tls, const struct scope *sc)
{
    nb__tls_config_release(tls);
    nb__tls_config_init(tls);
    tls->enabled = true;
    ld->tls = tls;
    int rc = apply_map(ld, v, sc);
    char msg[256];
    if (!rc && nb__tls_check(tls, msg, sizeof msg) != 0) rc = reject(ld, v, "%s", msg);
    return rc;
}

/* tls: client connections (and the https port's certificate). */
static int
apply_tls(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsObject(v)) return bad(ld, key, v, "expected a map { ... }");
    return read_tls(ld, v, &ld->cfg->tls, &tls_scope);
}

/* cluster { tls {} }: routes over TLS, the files loaded here as the clients' block's are. */
static int
apply_cluster_tls(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsObject(v)) return bad(ld, key, v, "expected a map { ... }");
    return read_tls(ld, v, &ld->cfg->cluster_tls, &cluster_tls_scope);
}

static int
apply_no_effect(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    return cJSON_IsBool(v) ? 0 : bad(ld, key, v, "expected true or false");
}

/* verify_and_map: true also turns verify on (false leaves it), as in nats-server's parseTLS. */
static int
apply_tls_map(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsBool(v)) return bad(ld, key, v, "expected true or false");
    ld->tls->map = cJSON_IsTrue(v);
    if (ld->tls->map) ld->tls->verify = true;
    return 0;
}

/* timeout: seconds (a fraction too) or a duration; 0 is nats-server's default. */
static int
apply_tls_timeout(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    int rc = apply_auth_timeout(ld, key, v, off);
    int64_t *ms = FIELD(ld, off, int64_t);
    if (!rc && *ms < 0) return bad(ld, key, v, "must not be negative");
    if (!rc && *ms == 0) *ms = NB_TLS_TIMEOUT_MS;
    return rc;
}

/* min_version: "1.2" or "1.3" (nats-server 2.10; older versions are refused there too). */
static int
apply_tls_version(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsString(v)) return bad(ld, key, v, "expected \"1.2\" or \"1.3\"");
    const char *s = v->valuestring;
    if (strcmp(s, "1.2") == 0 || strcmp(s, "1.3") == 0) {
        ld->tls->min_version = s[2] == '2' ? 0x0303 : 0x0304;
        return 0;
    }
    if (strcmp(s, "1.0") == 0 || strcmp(s, "1.1") == 0)
        return bad(ld, key, v, "unsupported TLS version: TLS %s", s);
    return bad(ld, key, v, "unknown version: %.20s", s);
}

/*
 * cipher_suites, curve_preferences: lists of Go's names, stored as OpenSSL's ':'-joined list. TLS
 * 1.3 suites cannot be configured in nats-server either; listed, they change nothing.
 */
static int
apply_tls_names(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    bool is_cipher = off == AT(tls.ciphers) || off == AT(cluster_tls.ciphers);
    if (!cJSON_IsArray(v)) return bad(ld, key, v, "expected a list of names");
    if (!v->child) return bad(ld, key, v, "must not be empty");
    char list[1024] = "";
    size_t len = 0;
    for (const cJSON *e = v->child; e; e = e->next) {
        const char *name = NULL;
        if (!cJSON_IsString(e)) return bad(ld, key, e, "expected a list of names");
        enum nb_tls_name r = is_cipher ? nb__tls_cipher_name(e->valuestring, &name)
                                       : nb__tls_curve_name(e->valuestring, &name);
        if (r == NB_TLS_NAME_UNKNOWN) {
            return reject(ld, e, "unrecognized %s %.80s", is_cipher ? "cipher" : "curve preference",
                          e->valuestring);
        }
        if (r == NB_TLS_NAME_UNAVAILABLE) {
            return reject(ld, e,
                          "cipher %.80s is not available in natsctl (RC4 and 3DES are broken)",
                          e->valuestring);
        }
        if (name && len + strlen(name) + 2 < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ":" : "", name);
    }
    return nb_config_set_str(FIELD(ld, off, char *), list) ? NB_ENOMEM : 0;
}

/* pinned_certs: SHA-256 of a client's public key (DER SubjectPublicKeyInfo) in hex, one per entry. */
static int
apply_tls_pins(struct loader *ld, const char *key, const cJSON *v, size_t off)
{
    (void)off;
    if (!cJSON_IsArray(v)) return bad(ld, key, v, "expected a list of hex-encoded SHA-256 values");
    size_t n = (size_t)cJSON_GetArraySize(v);
    char *list = calloc(n ? n * 65 : 1, 1), *p = list;
    if (!list) return NB_ENOMEM;
    for (const cJSON *e = v->child; e; e = e->next) {
        const char *h = cJSON_IsString(e) ? e->valuestring : "";
        size_t i = 0;
        while (i < 64 && isxdigit((unsigned char)h[i]))
            i++;
        if (i != 64 || h[64]) {
            free(list);
            return reject(ld, e,
                          "pinned_certs entry %.80s does not look like hex-encoded sha256 of DER "
                          "encoded SubjectPublicKeyInfo",
                          h);
        }
        if (p != list) *p++ = ',';
        for (i = 0; i < 64; i++)
            *p++ = (char)tolower((unsigned char)h[i]);
    }
    int rc = nb_config_set_str(&ld->tls->pinned, n ? list : NULL) ? NB_ENOMEM : 0;
    free(list);
    return rc;
}

/* ---- loading ----------------------------------------------------------------------------------- */

/*
 * Monitoring another address than the clients' (nats-server's http host) cannot be honoured, and
 * serving it on the client address could expose it to the network: refuse.
 */
static int
check_http_host(struct loader *ld)
{
    char host[256];
    int64_t port;
    const cJSON *v = ld->http_host;
    if (!v || !split_host_port(v->valuestring, host, sizeof host, &port)) return 0;
    if (strcmp(host, ld->cfg->host) == 0) return 0;
    return reject(ld, v,
                  "field \"%.60s\" (monitoring on %.60s, not on the client address %.60s) is not "
                  "supported by natsctl (refusing to start without it)",
                  v->string, host, ld->cfg->host);
}

int
nb_config_copy(struct nb_config *dst, const struct nb_config *src)
{
    *dst = *src;
    char **to[] = CONFIG_STRINGS(dst);
    char *const *from[] = CONFIG_STRINGS(src);
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
        *to[i] = NULL;
    dst->users = NULL;
    dst->nusers = 0;
    dst->routes = NULL;
    dst->nroutes = 0;
    dst->accounts = NULL;
    dst->naccounts = 0;
    int rc = nb__tls_config_copy(&dst->tls, &src->tls);
    rc |= nb__tls_config_copy(&dst->cluster_tls, &src->cluster_tls);
    for (size_t i = 0; i < src->naccounts; i++)
        rc |= account_add(dst, src->accounts[i]);
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
        rc |= nb_config_set_str(to[i], *from[i]);
    for (size_t i = 0; i < src->nroutes; i++)
        rc |= nb_config_add_route(dst, src->routes[i]);
    if (!rc && !(rc = nb__users_copy(src->users, src->nusers, &dst->users)))
        dst->nusers = src->nusers;
    if (!rc) return 0;
    nb_config_release(dst);
    return NB_ENOMEM;
}

int
nb__config_apply(struct nb_config *cfg, const struct nb_conf *doc, nb_conf_warn_fn warn_fn,
                 void *warn_ud, struct nb_conf_error *err)
{
    struct nb_conf_error scratch;
    if (!err) err = &scratch;
    memset(err, 0, sizeof *err);
    struct nb_config work;
    if (nb_config_copy(&work, cfg)) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NB_ENOMEM;
    }
    struct loader ld = {.doc = doc, .cfg = &work, .warn = warn_fn, .warn_ud = warn_ud, .err = err};
    int rc = apply_map(&ld, doc->root, &top_scope);
    if (!rc) rc = merge_account_users(&ld);
    acct_users_clear(&ld);
    nb__perms_free(ld.default_perms);
    if (!rc) rc = check_http_host(&ld);
    if (rc == NB_ENOMEM) snprintf(err->msg, sizeof err->msg, "out of memory");
    if (rc) {
        nb_config_release(&work);
        return rc;
    }
    nb_config_release(cfg);
    *cfg = work;
    return 0;
}

int
nb_config_load(struct nb_config *cfg, const char *path, nb_conf_warn_fn warn_fn, void *warn_ud,
               struct nb_conf_error *err)
{
    struct nb_conf doc;
    int rc = nb__conf_parse_file(&doc, path, err);
    if (rc) return rc;
    rc = nb__config_apply(cfg, &doc, warn_fn, warn_ud, err);
    nb__conf_release(&doc);
    return rc;
}
