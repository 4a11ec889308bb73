/*
 * Global connection options: where each setting comes from and how secrets stay out of output.
 *
 * Precedence is decided in two steps that cannot disagree: flags are stored as they are parsed,
 * and cli_env_resolve() only fills the fields the flags left empty, from the environment and then
 * the defaults. Errors come back as a message in the struct, never printed, so the helpers link
 * and test without the command table. Nothing here keeps a copy of a secret; redaction works on
 * the text it is given, so messages can name a server without ever showing its password or token.
 * Redaction is done here rather than with np_url_redact() so the CLI helpers link without the
 * client connection.
 */
#include "cli_env.h"
#include "cli_ctx.h"
#include "cli_tmpl.h"
#include "np_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct cli_opt cli_global_opts[] = {
    CLI_GLOBAL_OPT_ROWS,
    {0, NULL, NULL, NULL, NULL, NULL, NULL},
};

void
cli_env_init(struct cli_env *e, const struct cli_cmd *cmd)
{
    *e = (struct cli_env){.cmd = cmd};
}

bool
cli_env_is_global(int id)
{
    return id >= CLI_OPT_SERVER && id < CLI_OPT_GLOBAL_END;
}

/* Records a one-line error message for the caller to print; returns CLI_EXIT_USAGE. */
static int usage(struct cli_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
usage(struct cli_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int
cli_env_opt(struct cli_env *e, int id, const char *arg)
{
    switch (id) {
    case CLI_OPT_SERVER:
        if (!*arg) return usage(e, "invalid value '' for --server");
        e->server = arg;
        return 0;
    case CLI_OPT_USER:
        e->user = arg;
        return 0;
    case CLI_OPT_PASSWORD:
        e->password = arg;
        return 0;
    case CLI_OPT_TOKEN:
        e->token = arg;
        return 0;
    case CLI_OPT_NAME:
        e->name = arg;
        return 0;
    case CLI_OPT_TIMEOUT:
        if (!cli_parse_duration(arg, &e->timeout_ms) || e->timeout_ms == 0)
            return usage(e, "invalid value '%s' for --timeout (e.g. 500ms, 2s, 1m)", arg);
        return 0;
    case CLI_OPT_CONTEXT:
        if (!*arg) return usage(e, "invalid value '' for --context");
        e->context = arg;
        return 0;
    case CLI_OPT_NO_CONTEXT:
        e->no_context = true;
        return 0;
    case CLI_OPT_TLS_CERT:
        e->tls_cert = arg;
        return 0;
    case CLI_OPT_TLS_KEY:
        e->tls_key = arg;
        return 0;
    case CLI_OPT_TLS_CA:
        e->tls_ca = arg;
        return 0;
    case CLI_OPT_CREDS:
    case CLI_OPT_NKEY:
        if (!*arg)
            return usage(e, "invalid value '' for --%s", id == CLI_OPT_CREDS ? "creds" : "nkey");
        *(id == CLI_OPT_CREDS ? &e->creds : &e->nkey) = arg;
        return 0;
    default:
        snprintf(e->err, sizeof e->err, "option id %d is not a global option", id);
        return CLI_EXIT_FAIL;
    }
}

/* The variable's value, or NULL when it is unset or empty. */
static const char *
env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Checks that every entry's scheme, when it has one, is nats:// or tls://. */
static int
check_schemes(struct cli_env *e)
{
    for (const char *p = e->server; *p;) {
        size_t n = strcspn(p, ",");
        const char *sep = strstr(p, "://");
        if (sep && sep < p + n) {
            while (p < sep && isspace((unsigned char)*p))
                p++;
            size_t n_scheme = (size_t)(sep - p);
            if ((n_scheme != 4 || strncasecmp(p, "nats", 4) != 0) &&
                (n_scheme != 3 || strncasecmp(p, "tls", 3) != 0)) {
                return usage(e,
                             "unsupported URL scheme '%.*s://': only nats:// and tls:// are "
                             "supported",
                             (int)n_scheme, p);
            }
        }
        p += n;
        if (*p) p++;
    }
    return 0;
}

/* A copy of a context's setting in e->ctx_store, or NULL when the context has none. */
static const char *
keep(struct cli_env *e, const struct cli_ctx *c, const char *key, bool *full)
{
    const char *v = cli_ctx_get(c, key);
    if (!v) return NULL;
    size_t n = strlen(v) + 1;
    if (n > sizeof e->ctx_store - e->ctx_used) {
        *full = true;
        return NULL;
    }
    char *dst = e->ctx_store + e->ctx_used;
    memcpy(dst, v, n);
    e->ctx_used += n;
    return dst;
}

/* Fills what flags and environment left unset from the loaded context c. */
static int
take_settings(struct cli_env *e, const struct cli_ctx *c)
{
    bool full = false;
    const char *url = keep(e, c, "url", &full);
    if (!e->server && url) {
        e->server = url;
        snprintf(e->server_from, sizeof e->server_from, "context %s", c->name);
    }
    if (!e->user && !e->password && !e->token && !e->creds && !e->nkey) {
        e->user = keep(e, c, "user", &full);
        e->password = keep(e, c, "password", &full);
        e->token = keep(e, c, "token", &full);
        e->creds = keep(e, c, "creds", &full);
        e->nkey = keep(e, c, "nkey", &full);
    }
    if (!e->tls_cert && !e->tls_key) {
        e->tls_cert = keep(e, c, "cert", &full);
        e->tls_key = keep(e, c, "key", &full);
    }
    if (!e->tls_ca) e->tls_ca = keep(e, c, "ca", &full);
    if (full) return usage(e, "context '%s': settings too long", c->name);
    return 0;
}

/*
 * Loads the context in effect, if any, and takes its settings. A context asking for credentials or
 * transport security natsctl cannot provide is refused even when flags override its URL, because
 * natscli would still apply them.
 */
static int
apply_context(struct cli_env *e)
{
    char sel[CLI_CTX_NAMELEN], err[CLI_CTX_ERRLEN];
    const char *ref = e->context ? e->context : env("NATS_CONTEXT");
    if (e->no_context) return 0;
    if (!ref) {
        if (cli_ctx_selected(sel, err) != 0) return usage(e, "%s", err);
        if (!*sel) return 0;
        /* context.txt holds a name; never let it point natsctl at an arbitrary file. */
        if (!cli_ctx_name_valid(sel) || cli_ctx_ref_is_file(sel))
            return usage(e,
                         "the selected context '%s' is not a valid context name (--no-context "
                         "ignores it)",
                         sel);
        ref = sel;
    }
    struct cli_ctx c;
    if (cli_ctx_load(&c, ref, err) != 0) {
        return usage(e, "%s%s", err,
                     ref == sel ? " (the selected context; --no-context ignores it)" : "");
    }
    const char *bad = cli_ctx_unsupported(&c);
    int rc = bad ? usage(e,
                         "context '%s' sets \"%s\", which natsctl does not support: refusing to "
                         "connect without it (--no-context ignores the context)",
                         c.name, bad)
                 : take_settings(e, &c);
    cli_ctx_release(&c);
    return rc;
}

int
cli_env_resolve(struct cli_env *e)
{
    const char *v;
    if (e->server) {
        snprintf(e->server_from, sizeof e->server_from, "-s");
    } else if ((e->server = env("NATS_URL"))) {
        snprintf(e->server_from, sizeof e->server_from, "NATS_URL");
    }
    if (!e->user) e->user = env("NATS_USER");
    if (!e->password) e->password = env("NATS_PASSWORD");
    if (!e->token) e->token = env("NATS_TOKEN");
    if (!e->creds) e->creds = env("NATS_CREDS");
    if (!e->nkey) e->nkey = env("NATS_NKEY");
    if (!e->tls_cert) e->tls_cert = env("NATS_CERT");
    if (!e->tls_key) e->tls_key = env("NATS_KEY");
    if (!e->tls_ca) e->tls_ca = env("NATS_CA");
    int rc = apply_context(e);
    if (rc != 0) return rc;
    /* nats.go would sign with whichever it set up last: say so rather than pick one. */
    if (e->creds && e->nkey)
        return usage(e, "a creds file and an nkey file cannot both be used (%s and %s)", e->creds,
                     e->nkey);
    if (!e->server) {
        e->server = NP_DEFAULT_URL;
        snprintf(e->server_from, sizeof e->server_from, "default");
    }
    if (!e->timeout_ms && (v = env("NATS_TIMEOUT"))) {
        if (!cli_parse_duration(v, &e->timeout_ms) || e->timeout_ms == 0)
            return usage(e, "invalid NATS_TIMEOUT '%s' (e.g. 500ms, 2s, 1m)", v);
    }
    if (!e->timeout_ms) e->timeout_ms = NP_DEFAULT_TIMEOUT_MS;
    if (!e->name) {
        snprintf(e->default_name, sizeof e->default_name, "natsctl%s%s", e->cmd ? " " : "",
                 e->cmd ? e->cmd->name : "");
        e->name = e->default_name;
    }
    return check_schemes(e);
}

/* "<whole>[.<fraction>]<unit>" with the fraction's trailing zeros dropped. */
static void
with_fraction(uint64_t v, uint64_t scale, int digits, const char *unit, char *out, size_t cap)
{
    uint64_t frac = v % scale;
    if (!frac) {
        snprintf(out, cap, "%llu%s", (unsigned long long)(v / scale), unit);
        return;
    }
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(out, cap, "%llu.%0*llu%s", (unsigned long long)(v / scale), digits,
             (unsigned long long)frac, unit);
}

void
cli_format_duration(uint64_t ns, char *out, size_t cap)
{
    const uint64_t s = 1000000000ULL;
    if (ns == 0) {
        snprintf(out, cap, "0s");
    } else if (ns < 1000) {
        snprintf(out, cap, "%lluns", (unsigned long long)ns);
    } else if (ns < 1000000) {
        with_fraction(ns, 1000, 3, "\xc2\xb5s", out, cap);
    } else if (ns < s) {
        with_fraction(ns, 1000000, 6, "ms", out, cap);
    } else {
        char secs[40];
        with_fraction(ns % (60 * s), s, 9, "s", secs, sizeof secs);
        uint64_t m = ns / (60 * s);
        if (m >= 60)
            snprintf(out, cap, "%lluh%llum%s", (unsigned long long)(m / 60),
                     (unsigned long long)(m % 60), secs);
        else if (m)
            snprintf(out, cap, "%llum%s", (unsigned long long)m, secs);
        else
            snprintf(out, cap, "%s", secs);
    }
}

void
cli_format_duration_short(uint64_t ns, char *out, size_t cap)
{
    if (ns < 1000000)
        cli_format_duration((ns + 500) / 1000 * 1000, out, cap);
    else if (ns < 1000000000ULL)
        cli_format_duration((ns + 500000) / 1000000 * 1000000, out, cap);
    else
        snprintf(out, cap, "%.2fs", (double)ns / 1e9);
}

/* Room for the redacted form of text: "***" is at most two bytes longer than what it replaces. */
static size_t
redacted_cap(const char *text)
{
    return strlen(text) * 2 + 8;
}

size_t
cli_redact_url(const char *url, char *out, size_t cap)
{
    size_t tmp_cap = redacted_cap(url);
    char *tmp = malloc(tmp_cap);
    if (!tmp) {
        if (cap) snprintf(out, cap, "%s", "***");
        return 0;
    }
    np_url_redact(url, tmp, tmp_cap);
    size_t need = strlen(tmp);
    if (cap) snprintf(out, cap, "%s", tmp);
    free(tmp);
    return need;
}

char *
cli_redact_servers(const char *list)
{
    size_t cap = redacted_cap(list);
    char *trimmed = malloc(cap), *out = malloc(cap);
    if (!trimmed || !out) {
        free(trimmed);
        free(out);
        return NULL;
    }
    /* Entries are shown without the blanks around them, as the client reads them. */
    size_t n = 0;
    for (const char *p = list;;) {
        const char *e = p + strcspn(p, ","), *s = p, *t = e;
        while (s < t && isspace((unsigned char)*s))
            s++;
        while (t > s && isspace((unsigned char)t[-1]))
            t--;
        memcpy(trimmed + n, s, (size_t)(t - s));
        n += (size_t)(t - s);
        if (!*e) break;
        trimmed[n++] = ',';
        p = e + 1;
    }
    trimmed[n] = '\0';
    np_url_redact(trimmed, out, cap);
    free(trimmed);
    return out;
}
