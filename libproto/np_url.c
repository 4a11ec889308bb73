/*
 * Server URLs. The parser splits scheme, userinfo and host:port by hand rather than with a general
 * URL library: NATS URLs are a small fixed shape, and each way of getting one wrong gets its own
 * code so that the CLI can say what is wrong with the text the user typed.
 */
#include "np_url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
hex_val(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string. */
static int
decode_part(char **out, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    size_t len = 0;
    if (!d) return NP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[len++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hex_val(s[i + 1]) : -1, lo = i + 2 < n ? hex_val(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            free(d);
            return NP_EURL_ESCAPE;
        }
        d[len++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[len] = '\0';
    *out = d;
    return 0;
}

static int
parse_userinfo(struct np_url *u, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) return decode_part(&u->pass, s, n);
    size_t ulen = (size_t)(colon - s);
    int rc = decode_part(&u->pass, colon + 1, n - ulen - 1);
    if (rc == 0 && ulen > 0) rc = decode_part(&u->user, s, ulen);
    return rc;
}

static int
parse_port(const char *s, size_t n, int *port)
{
    uint64_t v = 0;
    if (n == 0) return NP_EURL_PORT;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return NP_EURL_PORT;
        if (v <= 65535) v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v == 0 || v > 65535) return NP_EURL_PORT_RANGE;
    *port = (int)v;
    return 0;
}

static bool
host_char_ok(char ch)
{
    return (unsigned char)ch > ' ' && ch != '@' && ch != '/' && ch != '[' && ch != ']' &&
           ch != ',' && ch != 0x7f;
}

static int
parse_hostport(struct np_url *u, const char *s, size_t n)
{
    const char *host = s, *port = NULL;
    size_t hlen = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return NP_EURL_HOST;
        host = s + 1;
        hlen = (size_t)(close - host);
        const char *rest = close + 1, *end = s + n;
        if (rest < end && (*rest != ':' || rest + 1 == end)) return NP_EURL;
        if (rest < end) port = rest + 1;
        if (hlen == 0 || memchr(host, ':', hlen) == NULL) return NP_EURL_HOST;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
            if (memchr(port, ':', n - hlen - 1)) return NP_EURL_HOST; /* IPv6 needs [] */
        }
        for (size_t i = 0; i < hlen; i++)
            if (!host_char_ok(host[i])) return NP_EURL_HOST;
    }
    if (hlen == 0) return NP_EURL_HOST;
    if (port) {
        int rc = parse_port(port, (size_t)(s + n - port), &u->port);
        if (rc != 0) return rc;
    }
    u->host = strndup(host, hlen);
    return u->host ? 0 : NP_ENOMEM;
}

static bool
scheme_is(const char *p, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/*
 * The authority part of a URL (after any scheme, before any path), or an error; *tls tells a
 * client's tls:// URL. A route URL may also say nats-route:// (as nats-server's configurations do)
 * or tls://.
 */
static int
url_authority(const char *text, size_t len, bool route, const char **auth, size_t *alen, bool *tls)
{
    const char *p = text, *end = text + len;
    const char *sep = strstr(text, "://");
    if (sep && sep < end) {
        size_t n = (size_t)(sep - p);
        *tls = !route && scheme_is(p, n, "tls");
        /* a route's TLS comes from cluster.tls; tls:// is what a TLS cluster's ports file says */
        bool route_scheme = route && (scheme_is(p, n, "nats-route") || scheme_is(p, n, "tls"));
        if (!*tls && !scheme_is(p, n, "nats") && !route_scheme)
            return route ? NP_EURL_ROUTE_SCHEME : NP_EURL_SCHEME;
        p = sep + 3;
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (slash && slash + 1 != end) return NP_EURL_PATH;
    *auth = p;
    *alen = (size_t)((slash ? slash : end) - p);
    return 0;
}

static int
parse_url(struct np_url *u, const char *text, bool route)
{
    *u = (struct np_url){.port = route ? 0 : NP_DEFAULT_PORT};
    if (!text) return NP_EURL;
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    const char *auth;
    size_t alen;
    int rc = url_authority(text, len, route, &auth, &alen, &u->tls);
    if (rc != 0) return rc;
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@') at = auth + i;
    if (at) rc = parse_userinfo(u, auth, (size_t)(at - auth));
    if (rc == 0)
        rc = at ? parse_hostport(u, at + 1, alen - (size_t)(at + 1 - auth))
                : parse_hostport(u, auth, alen);
    if (rc == 0 && u->port == 0) rc = NP_EURL_ROUTE_PORT;
    if (rc != 0) np_url_release(u);
    return rc;
}

int
np_url_parse(struct np_url *u, const char *text)
{
    return parse_url(u, text, false);
}

int
np_url_parse_route(struct np_url *u, const char *text)
{
    return parse_url(u, text, true);
}

void
np_url_release(struct np_url *u)
{
    free(u->host);
    free(u->user);
    free(u->pass);
    *u = (struct np_url){.port = NP_DEFAULT_PORT};
}

struct out_text {
    char *p;
    size_t cap, len;
};

static void
out_put(struct out_text *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
        o->p[o->len++] = s[i];
}

/* Redacts one comma-free element s[0..n). */
static void
redact_one(struct out_text *o, const char *s, size_t n)
{
    const char *end = s + n, *p = s;
    for (const char *q = s; q + 2 < end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            p = q + 3;
            break;
        }
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *aend = slash ? slash : end, *at = NULL;
    for (const char *q = p; q < aend; q++)
        if (*q == '@') at = q;
    if (!at) {
        out_put(o, s, n);
        return;
    }
    const char *colon = memchr(p, ':', (size_t)(at - p));
    out_put(o, s, (size_t)((colon ? colon + 1 : p) - s));
    out_put(o, "***", 3);
    out_put(o, at, (size_t)(end - at));
}

void
np_url_redact(const char *text, char *out, size_t cap)
{
    struct out_text o = {out, cap, 0};
    if (cap == 0) return;
    while (text && *text) {
        const char *comma = strchr(text, ',');
        size_t n = comma ? (size_t)(comma - text) : strlen(text);
        redact_one(&o, text, n);
        if (!comma) break;
        out_put(&o, ",", 1);
        text = comma + 1;
    }
    out[o.len] = '\0';
}
