/*
 * natsctl server: runs the broker in the foreground with nats-server's flags.
 *
 * Options are applied in three layers: libbroker's defaults, then the configuration file (-c), then
 * the flags, so a flag always wins over the file. Flags follow nats-server, which parses them with
 * Go's flag package: one or two dashes, a name that is never split into letters (-DV, -js),
 * `-name value` or `-name=value`, and no bundling.
 *
 * The log uses nats-server's line format and startup lines, on stderr or in the -l file. Once
 * listening the server also prints one ready line on stderr naming the URL, which scripts wait
 * for. A startup failure is one line on stderr (and an [ERR] line in the -l file). SIGINT and
 * SIGTERM stop the server cleanly (pending output flushed) with exit 0; SIGUSR2 starts lame duck
 * mode, which ends in the same stop (SIGTERM is ignored meanwhile, as nats-server does); SIGUSR1
 * reopens the log file, as after logrotate moved it; SIGHUP reloads the -c file (the flags applied
 * over it again) through nb_server_reload(), or logs why it cannot and keeps the running
 * configuration. --signal sends these to a running server (cli_signal.c).
 */
#include "cli.h"
#include "cli_busypoll.h"
#include "cli_signal.h"
#include "nb.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

enum {
    OPT_ADDR = 1,
    OPT_PORT,
    OPT_NAME,
    OPT_HTTP_PORT,
    OPT_CONFIG,
    OPT_CHECK,
    OPT_LOG,
    OPT_LOGTIME,
    OPT_DEBUG,
    OPT_TRACE,
    OPT_DEBUG_TRACE,
    OPT_PID,
    OPT_PORTS_DIR,
    OPT_MAX_PAYLOAD,
    OPT_USER,
    OPT_PASS,
    OPT_AUTH,
    OPT_BUSY_POLL,
    OPT_JETSTREAM,
    OPT_STORE_DIR,
    OPT_CLUSTER,
    OPT_ROUTES,
    OPT_CLUSTER_NAME,
    OPT_CLUSTER_ADVERTISE,
    OPT_NO_ADVERTISE,
    OPT_CONNECT_RETRIES,
    OPT_CLIENT_ADVERTISE,
    OPT_HTTPS_PORT,
    OPT_TLS,
    OPT_TLS_VERIFY,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_CA,
    OPT_SIGNAL,
    OPT_VERSION,
};

const struct cli_opt cmd_server_opts[] = {
    {OPT_ADDR, "a", "addr", "net", "HOST", "listen address (default 127.0.0.1: local only)", NULL},
    {OPT_PORT, "p", "port", NULL, "PORT", "client port (default 4222; -1 or 0 picks a free one)",
     NULL},
    {OPT_NAME, "n", "name", "server_name", "NAME", "server name (default: the server id)", NULL},
    {OPT_HTTP_PORT, "m", "http_port", "http-port", "PORT",
     "HTTP monitoring port (-1 picks a free one): /varz, /connz, /subsz, /jsz, /healthz...", NULL},
    {OPT_HTTPS_PORT, "ms", "https_port", "https-port", "PORT",
     "the monitoring port over TLS, with the client port's certificate", NULL},
    {OPT_CONFIG, "c", "config", NULL, "FILE", "configuration file in nats-server syntax", NULL},
    {OPT_CHECK, "t", NULL, NULL, NULL, "test the configuration and exit", NULL},
    {OPT_LOG, "l", "log", NULL, "FILE", "write the log to FILE instead of stderr", NULL},
    {OPT_LOGTIME, "T", "logtime", NULL, NULL, "timestamp log lines (default; -T=false: none)",
     NULL},
    {OPT_DEBUG, "D", "debug", NULL, NULL, "log debug messages", NULL},
    {OPT_TRACE, "V", "trace", NULL, NULL, "log every protocol operation", NULL},
    {OPT_DEBUG_TRACE, "DV", NULL, NULL, NULL, "debug and trace", NULL},
    {OPT_TRACE, "VV", NULL, NULL, NULL, "verbose trace (the same as -V: no system account)", NULL},
    {OPT_DEBUG_TRACE, "DVV", NULL, NULL, NULL, "debug and verbose trace (the same as -DV)", NULL},
    {OPT_PID, "P", "pid", NULL, "FILE", "write the process id to FILE (--signal: read it)", NULL},
    {OPT_SIGNAL, "sl", "signal", NULL, "VERB[=PID]",
     "send a running server ldm, stop, quit, term, reopen or reload and exit; PID is a number or a "
     "pid file (default: -P's file, or the one natsctl server running)",
     NULL},
    {OPT_PORTS_DIR, NULL, "ports_file_dir", "ports-file-dir", "DIR",
     "write DIR/natsctl_<pid>.ports with the URLs once listening", NULL},
    {OPT_MAX_PAYLOAD, NULL, "max_payload", "max-payload", "SIZE",
     "largest message accepted (default 1MB; units k, kb, m, mb)", NULL},
    {OPT_USER, NULL, "user", NULL, "USER", "require this user name", NULL},
    {OPT_PASS, NULL, "pass", NULL, "PASSWORD", "password for --user", NULL},
    {OPT_AUTH, NULL, "auth", NULL, "TOKEN", "require this authorization token", NULL},
    {OPT_BUSY_POLL, NULL, "busy_poll", "busy-poll", "USEC|auto",
     "poll up to USEC microseconds after traffic, for latency at the cost of CPU; auto (the "
     "default) polls and batches only where it saves CPU; 0: neither",
     NULL},
    {OPT_JETSTREAM, "js", "jetstream", NULL, NULL, "enable streams and the JetStream API", NULL},
    {OPT_STORE_DIR, "sd", "store_dir", "store-dir", "DIR",
     "where file streams are kept (default: the system's temporary directory/nats)", NULL},
    {OPT_CLUSTER, NULL, "cluster", "cluster_listen", "URL",
     "listen for routes from other servers: nats://[user:pass@]HOST:PORT (PORT -1: a free one; "
     "user:pass is what routes must present)",
     NULL},
    {OPT_ROUTES, NULL, "routes", NULL, "URL[,URL]",
     "servers of the cluster to dial (nats-route://[user:pass@]HOST:PORT); one is enough, the "
     "others are learnt from it",
     NULL},
    {OPT_CLUSTER_NAME, NULL, "cluster_name", NULL, "NAME",
     "cluster name (default: generated, then taken from peers that have one set)", NULL},
    {OPT_CLUSTER_ADVERTISE, NULL, "cluster_advertise", NULL, "HOST:PORT",
     "address the other servers dial to reach this one", NULL},
    {OPT_NO_ADVERTISE, NULL, "no_advertise", NULL, NULL,
     "do not tell clients about the other servers (connect_urls)", NULL},
    {OPT_CONNECT_RETRIES, NULL, "connect_retries", NULL, "N",
     "dial attempts after the first for servers learnt from peers (default 0)", NULL},
    {OPT_CLIENT_ADVERTISE, NULL, "client_advertise", NULL, "HOST:PORT",
     "address clients are told to use for this server (INFO, connect_urls)", NULL},
    {OPT_TLS, NULL, "tls", NULL, NULL,
     "require TLS from clients (with --tlscert, --tlskey; --tls=false: no TLS, whatever -c says)",
     NULL},
    {OPT_TLS_CERT, NULL, "tlscert", NULL, "FILE", "server certificate (PEM)", NULL},
    {OPT_TLS_KEY, NULL, "tlskey", NULL, "FILE", "private key of the server certificate (PEM)",
     NULL},
    {OPT_TLS_VERIFY, NULL, "tlsverify", NULL, NULL, "TLS, and require client certificates", NULL},
    {OPT_TLS_CA, NULL, "tlscacert", NULL, "FILE", "CAs that client certificates must chain to",
     NULL},
    {OPT_VERSION, "v", "version", NULL, NULL, "print the version and exit", NULL},
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

const char cmd_server_details[] =
    "Runs a NATS broker that official NATS clients and nats-server peers can use. It listens on\n"
    "127.0.0.1 unless -a says otherwise: nats-server binds every interface by default, this one\n"
    "is local until you ask. Flags are nats-server's, with one or two dashes (-DV, --port=4222);\n"
    "they override values from the configuration file. A configuration that asks for something\n"
    "natsctl cannot provide, such as JWT operator mode, is refused rather than run without it.\n"
    "Any --tls* flag replaces the file's tls block, as in nats-server (docs/security.md).\n"
    "\n"
    "The log has nats-server's format, on stderr or in the -l file; once listening the server\n"
    "also prints one line with the URL on stderr. SIGINT or SIGTERM stops it cleanly (exit 0);\n"
    "SIGUSR2 starts lame duck mode: no new clients, the others are moved to the cluster's other\n"
    "servers over lame_duck_duration, then it stops (exit 0). SIGUSR1 reopens the log file (for\n"
    "logrotate). SIGHUP reloads the -c file, flags still winning: users, permissions, tokens, TLS\n"
    "certificates (for new connections) and debug/trace change, clients whose credentials no\n"
    "longer hold are disconnected; a change that cannot be reloaded, or an invalid file, is\n"
    "refused and logged, and the running configuration stays (docs/security.md). --signal sends\n"
    "these by name: ldm (SIGUSR2), quit (SIGINT), term (SIGTERM), reopen (SIGUSR1), reload\n"
    "(SIGHUP), stop (SIGKILL).\n"
    "\n"
    "Examples:\n"
    "  natsctl server                      # nats://127.0.0.1:4222\n"
    "  natsctl server -p -1 --ports_file_dir /tmp\n"
    "  natsctl server -t -c nats.conf      # check the file and exit\n"
    "  natsctl server -a 0.0.0.0 --auth s3cret -c nats.conf\n"
    "  natsctl server --signal ldm=/run/natsctl.pid\n"
    "  natsctl server --signal reload=/run/natsctl.pid   # after editing the -c file\n";

/*
 * nats-server flags natsctl does not have. They are refused by name: splitting "-js" into -j -s,
 * or starting without TLS that --tls asked for, would both do something the user did not mean.
 */
static const struct {
    const char *name;
    const char *why;
} unsupported_flags[] = {
    {"help_tls", "natsctl has no TLS help page; docs/security.md lists the TLS options"},
    {"s", "syslog is not supported by natsctl; use -l FILE"},
    {"syslog", "syslog is not supported by natsctl; use -l FILE"},
    {"r", "syslog is not supported by natsctl; use -l FILE"},
    {"remote_syslog", "syslog is not supported by natsctl; use -l FILE"},
    {"log_size_limit", "natsctl does not rotate its log; rotate it with logrotate and SIGUSR1"},
    {"max_traced_msg_len", "natsctl does not shorten traced messages"},
    {"profile", "profiling is not supported by natsctl"},
};

/* Flag values, kept apart from the config so they can be applied after the file. */
/* --busy_poll auto: frugal polling and batching (cli_busypoll.h). */
#define BUSY_POLL_AUTO (-1)

struct server_flags {
    const char *addr, *name, *config, *logfile, *pidfile, *ports_dir, *signal;
    const char *user, *pass, *token, *store_dir;
    const char *cluster, *routes, *cluster_name, *cluster_advertise, *client_advertise;
    const char *tls_cert, *tls_key, *tls_ca;
    long long port, http_port, https_port, max_payload, busy_poll_us, connect_retries;
    bool port_set, http_port_set, https_port_set, max_payload_set, connect_retries_set;
    bool debug, trace, check, version, no_logtime, jetstream, no_advertise;
    bool tls_flag; /* some --tls* flag was given: the flags define TLS */
    bool tls_off;  /* --tls=false: no TLS at all */
    bool tls_verify;
    bool logtime_set; /* -T was given: it wins over the file's logtime */
};

/* The signals the running server handles; the others keep their default action. */
static const int trapped[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};

struct server_run {
    uv_loop_t *loop;
    struct nb_server *srv;
    uv_signal_t signals[sizeof trapped / sizeof trapped[0]];
    FILE *log;
    char *logfile; /* what SIGUSR1 reopens (a copy); NULL when logging to stderr */
    enum nb_log_level level;
    bool logtime;
    char *warnings; /* configuration warnings, one per line, logged once the log is open */
    size_t warnings_len;
    char ports_path[4096];
    const char *pidfile;
    const struct server_flags *flags; /* what a reload applies over the file again */
};

/* ---- flags ------------------------------------------------------------------------------------- */

static int
bad_value(const char *opt, const char *arg)
{
    cli_error(cli_cmd_find("server"), "invalid value '%s' for --%s", arg, opt);
    return CLI_EXIT_USAGE;
}

/* A flag without a value: arg is NULL when it is set, "false" when -flag=false cleared it. */
static int
on_switch(struct server_flags *f, int id, const char *arg)
{
    bool on = arg == NULL;
    switch (id) {
    case OPT_CHECK:
        f->check = on;
        break;
    case OPT_LOGTIME:
        f->no_logtime = !on;
        f->logtime_set = true;
        break;
    case OPT_DEBUG:
        f->debug = on;
        break;
    case OPT_TRACE:
        f->trace = on;
        break;
    case OPT_DEBUG_TRACE:
        f->debug = f->trace = on;
        break;
    case OPT_VERSION:
        f->version = on;
        break;
    case OPT_JETSTREAM:
        f->jetstream = on;
        break;
    case OPT_NO_ADVERTISE:
        f->no_advertise = on;
        break;
    case OPT_TLS:
        f->tls_flag = true;
        f->tls_off = !on;
        break;
    case OPT_TLS_VERIFY:
        f->tls_flag = true;
        f->tls_verify = on;
        break;
    }
    return 0;
}

static int
on_number(struct server_flags *f, int id, const char *arg)
{
    switch (id) {
    case OPT_PORT:
        if (!cli_parse_int(arg, -1, 65535, &f->port)) return bad_value("port", arg);
        f->port_set = true;
        break;
    case OPT_HTTP_PORT:
        if (!cli_parse_int(arg, -1, 65535, &f->http_port)) return bad_value("http_port", arg);
        f->http_port_set = true;
        break;
    case OPT_HTTPS_PORT:
        if (!cli_parse_int(arg, -1, 65535, &f->https_port)) return bad_value("https_port", arg);
        f->https_port_set = true;
        break;
    case OPT_BUSY_POLL:
        if (strcmp(arg, "auto") == 0)
            f->busy_poll_us = BUSY_POLL_AUTO;
        else if (!cli_parse_int(arg, 0, 1000000, &f->busy_poll_us))
            return bad_value("busy_poll", arg);
        break;
    case OPT_MAX_PAYLOAD:
        if (!cli_parse_size(arg, &f->max_payload) || f->max_payload <= 0)
            return bad_value("max_payload", arg);
        f->max_payload_set = true;
        break;
    case OPT_CONNECT_RETRIES:
        if (!cli_parse_int(arg, 0, INT32_MAX, &f->connect_retries))
            return bad_value("connect_retries", arg);
        f->connect_retries_set = true;
        break;
    }
    return 0;
}

/* The field of a flag that takes a string, or NULL for the others. */
static const char **
string_field(struct server_flags *f, int id)
{
    switch (id) {
    case OPT_ADDR:
        return &f->addr;
    case OPT_NAME:
        return &f->name;
    case OPT_CONFIG:
        return &f->config;
    case OPT_LOG:
        return &f->logfile;
    case OPT_PID:
        return &f->pidfile;
    case OPT_SIGNAL:
        return &f->signal;
    case OPT_PORTS_DIR:
        return &f->ports_dir;
    case OPT_USER:
        return &f->user;
    case OPT_PASS:
        return &f->pass;
    case OPT_AUTH:
        return &f->token;
    case OPT_STORE_DIR:
        return &f->store_dir;
    case OPT_CLUSTER:
        return &f->cluster;
    case OPT_ROUTES:
        return &f->routes;
    case OPT_CLUSTER_NAME:
        return &f->cluster_name;
    case OPT_CLUSTER_ADVERTISE:
        return &f->cluster_advertise;
    case OPT_CLIENT_ADVERTISE:
        return &f->client_advertise;
    case OPT_TLS_CERT:
        return &f->tls_cert;
    case OPT_TLS_KEY:
        return &f->tls_key;
    case OPT_TLS_CA:
        return &f->tls_ca;
    default:
        return NULL;
    }
}

static int
on_flag(struct server_flags *f, const struct cli_opt *o, const char *arg)
{
    if (!o->arg_name) return on_switch(f, o->id, arg);
    const char **field = string_field(f, o->id);
    if (!field) return on_number(f, o->id, arg);
    *field = arg;
    if (o->id == OPT_TLS_CERT || o->id == OPT_TLS_KEY || o->id == OPT_TLS_CA) f->tls_flag = true;
    return 0;
}

/* The row whose short, long or other name is exactly name (len bytes), or NULL. */
static const struct cli_opt *
find_flag(const char *name, size_t len)
{
    for (const struct cli_opt *o = cmd_server_opts; o->id; o++) {
        const char *names[3] = {o->short_name, o->long_name, o->alt_name};
        for (int k = 0; k < 3; k++) {
            if (names[k] && strlen(names[k]) == len && strncmp(names[k], name, len) == 0) return o;
        }
    }
    return NULL;
}

static const char *
unsupported_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof unsupported_flags / sizeof unsupported_flags[0]; i++) {
        const char *n = unsupported_flags[i].name;
        if (strlen(n) == len && strncmp(n, name, len) == 0) return unsupported_flags[i].why;
    }
    return NULL;
}

/* Go's strconv.ParseBool, the values a boolean flag takes after '='. */
static int
parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) return 1;
        if (strcmp(s, no[i]) == 0) return 0;
    }
    return -1;
}

/*
 * One flag at argv[*i] (already known to start with '-'), as Go's flag package reads it; a flag
 * that takes a value and has no '=' takes the next argument, whatever it looks like ("-p -1").
 */
static int
parse_flag(const struct cli_cmd *self, int argc, char **argv, int *i, struct server_flags *f)
{
    const char *arg = argv[*i], *name = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int shown = (int)(name - arg) + (int)len;
    if ((len == 1 && name[0] == 'h') || (len == 4 && strncmp(name, "help", 4) == 0)) {
        cli_cmd_help(self, stdout);
        return -1;
    }
    const struct cli_opt *o = len && name[0] != '-' ? find_flag(name, len) : NULL;
    if (!o) {
        const char *why = unsupported_flag(name, len);
        if (why) return cli_usage(self, "%.*s: %s", shown, arg, why);
        return cli_usage(self, "unknown option '%.*s' (see 'natsctl server --help')", shown, arg);
    }
    if (!o->arg_name) {
        int on = eq ? parse_bool(eq + 1) : 1;
        if (on < 0) return cli_usage(self, "invalid value '%s' for %.*s", eq + 1, shown, arg);
        return on_flag(f, o, on ? NULL : "false");
    }
    if (eq) return on_flag(f, o, eq + 1);
    if (*i + 1 >= argc) return cli_usage(self, "option '%.*s' needs a value", shown, arg);
    return on_flag(f, o, argv[++*i]);
}

/* Returns 0, -1 after printing the help, or an exit code after printing why. */
static int
parse_flags(const struct cli_cmd *self, int argc, char **argv, struct server_flags *f)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            if (i + 1 < argc) return cli_usage(self, "unexpected argument '%s'", argv[i + 1]);
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            return cli_usage(self, "unexpected argument '%s'", arg);
        }
        int rc = parse_flag(self, argc, argv, &i, f);
        if (rc) return rc;
    }
    return 0;
}

/* ---- configuration ----------------------------------------------------------------------------- */

/* Keeps a configuration warning for the log, which is not open yet. */
static void
conf_warn(void *ud, const char *msg)
{
    struct server_run *run = ud;
    size_t n = strlen(msg);
    char *w = realloc(run->warnings, run->warnings_len + n + 2);
    if (!w) return;
    memcpy(w + run->warnings_len, msg, n);
    w[run->warnings_len + n] = '\n';
    run->warnings_len += n + 1;
    w[run->warnings_len] = '\0';
    run->warnings = w;
}

/*
 * NATSCTL_HTTP_TIMEOUT_MS shortens (or lengthens) the monitoring port's per-request deadline, for
 * tests that check a slow HTTP client is dropped without waiting the default 10 s. nats-server has
 * no such option, so it is not a flag or a configuration key.
 */
static void
http_timeout_from_env(struct nb_config *cfg)
{
    const char *v = getenv("NATSCTL_HTTP_TIMEOUT_MS");
    char *end;
    if (!v || !*v) return;
    long long ms = strtoll(v, &end, 10);
    if (*end == '\0' && ms > 0) cfg->http_timeout_ms = ms;
}

/* --routes replaces the file's routes, as in nats-server; blanks around each URL are dropped. */
static int
apply_routes(struct nb_config *cfg, const char *list)
{
    nb_config_clear_routes(cfg);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        size_t skip = strspn(p, " \t");
        size_t len = n > skip ? n - skip : 0;
        while (len && (p[skip + len - 1] == ' ' || p[skip + len - 1] == '\t'))
            len--;
        char *url = strndup(p + skip, len);
        int rc = !url || (len && nb_config_add_route(cfg, url));
        free(url);
        if (rc) return NB_ENOMEM;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* The clustering flags; returns 0 or an exit code after printing why. */
static int
apply_cluster_flags(struct nb_config *cfg, const struct server_flags *f)
{
    char msg[256];
    int rc = f->cluster ? nb_config_cluster_url(cfg, f->cluster, msg, sizeof msg) : 0;
    if (rc == NB_ECONFIG) {
        cli_error(cli_cmd_find("server"), "%s", msg);
        return CLI_EXIT_USAGE;
    }
    if (f->routes) rc |= apply_routes(cfg, f->routes);
    if (f->cluster_name) rc |= nb_config_set_str(&cfg->cluster_name, f->cluster_name);
    if (f->cluster_advertise)
        rc |= nb_config_set_str(&cfg->cluster_advertise, f->cluster_advertise);
    if (f->client_advertise) rc |= nb_config_set_str(&cfg->client_advertise, f->client_advertise);
    if (f->no_advertise) cfg->cluster_no_advertise = true;
    if (f->connect_retries_set) cfg->connect_retries = f->connect_retries;
    return rc ? CLI_EXIT_FAIL : 0;
}

static int
apply_flags(struct nb_config *cfg, const struct server_flags *f)
{
    int rc = 0;
    if (f->addr) rc |= nb_config_set_str(&cfg->host, f->addr);
    if (f->name) rc |= nb_config_set_str(&cfg->server_name, f->name);
    if (f->user) rc |= nb_config_set_str(&cfg->auth_user, f->user);
    if (f->pass) rc |= nb_config_set_str(&cfg->auth_pass, f->pass);
    if (f->token) rc |= nb_config_set_str(&cfg->auth_token, f->token);
    if (f->store_dir) rc |= nb_config_set_str(&cfg->store_dir, f->store_dir);
    if (f->jetstream) cfg->jetstream = true;
    if (f->port_set) cfg->port = f->port < 0 ? 0 : (int)f->port;
    if (f->http_port_set) cfg->http_port = (int)f->http_port;
    if (f->https_port_set) cfg->https_port = (int)f->https_port;
    if (f->max_payload_set) cfg->max_payload = f->max_payload;
    http_timeout_from_env(cfg);
    if (f->debug) cfg->debug = true;
    if (f->trace) cfg->trace = true;
    if (f->logfile) rc |= nb_config_set_str(&cfg->log_file, f->logfile);
    if (f->logtime_set) cfg->logtime = !f->no_logtime;
    if (rc) return CLI_EXIT_FAIL;
    return apply_cluster_flags(cfg, f);
}

/*
 * The --tls* flags, as nats-server's overrideTLS applies them: any of them replaces the file's TLS
 * settings (its handshake timeout and pinned keys stay), --tls=false turns TLS off whatever else
 * was said. Returns 0 or an exit code after printing why.
 */
static int
apply_tls_flags(struct nb_config *cfg, const struct server_flags *f)
{
    const struct cli_cmd *self = cli_cmd_find("server");
    struct nb_tls_config *tls = &cfg->tls;
    if (f->tls_off) {
        tls->enabled = false;
        return 0;
    }
    if (!f->tls_flag) return 0;
    if (!f->tls_cert) return cli_usage(self, "TLS Server certificate must be present and valid");
    if (!f->tls_key) return cli_usage(self, "TLS Server private key must be present and valid");
    int rc = nb_config_set_str(&tls->cert_file, f->tls_cert);
    rc |= nb_config_set_str(&tls->key_file, f->tls_key);
    rc |= nb_config_set_str(&tls->ca_file, f->tls_ca);
    rc |= nb_config_set_str(&tls->ciphers, NULL);
    rc |= nb_config_set_str(&tls->curves, NULL);
    tls->enabled = true;
    tls->verify = f->tls_verify;
    tls->map = false;
    tls->min_version = 0x0303;
    return rc ? CLI_EXIT_FAIL : 0;
}

/* Builds the configuration; returns 0 or an exit code after printing why. */
static int
load_config(struct nb_config *cfg, const struct server_flags *f, struct server_run *run)
{
    const struct cli_cmd *self = cli_cmd_find("server");
    if (f->config) {
        struct nb_conf_error err = {0};
        int rc = nb_config_load(cfg, f->config, conf_warn, run, &err);
        if (rc && err.line > 0) {
            cli_error(self, "%s:%d:%d: %s", err.file, err.line, err.column, err.msg);
        } else if (rc) {
            cli_error(self, "%s: %s", f->config, err.msg[0] ? err.msg : nb_strerror(rc));
        }
        if (rc) return rc == NB_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    int rc = apply_flags(cfg, f);
    if (!rc) rc = apply_tls_flags(cfg, f);
    if (rc) return rc;
    char msg[256];
    if (nb_config_validate(cfg, msg, sizeof msg)) {
        cli_error(self, "%s", msg);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* -t: nats-server's configuration test, with the warnings a start would log. */
static int
check_config(const struct server_flags *f, const struct server_run *run)
{
    const struct cli_cmd *self = cli_cmd_find("server");
    for (const char *w = run->warnings; w && *w; w = strchr(w, '\n') + 1)
        cli_error(self, "warning: %.*s", (int)strcspn(w, "\n"), w);
    cli_error(self, "configuration file %s is valid", f->config);
    return CLI_EXIT_OK;
}

/* ---- logging ----------------------------------------------------------------------------------- */

static const char *const level_tags[] = {"[ERR]", "[WRN]", "[INF]", "[DBG]", "[TRC]"};

/* nats-server's log line: "[pid] 2006/01/02 15:04:05.000000 [INF] message". */
static void
log_line(void *ud, enum nb_log_level level, const char *msg)
{
    struct server_run *run = ud;
    if (level > run->level) return;
    char stamp[48] = "";
    if (run->logtime) {
        struct timeval tv;
        struct tm tm;
        char date[32];
        gettimeofday(&tv, NULL);
        localtime_r(&tv.tv_sec, &tm);
        strftime(date, sizeof date, "%Y/%m/%d %H:%M:%S", &tm);
        snprintf(stamp, sizeof stamp, " %s.%06ld", date, (long)tv.tv_usec);
    }
    fprintf(run->log, "[%d]%s %s %s\n", (int)getpid(), stamp, level_tags[level], msg);
    fflush(run->log);
}

static void logf_run(struct server_run *run, enum nb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
logf_run(struct server_run *run, enum nb_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_line(run, level, msg);
}

static void fail_start(struct server_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A startup failure: one line on stderr, and an [ERR] line too when the log is a file. */
static void
fail_start(struct server_run *run, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (run->log != stderr) log_line(run, NB_LOG_ERROR, msg);
    cli_error(cli_cmd_find("server"), "%s", msg);
}

/* The log file of cfg (-l or log_file), or stderr. */
static int
open_log(struct server_run *run, const struct nb_config *cfg)
{
    run->log = stderr;
    run->logtime = cfg->logtime;
    if (!cfg->log_file) return 0;
    run->log = fopen(cfg->log_file, "ae");
    run->logfile = run->log ? strdup(cfg->log_file) : NULL;
    if (run->logfile) return 0;
    if (run->log) fclose(run->log);
    run->log = stderr;
    cli_error(cli_cmd_find("server"), "cannot open log file '%s': %s", cfg->log_file,
              strerror(errno));
    return CLI_EXIT_FAIL;
}

/*
 * A reload changed the logging options (nats-server's ConfigureLogger): the level, timestamps, and
 * a new log file, which the following lines go to. A file that cannot be opened leaves the old one.
 */
static void
relog(void *ud, const struct nb_config *cfg)
{
    struct server_run *run = ud;
    run->level = cfg->trace ? NB_LOG_TRACE : cfg->debug ? NB_LOG_DEBUG : NB_LOG_INFO;
    run->logtime = cfg->logtime;
    const char *want = cfg->log_file;
    if (want ? run->logfile && strcmp(want, run->logfile) == 0 : !run->logfile) return;
    FILE *f = want ? fopen(want, "ae") : stderr;
    char *name = want ? strdup(want) : NULL;
    if (!f || (want && !name)) {
        logf_run(run, NB_LOG_ERROR, "cannot open log file '%s': %s", want, strerror(errno));
        if (f) fclose(f);
        free(name);
        return;
    }
    if (run->log != stderr) fclose(run->log);
    free(run->logfile);
    run->log = f;
    run->logfile = name;
}

/* SIGUSR1: logrotate has moved the file away; continue in a new one under the same name. */
static void
reopen_log(struct server_run *run)
{
    if (!run->logfile) {
        log_line(run, NB_LOG_INFO, "File log re-open ignored, not a file logger");
        return;
    }
    FILE *f = fopen(run->logfile, "ae");
    if (!f) {
        logf_run(run, NB_LOG_ERROR, "cannot re-open log file '%s': %s", run->logfile,
                 strerror(errno));
        return;
    }
    fclose(run->log);
    run->log = f;
    log_line(run, NB_LOG_INFO, "File log re-opened");
}

/* The lines nats-server logs before it listens, then the configuration warnings. */
static void
log_banner(struct server_run *run, const struct server_flags *f, const struct nb_config *cfg)
{
    log_line(run, NB_LOG_INFO, "Starting natsctl-server");
    log_line(run, NB_LOG_INFO, "  Version:  " NATSCTL_VERSION);
    if (cfg->server_name) logf_run(run, NB_LOG_INFO, "  Name:     %s", cfg->server_name);
    if (f->config) logf_run(run, NB_LOG_INFO, "Using configuration file: %s", f->config);
    for (const char *w = run->warnings; w && *w; w = strchr(w, '\n') + 1)
        logf_run(run, NB_LOG_WARN, "%.*s", (int)strcspn(w, "\n"), w);
}

/* ---- running ----------------------------------------------------------------------------------- */

/* The host to print in URLs: a wildcard address is reachable on loopback. */
static const char *
url_host(const char *host)
{
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0') return "127.0.0.1";
    if (strcmp(host, "::") == 0) return "[::1]";
    return host;
}

/* host:port as nats-server logs it, with brackets around an IPv6 address. */
static const char *
host_port(const char *host, int port, char *buf, size_t cap)
{
    snprintf(buf, cap, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return buf;
}

static int
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -errno;
    int ok = fputs(text, f) >= 0;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -EIO;
}

static int
write_run_files(struct server_run *run, const struct server_flags *f, const char *url,
                const struct nb_config *cfg)
{
    char text[4200];
    if (f->pidfile) {
        snprintf(text, sizeof text, "%d", (int)getpid());
        if (write_file(f->pidfile, text) != 0) {
            fail_start(run, "cannot write pid file '%s': %s", f->pidfile, strerror(errno));
            return CLI_EXIT_FAIL;
        }
        run->pidfile = f->pidfile;
    }
    if (f->ports_dir) {
        int n = snprintf(text, sizeof text, "{\"nats\":[\"%s\"]", url);
        int http_port = nb_server_http_port(run->srv);
        if (http_port > 0)
            n += snprintf(text + n, sizeof text - (size_t)n, ",\"monitoring\":[\"%s://%s:%d\"]",
                          cfg->http_port == 0 ? "https" : "http", url_host(cfg->host), http_port);
        int cport = nb_server_cluster_port(run->srv);
        if (cport > 0)
            n += snprintf(text + n, sizeof text - (size_t)n, ",\"cluster\":[\"%s://%s:%d\"]",
                          cfg->cluster_tls.enabled ? "tls" : "nats",
                          url_host(cfg->cluster_host ? cfg->cluster_host : cfg->host), cport);
        snprintf(text + n, sizeof text - (size_t)n, "}");
        snprintf(run->ports_path, sizeof run->ports_path, "%s/natsctl_%d.ports", f->ports_dir,
                 (int)getpid());
        if (write_file(run->ports_path, text) != 0) {
            fail_start(run, "cannot write ports file '%s': %s", run->ports_path, strerror(errno));
            run->ports_path[0] = '\0';
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

static void
remove_run_files(struct server_run *run)
{
    if (run->pidfile) unlink(run->pidfile);
    if (run->ports_path[0]) unlink(run->ports_path);
}

static void
on_stopped(struct nb_server *srv, void *ud)
{
    struct server_run *run = ud;
    (void)srv;
    for (size_t i = 0; i < sizeof trapped / sizeof trapped[0]; i++)
        uv_close((uv_handle_t *)&run->signals[i], NULL);
    log_line(run, NB_LOG_INFO, "Server Exiting..");
}

/*
 * The configuration a reload applies: the file read again, then the flags over it as at the start.
 * Returns 0 or an error with msg.
 */
static int
reload_config(struct nb_config *cfg, const struct server_flags *f, char *msg, size_t cap)
{
    struct nb_conf_error err = {0};
    int rc = nb_config_load(cfg, f->config, NULL, NULL, &err);
    if (rc && err.line > 0) {
        snprintf(msg, cap, "%s:%d:%d: %s", err.file, err.line, err.column, err.msg);
    } else if (rc) {
        snprintf(msg, cap, "%s: %s", f->config, err.msg[0] ? err.msg : nb_strerror(rc));
    } else if (apply_flags(cfg, f) || apply_tls_flags(cfg, f)) {
        /* The same flags passed at the start: only memory can fail them now. */
        snprintf(msg, cap, "%s", nb_strerror(NB_ENOMEM));
        rc = NB_ENOMEM;
    }
    return rc;
}

/* SIGHUP: nats-server's Reload(); a refusal is logged and the running configuration stays. */
static void
reload(struct server_run *run)
{
    log_line(run, NB_LOG_DEBUG, "Trapped \"hangup\" signal");
    char msg[1024];
    struct nb_config cfg;
    nb_config_init(&cfg);
    int rc = NB_ECONFIG;
    if (!run->flags->config)
        snprintf(msg, sizeof msg,
                 "can only reload config when a file is provided using -c or --config");
    else
        rc = reload_config(&cfg, run->flags, msg, sizeof msg);
    if (!rc) rc = nb_server_reload(run->srv, &cfg, msg, sizeof msg);
    if (rc) logf_run(run, NB_LOG_ERROR, "Failed to reload server configuration: %s", msg);
    nb_config_release(&cfg);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    struct server_run *run = h->data;
    if (signum == SIGUSR1) {
        reopen_log(run);
        return;
    }
    if (signum == SIGHUP) {
        reload(run);
        return;
    }
    if (signum == SIGUSR2) {
        nb_server_lame_duck(run->srv, on_stopped, run);
        return;
    }
    /* As in nats-server, lame duck mode runs to its end unless interrupted. */
    if (signum == SIGTERM && nb_server_in_lame_duck(run->srv)) return;
    log_line(run, NB_LOG_INFO,
             signum == SIGINT ? "Trapped \"interrupt\" signal" : "Trapped \"terminated\" signal");
    for (size_t i = 0; i < sizeof trapped / sizeof trapped[0]; i++)
        uv_signal_stop(&run->signals[i]);
    nb_server_stop(run->srv, on_stopped, run);
}

static void
trap_signals(struct server_run *run)
{
    for (size_t i = 0; i < sizeof trapped / sizeof trapped[0]; i++) {
        uv_signal_init(run->loop, &run->signals[i]);
        run->signals[i].data = run;
        uv_signal_start(&run->signals[i], on_signal, trapped[i]);
    }
}

static struct cli_traffic
traffic_in(void *srv)
{
    struct nb_stats st;
    nb_server_stats(srv, &st);
    return (struct cli_traffic){st.in_msgs, st.in_bytes};
}

/* The lines nats-server logs once it listens, and natsctl's ready line. */
static void
log_ready(struct server_run *run, const struct nb_config *cfg, const char *url)
{
    char hp[300];
    int http_port = nb_server_http_port(run->srv);
    if (http_port > 0) {
        logf_run(run, NB_LOG_INFO, "Starting %s monitor on %s",
                 cfg->http_port == 0 ? "https" : "http",
                 host_port(cfg->host, http_port, hp, sizeof hp));
    }
    logf_run(run, NB_LOG_INFO, "Listening for client connections on %s",
             host_port(cfg->host, nb_server_port(run->srv), hp, sizeof hp));
    if (cfg->tls.enabled) log_line(run, NB_LOG_INFO, "TLS required for client connections");
    log_line(run, NB_LOG_INFO, "Server is ready");
    fprintf(stderr, "natsctl server: listening on %s\n", url);
}

static int
serve(struct server_run *run, const struct server_flags *f, struct nb_config *cfg)
{
    int rc = nb_server_new(&run->srv, run->loop, cfg);
    if (rc == 0) rc = nb_server_start(run->srv);
    if (rc) {
        const char *why = run->srv ? nb_server_start_error(run->srv) : NULL;
        if (why) {
            fail_start(run, "%s", why);
        } else {
            fail_start(run, "cannot start: %s", nb_strerror(rc));
        }
        if (run->srv) {
            nb_server_stop(run->srv, NULL, NULL);
            uv_run(run->loop, UV_RUN_DEFAULT);
            nb_server_free(run->srv);
        }
        return CLI_EXIT_FAIL;
    }
    char url[300];
    snprintf(url, sizeof url, "%s://%s:%d", cfg->tls.enabled ? "tls" : "nats", url_host(cfg->host),
             nb_server_port(run->srv));
    rc = write_run_files(run, f, url, cfg);
    if (rc == 0) {
        log_ready(run, cfg, url);
        trap_signals(run);
        struct cli_busypoll bp;
        bool frugal = f->busy_poll_us == BUSY_POLL_AUTO;
        uint64_t max_us = frugal ? CLI_BUSYPOLL_DEFAULT_US : (uint64_t)f->busy_poll_us;
        cli_busypoll_init(&bp, max_us * 1000, frugal);
        cli_busypoll_run(&bp, run->loop, traffic_in, run->srv);
    } else {
        nb_server_stop(run->srv, NULL, NULL);
        uv_run(run->loop, UV_RUN_DEFAULT);
    }
    remove_run_files(run);
    nb_server_free(run->srv);
    return rc;
}

static int
run_server(struct server_run *run, const struct server_flags *f, struct nb_config *cfg)
{
    int rc = open_log(run, cfg);
    if (rc) return rc;
    run->level = NB_LOG_INFO;
    log_banner(run, f, cfg);
    run->level = cfg->trace ? NB_LOG_TRACE : cfg->debug ? NB_LOG_DEBUG : NB_LOG_INFO;
    cfg->log = log_line;
    cfg->relog = relog;
    cfg->log_ud = run;
    run->loop = uv_default_loop();
    run->flags = f;
    rc = serve(run, f, cfg);
    uv_loop_close(run->loop);
    if (run->log != stderr) fclose(run->log);
    free(run->logfile);
    return rc;
}

int
cmd_server(int argc, char **argv, const struct cli_cmd *self)
{
    struct server_flags f = {.busy_poll_us = BUSY_POLL_AUTO};
    int rc = parse_flags(self, argc, argv, &f);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (f.version) {
        printf("natsctl-server: v%s\n", NATSCTL_VERSION);
        return CLI_EXIT_OK;
    }
    if (f.signal) return cli_signal_send(self, f.signal, f.pidfile);
    if (f.check && !f.config) {
        return cli_usage(self,
                         "must specify [-c, --config] option to check configuration file syntax");
    }
    struct server_run run = {0};
    struct nb_config cfg;
    nb_config_init(&cfg);
    rc = load_config(&cfg, &f, &run);
    if (rc == 0) rc = f.check ? check_config(&f, &run) : run_server(&run, &f, &cfg);
    free(run.warnings);
    nb_config_release(&cfg);
    return rc;
}
