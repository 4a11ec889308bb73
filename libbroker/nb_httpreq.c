/*
 * The request head parser (see nb_httpreq.h). It is strict where leniency lets a request mean two
 * things (a folded header line, bytes outside the grammar, an unframed body) and lenient where it
 * costs nothing (bare LF line ends, as most servers accept).
 */
#include "nb_httpreq.h"

#include <string.h>

static bool
is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool
ieq(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    if (alen != n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)a[i];
        if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
        if (ch != (unsigned char)lit[i]) return false;
    }
    return true;
}

/* The length of the head (blank line included), 0 when it is not complete within scan bytes. */
static size_t
head_end(const char *buf, size_t scan, bool *bad)
{
    size_t start = 0;
    for (size_t i = 0; i < scan; i++) {
        if (buf[i] != '\n') continue;
        size_t end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
        if (end == start) {
            if (start == 0) *bad = true; /* no request line */
            return i + 1;
        }
        start = i + 1;
    }
    return 0;
}

/* The line starting at p (before end): its length without the line end, and where the next starts. */
static size_t
line_at(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *next = nl + 1;
    return (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
}

static int
parse_version(struct nb_httpreq *req, const char *v, size_t n)
{
    if (n < 5 || memcmp(v, "HTTP/", 5) != 0) return 400;
    if (n == 8 && v[5] == '1' && v[6] == '.' && (v[7] == '0' || v[7] == '1')) {
        req->keep_alive = v[7] == '1';
        return 0;
    }
    return 505;
}

static void
split_target(struct nb_httpreq *req, const char *t, size_t n)
{
    const char *hash = memchr(t, '#', n);
    if (hash) n = (size_t)(hash - t);
    const char *q = memchr(t, '?', n);
    req->path = t;
    req->path_len = q ? (size_t)(q - t) : n;
    req->query = q ? q + 1 : t + n;
    req->query_len = q ? n - req->path_len - 1 : 0;
}

static int
parse_request_line(struct nb_httpreq *req, const char *p, size_t n)
{
    size_t m = 0;
    while (m < n && p[m] >= 'A' && p[m] <= 'Z')
        m++;
    if (m == 0 || m == n || p[m] != ' ') return 400;
    req->method = m == 3 && memcmp(p, "GET", 3) == 0    ? NB_HTTP_GET
                  : m == 4 && memcmp(p, "HEAD", 4) == 0 ? NB_HTTP_HEAD
                                                        : NB_HTTP_OTHER;
    const char *t = p + m + 1;
    size_t tlen = 0;
    while (t + tlen < p + n && (unsigned char)t[tlen] > 0x20 && (unsigned char)t[tlen] < 0x7f)
        tlen++;
    if (tlen == 0 || t[0] != '/' || t + tlen == p + n || t[tlen] != ' ') return 400;
    split_target(req, t, tlen);
    const char *v = t + tlen + 1;
    return parse_version(req, v, (size_t)(p + n - v));
}

/* Applies a Connection header's comma-separated options. */
static void
connection_opts(struct nb_httpreq *req, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (ieq(v + s, i - s, "close")) req->keep_alive = false;
        if (ieq(v + s, i - s, "keep-alive")) req->keep_alive = true;
    }
}

/* A body is never read: the connection closes after the answer so its bytes are not a request. */
static int
body_header(struct nb_httpreq *req, const char *v, size_t n, bool content_length)
{
    if (!content_length) {
        req->keep_alive = false;
        return 0;
    }
    if (n == 0) return 400;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return 400;
        if (v[i] != '0') req->keep_alive = false;
    }
    return 0;
}

static int
parse_header(struct nb_httpreq *req, const char *p, size_t n)
{
    size_t k = 0;
    while (k < n && is_tchar((unsigned char)p[k]))
        k++;
    if (k == 0 || k == n || p[k] != ':') return 400; /* also rejects folded lines */
    const char *v = p + k + 1;
    size_t vn = n - k - 1;
    for (size_t i = 0; i < vn; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return 400;
    }
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    if (ieq(p, k, "connection")) connection_opts(req, v, vn);
    if (ieq(p, k, "content-length")) return body_header(req, v, vn, true);
    if (ieq(p, k, "transfer-encoding")) return body_header(req, v, vn, false);
    return 0;
}

int
nb_httpreq_parse(struct nb_httpreq *req, const char *buf, size_t len, size_t max_head)
{
    bool bad = false;
    size_t hl = head_end(buf, len < max_head ? len : max_head, &bad);
    if (bad) return 400;
    if (hl == 0) return len >= max_head ? 431 : NB_HTTPREQ_MORE;
    memset(req, 0, sizeof *req);
    req->head_len = hl;
    const char *end = buf + hl, *next;
    size_t n = line_at(buf, end, &next);
    int rc = parse_request_line(req, buf, n);
    for (const char *p = next; rc == 0; p = next) {
        n = line_at(p, end, &next);
        if (n == 0) break;
        rc = parse_header(req, p, n);
    }
    return rc;
}

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s (n bytes) into out. Returns the length, -1 for a bad escape, -2 if too long. */
static long
unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '+') ch = ' ';
        if (ch == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap) return -2;
        out[o++] = ch;
    }
    out[o] = '\0';
    return (long)o;
}

long
nb_httpreq_param(const char *query, size_t qlen, const char *name, char *out, size_t cap)
{
    size_t i = 0;
    while (i < qlen) {
        const char *pair = query + i;
        const char *amp = memchr(pair, '&', qlen - i);
        size_t plen = amp ? (size_t)(amp - pair) : qlen - i;
        i += plen + 1;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        char key[64];
        /* As Go's url.ParseQuery: pairs with a bad escape or a ';' in the key are skipped. */
        if (memchr(pair, ';', klen) || unescape(pair, klen, key, sizeof key) < 0) continue;
        if (strcmp(key, name) != 0) continue;
        size_t voff = eq ? klen + 1 : plen;
        long r = unescape(pair + voff, plen - voff, out, cap);
        if (r != -1) return r;
    }
    return -1;
}
