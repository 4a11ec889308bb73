/*
 * libbroker: the NATS broker as an opaque server object on a libuv loop.
 *
 * Threading: every function must be called from the thread that runs the loop given to
 * nb_server_new(). Errors are returned as negative NB_E* codes or negative libuv codes (which are
 * negated errno values); nb_strerror() describes both.
 */
#ifndef NB_H
#define NB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* natsctl's version, set once in the Makefile (VERSION). */
#define NB_VERSION NATSCTL_VERSION

#define NB_ERR_MAP(X)                                                                              \
    X(CONFIG, "invalid configuration")                                                             \
    X(CONF_SYNTAX, "configuration syntax error")                                                   \
    X(NOMEM, "out of memory")                                                                      \
    X(STATE, "operation not allowed in this state")

enum nb_err {
    NB_OK = 0,
    NB__ERR_FIRST = -200,
#define NB__ERR_ENUM(name, text) NB_E##name,
    NB_ERR_MAP(NB__ERR_ENUM)
#undef NB__ERR_ENUM
};

/* Describes an NB_E* code or a negative libuv/errno code. */
const char *nb_strerror(int err);

enum nb_log_level { NB_LOG_ERROR, NB_LOG_WARN, NB_LOG_INFO, NB_LOG_DEBUG, NB_LOG_TRACE };

/* Receives one log line without a trailing newline. */
typedef void (*nb_log_fn)(void *ud, enum nb_log_level level, const char *msg);

/*
 * One direction of a user's permissions (nats-server's SubjectPermission): subjects, wildcards
 * allowed, as written in the configuration. A subscribe entry may name a queue group after the
 * subject ("foo.> workers"). No allow entry means everything not denied is allowed.
 */
struct nb_subject_perms {
    char **allow, **deny;
    size_t nallow, ndeny;
};

/* What a user may do (nats-server's Permissions). */
struct nb_permissions {
    struct nb_subject_perms publish, subscribe;
    /*
     * With allow_responses a user may also publish to the reply subject of a message it received,
     * up to responses_max times within responses_ttl_ms of receiving it (each < 0: no limit); its
     * publish allow list then applies even when empty, as in nats-server.
     */
    bool allow_responses;
    int64_t responses_max;
    int64_t responses_ttl_ms;
};

/* An entry of authorization.users. */
struct nb_user {
    char *name;                   /* NULL for an nkey user */
    char *password;               /* plain text or a bcrypt hash; NULL when the entry has none */
    char *nkey;                   /* an nkey user's public key ("U..."), NULL for a named user */
    struct nb_permissions *perms; /* NULL: no restriction */
    bool standard_refused;        /* allowed_connection_types leaves out plain client connections */
    char *account;                /* the account it belongs to; NULL: the global account $G */
};

/*
 * TLS for client connections, and the certificate of the https monitoring port (docs/security.md).
 * Strings are owned like nb_config's. The handshake starts after the INFO line, as in nats-server.
 */
struct nb_tls_config {
    bool enabled;       /* a tls block or --tls: client connections must use TLS */
    char *cert_file;    /* PEM certificate chain, leaf first */
    char *key_file;     /* PEM private key of the certificate */
    char *ca_file;      /* PEM CAs that client certificates must chain to (verify) */
    bool verify;        /* require and verify a client certificate */
    bool map;           /* verify_and_map: the certificate names the user of the users list */
    int64_t timeout_ms; /* the handshake must end within this after INFO */
    int min_version;    /* lowest protocol version accepted: 0x0303 (TLS 1.2) or 0x0304 */
    char *ciphers;      /* OpenSSL cipher list for TLS 1.2, NULL: nats-server's six defaults */
    char *curves;       /* OpenSSL group list, NULL: X25519, P-256, P-384, P-521 */
    char *pinned;       /* ','-joined SHA-256 hex of client public keys allowed, NULL: any */
    bool insecure;      /* routes: a dialed peer's certificate is not verified */
};

/*
 * Server options. nb_config_init() fills in nats-server 2.9.10's defaults, except host which is
 * 127.0.0.1 (a development broker should not be reachable from the network by accident). Strings
 * are owned by the struct (malloc'd) and freed by nb_config_release(); set them with
 * nb_config_set_str().
 */
struct nb_config {
    char *host;          /* listen address */
    int port;            /* 0 picks a free port */
    char *server_name;   /* NULL = the server id */
    int64_t max_payload; /* bytes */
    int64_t max_pending; /* bytes of unsent output before a client is a slow consumer */
    int64_t max_connections;
    int64_t max_subscriptions; /* per connection, 0 = unlimited */
    int64_t max_control_line;  /* bytes of arguments in one control line */
    int64_t ping_interval_ms;
    int64_t ping_max; /* unanswered PINGs before "Stale Connection" */
    int64_t write_deadline_ms;
    int64_t auth_timeout_ms;
    int64_t lame_duck_duration_ms; /* lame duck mode closes clients over this (at least 30 s) */
    int64_t lame_duck_grace_ms;    /* and starts closing them after this (below the duration) */
    char *auth_token;
    char *auth_user;
    char *auth_pass;
    struct nb_user *users; /* authorization.users; nusers 0 = no users list */
    size_t nusers;
    char *no_auth_user; /* the user a client without credentials becomes, NULL = none */
    char **accounts;    /* the configured accounts besides $G (their users are in users) */
    size_t naccounts;
    char *system_account; /* NULL: $SYS, which exists without being configured */
    int http_port;        /* monitoring port, 0 = off, -1 = any free port */
    int https_port;       /* monitoring over TLS with the client certificate, 0 = off */
    struct nb_tls_config tls;
    /* An HTTP request must arrive and its answer be written within this (also the keep-alive). */
    int64_t http_timeout_ms;
    bool jetstream;  /* streams and the $JS.API */
    char *store_dir; /* where file streams live; NULL: nats-server's <tmp>/nats */
    int64_t js_max_memory, js_max_file; /* bytes all streams may use, -1 = no limit */
    int64_t js_sync_interval_ms;        /* fsync period of file streams; 0 = before every PubAck */
    char *client_advertise; /* "host[:port]" clients are told to use, NULL: the listen address */
    /* Clustering (docs/clustering.md): routes to other servers of one cluster. */
    int cluster_port;          /* 0: no clustering, -1: a free port */
    char *cluster_host;        /* NULL: the client listen address */
    char *cluster_name;        /* NULL: generated, and given up for a peer's configured one */
    char *cluster_advertise;   /* "host[:port]" peers dial instead of the listen address */
    bool cluster_no_advertise; /* keep client URLs out of route INFO and clients' connect_urls */
    int64_t connect_retries;   /* dial attempts after the first for a gossiped route */
    char *cluster_user, *cluster_pass; /* what an accepted route must present, NULL: nothing */
    int64_t cluster_auth_timeout_ms;
    struct nb_tls_config cluster_tls; /* routes over TLS, verified both ways (when enabled) */
    char **routes;                    /* route URLs to dial and keep dialing (explicit routes) */
    size_t nroutes;
    bool debug, trace;
    bool logtime;   /* timestamps in log lines (default; the caller writes them) */
    char *log_file; /* log_file of the configuration (the caller opens it), NULL: none */
    nb_log_fn log;  /* NULL = no logging */
    void *log_ud;
    /*
     * Called during nb_server_reload() when log_file, logtime, debug or trace changed, after the
     * "Reloaded: ..." lines and before clients are checked again (nats-server's ConfigureLogger):
     * the caller's logger takes cfg's settings. NULL: nothing to do.
     */
    void (*relog)(void *ud, const struct nb_config *cfg);
};

void nb_config_init(struct nb_config *cfg);
void nb_config_release(struct nb_config *cfg);
/* dst = src with copies of the strings. Returns 0 or NB_ENOMEM (dst then owns nothing). */
int nb_config_copy(struct nb_config *dst, const struct nb_config *src);
/* Replaces *field with a copy of value (NULL clears it). Returns 0 or NB_ENOMEM. */
int nb_config_set_str(char **field, const char *value);
/* Appends a copy of url to the explicit routes. Returns 0 or NB_ENOMEM. */
int nb_config_add_route(struct nb_config *cfg, const char *url);
/* Forgets every explicit route. */
void nb_config_clear_routes(struct nb_config *cfg);
/*
 * Takes nats-server's --cluster URL, "nats://[user:pass@]host:port" (port -1: a free one): the
 * cluster listen address and the credentials accepted routes must present (none without
 * userinfo). Returns 0, NB_ECONFIG with msg, or NB_ENOMEM.
 */
int nb_config_cluster_url(struct nb_config *cfg, const char *url, char *msg, size_t msg_cap);

/* Where a configuration file went wrong: report it as "file:line:column: msg". */
struct nb_conf_error {
    char file[512];
    int line, column; /* 1-based, 0 when unknown (the file could not be read) */
    char msg[256];    /* what went wrong, without the position */
};

/*
 * Loads a nats-server style configuration file over cfg. A nats-server option natsctl does not
 * implement is refused when it has security meaning (TLS, accounts, operators...: starting
 * without it would expose what it protects) and otherwise reported through warn (one call per key,
 * "file:line:column: text") and ignored; docs/protocol.md lists both classes. A key nats-server
 * does not know either is an error, as it is in nats-server. Returns 0, NB_ECONF_SYNTAX (a syntax
 * error), NB_ECONFIG (an unknown or refused key, a bad value, or a file that cannot be read) or
 * NB_ENOMEM; err says where and why. cfg is only changed when 0 is returned.
 */
typedef void (*nb_conf_warn_fn)(void *ud, const char *msg);
int nb_config_load(struct nb_config *cfg, const char *path, nb_conf_warn_fn warn, void *warn_ud,
                   struct nb_conf_error *err);

/*
 * Checks option consistency (e.g. max_payload <= max_pending, no_auth_user naming a user) as
 * nats-server does when it starts. Returns 0 or NB_ECONFIG with msg.
 */
int nb_config_validate(const struct nb_config *cfg, char *msg, size_t msg_cap);

struct nb_server;

/*
 * Creates a server from a copy of cfg on loop. Returns 0 and sets *out, or a negative code. Nothing
 * listens until nb_server_start().
 */
int nb_server_new(struct nb_server **out, uv_loop_t *loop, const struct nb_config *cfg);
/*
 * Binds and listens. Returns 0 or a negative libuv code (e.g. UV_EADDRINUSE); then
 * nb_server_start_error() says which listener failed. On failure, as on success, the caller ends the
 * server with nb_server_stop(), runs the loop until the done callback, then nb_server_free().
 */
int nb_server_start(struct nb_server *srv);
/*
 * After a failed nb_server_start(): "cannot listen for <what> on HOST:PORT: <reason>" naming the
 * listener (client or monitoring connections) that failed. NULL when the last start succeeded.
 */
const char *nb_server_start_error(const struct nb_server *srv);
/* The port actually bound (useful with port 0), or -1 before start. */
int nb_server_port(const struct nb_server *srv);
/* The monitoring port actually bound (useful with http_port -1), or -1 before start or when off. */
int nb_server_http_port(const struct nb_server *srv);
/* The cluster port actually bound, or -1 (before start, or without clustering). */
int nb_server_cluster_port(const struct nb_server *srv);
/*
 * Stops: closes the listener, flushes what each client has pending (bounded by a short deadline),
 * closes every connection, and calls done once every handle is closed. The loop then has nothing
 * left of the server and nb_server_free() may be called.
 */
void nb_server_stop(struct nb_server *srv, void (*done)(struct nb_server *srv, void *ud), void *ud);
/*
 * Lame duck mode (docs/clustering.md), nats-server's SIGUSR2: stops accepting clients, sends each
 * client an INFO with "ldm": true and the other servers' URLs (and each route one with "ldm":
 * true), waits lame_duck_grace_period, closes the clients spread over the rest of
 * lame_duck_duration, then stops as nb_server_stop(srv, done, ud) does; without clients it stops
 * at once. Returns 0, NB_ESTATE (not started, stopping, or already in lame duck mode: nothing
 * changes) or NB_ENOMEM. An nb_server_stop() meanwhile cuts it short, and only its done runs.
 */
int nb_server_lame_duck(struct nb_server *srv, void (*done)(struct nb_server *srv, void *ud),
                        void *ud);
/* Whether lame duck mode has begun (it lasts until the server is freed). */
bool nb_server_in_lame_duck(const struct nb_server *srv);
/*
 * Reloads the configuration, as nats-server's SIGHUP: cfg is a complete new configuration (file
 * and flags applied as at the start; its log callback is not used). Authorization, the client
 * port's TLS (for new connections) and debug/trace change; clients whose credentials no longer hold
 * are closed and the others take their new permissions. Logs each change and "Reloaded server
 * configuration". Returns 0, NB_ECONFIG with msg (an option that cannot be reloaded, in
 * nats-server's words, or an invalid configuration: nothing changed), NB_ESTATE (not running) or
 * NB_ENOMEM.
 */
int nb_server_reload(struct nb_server *srv, const struct nb_config *cfg, char *msg, size_t cap);
/* Frees a stopped (or never started) server. */
void nb_server_free(struct nb_server *srv);

struct nb_stats {
    uint64_t connections; /* open client connections */
    uint64_t total_connections;
    uint64_t subscriptions;
    uint64_t in_msgs, out_msgs, in_bytes, out_bytes;
    uint64_t slow_consumers;
};

void nb_server_stats(const struct nb_server *srv, struct nb_stats *st);

/*
 * A message as the server routes it: views of the caller's bytes, valid for the duration of the
 * call that receives them. data holds the header block (hdr_len bytes, "NATS/1.0...", 0 when
 * there are no headers) followed by the body; len counts both.
 */
struct nb_msg {
    const char *subject, *reply, *data;
    size_t subject_len, reply_len; /* reply_len 0: no reply subject */
    size_t hdr_len, len;
};

/*
 * Publishes msg as the server itself: it reaches matching client and internal subscriptions (one
 * member per queue group) exactly as a client's PUB would, but no no-responders status comes back.
 * subject must be a valid literal subject. Returns how many subscriptions got it, or NB_ECONFIG
 * for an invalid subject.
 */
int nb_server_publish(struct nb_server *srv, const struct nb_msg *msg);

/*
 * Delivers msg to the subscriptions of the literal subject to, as the server: they receive msg's
 * own subject and reply, as JetStream delivers a stored message to a consumer's inbox. Returns how
 * many subscriptions got it, or NB_ECONFIG for an invalid subject.
 */
int nb_server_deliver(struct nb_server *srv, const char *to, size_t to_len,
                      const struct nb_msg *msg);
/* Whether any subscription (client, route or internal) matches the literal subject. */
bool nb_server_has_interest(struct nb_server *srv, const char *subject, size_t len);

/*
 * Internal subscriptions: a callback that takes part in matching, queue groups and no-responders
 * as a client subscription does. The callback runs on the loop thread, after the delivery that
 * matched it has finished, so it may publish, subscribe and unsubscribe freely.
 */
struct nb_isub;
typedef void (*nb_msg_fn)(struct nb_server *srv, const struct nb_msg *msg, void *ud);

/*
 * Subscribes cb to subject (wildcards allowed), in queue group queue when it is not NULL. Returns 0
 * and sets *out, NB_ECONFIG for an invalid subject or queue name, or NB_ENOMEM.
 */
int nb_server_subscribe(struct nb_server *srv, const char *subject, const char *queue, nb_msg_fn cb,
                        void *ud, struct nb_isub **out);
/* Ends sub: its callback is not called again, even for messages already matched. */
void nb_server_unsubscribe(struct nb_server *srv, struct nb_isub *sub);

#endif
