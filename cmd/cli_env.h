/*
 * Global connection options shared by pub, sub, request and reply (cli.md 11.1 and 11.4): the
 * option rows, their handler, the flag > environment > default resolution, durations, and URL
 * redaction for messages.
 *
 * Use: put CLI_GLOBAL_OPT_ROWS in the command's option table, call cli_env_init(), forward option
 * ids for which cli_env_is_global() is true to cli_env_opt(), then call cli_env_resolve() once
 * parsing is done; on a non-zero return print e->err with cli_error() and return the code. Never
 * print a server URL without cli_redact_servers().
 */
#ifndef CLI_ENV_H
#define CLI_ENV_H

#include "cli.h"
#include "np.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Option ids from 1000 up, so they never collide with a command's own ids. */
enum cli_global_opt {
    CLI_OPT_SERVER = 1000,
    CLI_OPT_USER,
    CLI_OPT_PASSWORD,
    CLI_OPT_TOKEN,
    CLI_OPT_TIMEOUT,
    CLI_OPT_NAME,
    CLI_OPT_CREDS,
    CLI_OPT_NKEY,
    CLI_OPT_CONTEXT,
    CLI_OPT_NO_CONTEXT,
    CLI_OPT_TLS_CERT,
    CLI_OPT_TLS_KEY,
    CLI_OPT_TLS_CA,
    CLI_OPT_GLOBAL_END,
};

/* The global rows, to splice into a command's option table before its terminating row. */
/* clang-format off */
#define CLI_GLOBAL_OPT_ROWS                                                                        \
    {CLI_OPT_SERVER, "s", "server", NULL, "URL[,URL...]",                                          \
     "servers to try in order (env NATS_URL, default " NP_DEFAULT_URL ")", NULL},             \
    {CLI_OPT_USER, NULL, "user", NULL, "USER", "user name (env NATS_USER)", NULL},                 \
    {CLI_OPT_PASSWORD, NULL, "password", NULL, "PASSWORD", "password (env NATS_PASSWORD)", NULL},  \
    {CLI_OPT_TOKEN, NULL, "token", NULL, "TOKEN", "authorization token (env NATS_TOKEN)", NULL},   \
    {CLI_OPT_TIMEOUT, NULL, "timeout", NULL, "DURATION",                                           \
     "connect and request timeout: 250ms, 2s, 1m (env NATS_TIMEOUT, default 5s)", NULL},          \
    {CLI_OPT_NAME, NULL, "name", NULL, "NAME", "connection name (default natsctl <command>)",      \
     NULL},                                                                                        \
    {CLI_OPT_CREDS, NULL, "creds", NULL, "FILE",                                                   \
     "user JWT and nkey seed file (.creds) for operator mode (env NATS_CREDS)", NULL},             \
    {CLI_OPT_NKEY, NULL, "nkey", NULL, "FILE", "nkey seed file of an nkey user (env NATS_NKEY)",   \
     NULL},                                                                                        \
    {CLI_OPT_CONTEXT, NULL, "context", NULL, "NAME|FILE",                                          \
     "natscli context to use (env NATS_CONTEXT, default the selected one)", NULL},                \
    {CLI_OPT_NO_CONTEXT, NULL, "no-context", NULL, NULL, "ignore natscli contexts", NULL},           \
    {CLI_OPT_TLS_CERT, NULL, "tlscert", NULL, "FILE",                                              \
     "TLS client certificate, PEM (env NATS_CERT; asks for TLS)", NULL},                          \
    {CLI_OPT_TLS_KEY, NULL, "tlskey", NULL, "FILE",                                                \
     "TLS client private key, PEM (env NATS_KEY)", NULL},                                         \
    {CLI_OPT_TLS_CA, NULL, "tlsca", NULL, "FILE",                                                  \
     "CAs to verify the server with, PEM (env NATS_CA; default the system's; asks for TLS)", NULL}
/* clang-format on */

/* The global rows alone, terminated by an id 0 row. */
extern const struct cli_opt cli_global_opts[];

/*
 * Connection settings. The public fields are the result: after cli_env_opt() they hold what the
 * flags said, after cli_env_resolve() the final values. Strings point into argv, the environment
 * or the struct itself, so the struct must outlive their use and the environment must not change.
 */
struct cli_env {
    const char *server;   /* comma-separated URL list, never NULL after resolve */
    const char *user;     /* NULL when none */
    const char *password; /* NULL when none */
    const char *token;    /* NULL when none */
    const char *name;     /* never NULL after resolve */
    const char *tls_cert; /* TLS files, NULL when none */
    const char *tls_key;
    const char *tls_ca;
    const char *creds;         /* .creds file (user JWT and seed), NULL when none */
    const char *nkey;          /* nkey seed file, NULL when none */
    uint64_t timeout_ms;       /* > 0 after resolve */
    const char *context;       /* --context, or NULL */
    bool no_context;           /* --no-context */
    const struct cli_cmd *cmd; /* gives the default name "natsctl <cmd>"; may be NULL */
    char server_from[300];     /* after resolve: "-s", "NATS_URL", "context NAME" or "default" */
    char err[512];             /* the message when a call returned non-zero */
    char default_name[64];     /* private */
    char ctx_store[4096];      /* private: the settings taken from a context */
    size_t ctx_used;           /* private */
};

/* Clears e before option parsing; cmd (may be NULL) names the connection "natsctl <cmd>". */
void cli_env_init(struct cli_env *e, const struct cli_cmd *cmd);
/* True when id belongs to the global rows. */
bool cli_env_is_global(int id);
/*
 * Records one global option, in the shape of a cli_opt_fn. Returns 0, CLI_EXIT_USAGE (a bad
 * --timeout, an empty --server, --creds or --nkey) or CLI_EXIT_FAIL (an id that is not global, a
 * programming error); then e->err holds a one-line message that the caller prints with
 * cli_error(), since an option callback is expected to print its error before returning.
 */
int cli_env_opt(struct cli_env *e, int id, const char *arg);
/*
 * Fills what the flags left unset from NATS_URL, NATS_USER, NATS_PASSWORD, NATS_TOKEN,
 * NATS_CREDS, NATS_NKEY, NATS_TIMEOUT, NATS_CERT, NATS_KEY and NATS_CA (an empty variable counts
 * as unset), then from the
 * natscli context (--context,
 * else NATS_CONTEXT, else the selected one; none with --no-context), then the defaults: natscli's
 * order, flags > environment > context. Credentials come as a set from one source: when a flag or
 * variable gives a user, a token, a creds or an nkey file, the context's credentials are not used.
 * Returns 0, or CLI_EXIT_USAGE with e->err set: a bad NATS_TIMEOUT, a URL scheme other than
 * nats:// or tls://, both a creds and an nkey file, a context that cannot be read, or one whose
 * settings natsctl cannot honour (nsc, an inline JWT, ...): connecting without them would connect
 * with less than the context asks for.
 */
int cli_env_resolve(struct cli_env *e);

/*
 * Go's time.Duration String(), as natscli prints durations: "1.234567ms", "123.456µs", "1m30s".
 */
void cli_format_duration(uint64_t ns, char *out, size_t cap);
/* natscli's short form: rounded to µs below 1ms ("123µs"), to ms below 1s ("12ms"), else "1.50s". */
void cli_format_duration_short(uint64_t ns, char *out, size_t cap);

/*
 * Writes url with its password, or its token (userinfo without a colon), replaced by three
 * asterisks; the user name, host and port stay. Like snprintf: returns the length the whole result
 * needs and writes at most cap bytes including the NUL.
 */
size_t cli_redact_url(const char *url, char *out, size_t cap);
/* Redacts every entry of a comma-separated list. Returns a malloc'd string, or NULL (no memory). */
char *cli_redact_servers(const char *list);

#endif
