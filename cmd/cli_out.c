/*
 * Message output for the client subcommands: terminal detection, the pretty/raw/json/subjects
 * printers, and the small encoders they need (UTF-8 check, Go-compatible time formats).
 *
 * A message is written with as few copies as possible: the banner and header lines are built in
 * the printer's reusable scratch buffer, the body is handed to stdio straight from the caller's
 * view (only a body with bytes to escape for a terminal is copied first). Each message ends with a flush so `sub | grep` sees messages as they arrive, and so a
 * reader that went away is noticed on the message it happened, not at exit. errno is cleared
 * before writing, so the error returned is the one this message caused.
 */
#include "cli_out.h"
#include "np_b64.h"

#include <cJSON.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
cli_fd_is_tty(int fd)
{
    return isatty(fd) == 1;
}

bool
cli_fd_is_data(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return false;
    return S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode);
}

bool
cli_stdin_is_tty(void)
{
    return cli_fd_is_tty(STDIN_FILENO);
}

bool
cli_stdout_is_tty(void)
{
    return cli_fd_is_tty(STDOUT_FILENO);
}

bool
cli_stderr_is_tty(void)
{
    return cli_fd_is_tty(STDERR_FILENO);
}

bool
cli_stdin_has_data(void)
{
    return cli_fd_is_data(STDIN_FILENO);
}

bool
cli_out_one_format(size_t n, const char *const names[], const bool set[], char *msg, size_t cap)
{
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!set[i]) continue;
        if (first) {
            snprintf(msg, cap, "%s and %s cannot be combined: choose one output format", first,
                     names[i]);
            return false;
        }
        first = names[i];
    }
    return true;
}

enum cli_out_mode
cli_out_pick(bool json, bool raw, bool pretty, int fd)
{
    if (json) return CLI_OUT_JSON;
    if (raw) return CLI_OUT_RAW;
    if (pretty) return CLI_OUT_PRETTY;
    return cli_fd_is_tty(fd) ? CLI_OUT_PRETTY : CLI_OUT_RAW;
}

void
cli_out_init(struct cli_out *o, FILE *f, enum cli_out_mode mode)
{
    bool tty = cli_fd_is_tty(fileno(f));
    *o = (struct cli_out){.f = f, .mode = mode, .escape = mode == CLI_OUT_PRETTY || tty};
}

void
cli_out_release(struct cli_out *o)
{
    np_buf_release(&o->scratch);
    np_buf_release(&o->body);
}

/* Number of continuation bytes after lead byte c, and the allowed range of the first of them. */
static int
utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) return 1;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0) *lo = 0xA0; /* overlong */
        if (c == 0xED) *hi = 0x9F; /* surrogates */
        return 2;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0) *lo = 0x90; /* overlong */
        if (c == 0xF4) *hi = 0x8F; /* above U+10FFFF */
        return 3;
    }
    return -1;
}

bool
cli_utf8_valid(const char *s, size_t len)
{
    if (len == 0) return true;
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    while (p < e) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        unsigned char lo, hi;
        int n = utf8_lead(*p++, &lo, &hi);
        if (n < 0 || e - p < n || *p < lo || *p > hi) return false;
        for (p++; --n > 0; p++) {
            if (*p < 0x80 || *p > 0xBF) return false;
        }
    }
    return true;
}

/* Length of the well-formed UTF-8 sequence that starts at p (2 to 4), or 0 when there is none. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *e)
{
    unsigned char lo, hi;
    int n = utf8_lead(*p, &lo, &hi);
    if (n < 0 || e - p <= n || p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i <= n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    }
    return (size_t)n + 1;
}

/*
 * Looks at the character at p: sets *n to its length in bytes and returns the length of its escape
 * written to esc (at least 7 bytes), or 0 when it is safe to show as it is.
 */
static size_t
char_escape(const unsigned char *p, const unsigned char *e, size_t *n, char *esc)
{
    *n = 1;
    if (*p < 0x80) {
        if (*p == '\n' || *p == '\t' || (*p >= 0x20 && *p != 0x7f)) return 0;
        if (*p == '\r') return (size_t)snprintf(esc, 8, "\\r");
        return (size_t)snprintf(esc, 8, "\\x%02x", *p);
    }
    size_t len = utf8_seq(p, e);
    if (len == 0) return (size_t)snprintf(esc, 8, "\\x%02x", *p);
    *n = len;
    if (len == 2 && p[0] == 0xC2 && p[1] <= 0x9F) return (size_t)snprintf(esc, 8, "\\u%04x", p[1]);
    return 0;
}

bool
cli_out_needs_escape(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    char esc[8];
    for (size_t n; p < e; p += n) {
        if (char_escape(p, e, &n, esc)) return true;
    }
    return false;
}

int
cli_out_escape(struct np_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + len, *run = p;
    char esc[8];
    int rc = 0;
    for (size_t n; rc == 0 && p < e; p += n) {
        size_t elen = char_escape(p, e, &n, esc);
        if (elen == 0) continue;
        if (p > run) rc = np_buf_add(b, run, (size_t)(p - run));
        if (rc == 0) rc = np_buf_add(b, esc, elen);
        run = p + n;
    }
    if (rc == 0 && e > run) rc = np_buf_add(b, run, (size_t)(e - run));
    return rc ? -ENOMEM : 0;
}

/* Prints v / unit with the remainder as decimals, trailing zeros trimmed ("1.5", "350"). */
static int
fmt_fraction(char *buf, size_t cap, uint64_t v, uint64_t unit, int digits)
{
    uint64_t rem = v % unit;
    if (rem == 0) return snprintf(buf, cap, "%llu", (unsigned long long)(v / unit));
    while (rem % 10 == 0) {
        rem /= 10;
        digits--;
    }
    return snprintf(buf, cap, "%llu.%0*llu", (unsigned long long)(v / unit), digits,
                    (unsigned long long)rem);
}

void
cli_fmt_duration(uint64_t ns, char *buf, size_t cap)
{
    if (ns == 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    if (ns < 1000) {
        snprintf(buf, cap, "%lluns", (unsigned long long)ns);
        return;
    }
    if (ns < 1000000000) {
        bool micro = ns < 1000000;
        int n = fmt_fraction(buf, cap, ns, micro ? 1000 : 1000000, micro ? 3 : 6);
        if (n >= 0 && (size_t)n < cap) snprintf(buf + n, cap - (size_t)n, micro ? "µs" : "ms");
        return;
    }
    uint64_t sec = ns / 1000000000, min = sec / 60;
    int n = 0;
    if (min >= 60)
        n = snprintf(buf, cap, "%lluh%llum", (unsigned long long)(min / 60),
                     (unsigned long long)(min % 60));
    else if (min > 0)
        n = snprintf(buf, cap, "%llum", (unsigned long long)min);
    if (n < 0 || (size_t)n >= cap) return;
    uint64_t in_minute = (sec % 60) * 1000000000 + ns % 1000000000;
    int m = fmt_fraction(buf + n, cap - (size_t)n, in_minute, 1000000000, 9);
    if (m >= 0 && (size_t)(n + m) < cap) snprintf(buf + n + m, cap - (size_t)(n + m), "s");
}

void
cli_fmt_rfc3339nano(const struct timespec *ts, char *buf, size_t cap)
{
    struct tm tm;
    char date[32];
    gmtime_r(&ts->tv_sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(buf, cap, "%s", date);
    if (n < 0 || (size_t)n >= cap) return;
    if (ts->tv_nsec == 0) {
        snprintf(buf + n, cap - (size_t)n, "Z");
        return;
    }
    char frac[16];
    fmt_fraction(frac, sizeof frac, (uint64_t)ts->tv_nsec, 1000000000, 9);
    snprintf(buf + n, cap - (size_t)n, "%sZ", frac + 1); /* frac is "0.xxx" */
}

void
cli_fmt_stamp_micro(const struct timespec *ts, char *buf, size_t cap)
{
    struct tm tm;
    char date[32];
    localtime_r(&ts->tv_sec, &tm);
    strftime(date, sizeof date, "%b %e %H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%06ld", date, (long)(ts->tv_nsec / 1000));
}

/*
 * Appends s quoted like Go's %q: quotes, backslashes, control bytes and bytes that are not UTF-8
 * escaped, so a subject always shows as one line that cannot drive the terminal.
 */
static int
add_quoted(struct np_buf *b, struct np_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr, *e = p + s.len;
    int rc = np_buf_add(b, "\"", 1);
    for (size_t n; rc == 0 && p < e; p += n) {
        char esc[8];
        size_t elen = char_escape(p, e, &n, esc);
        if (*p == '"' || *p == '\\')
            rc = np_buf_add(b, (const char[]){'\\', (char)*p}, 2);
        else if (*p == '\n' || *p == '\t')
            rc = np_buf_add(b, *p == '\n' ? "\\n" : "\\t", 2);
        else
            rc = elen ? np_buf_add(b, esc, elen) : np_buf_add(b, p, n);
    }
    return rc ? rc : np_buf_add(b, "\"", 1);
}

static int
add_text(struct np_buf *b, struct np_str s, bool escape)
{
    return escape ? cli_out_escape(b, s.ptr, s.len) : np_buf_add(b, s.ptr, s.len);
}

static int
add_line(struct np_buf *b, struct np_str key, struct np_str value, bool escape)
{
    if (add_text(b, key, escape) != 0 || np_buf_add(b, ": ", 2) != 0 ||
        add_text(b, value, escape) != 0 || np_buf_add(b, "\n", 1) != 0)
        return -ENOMEM;
    return 0;
}

/* Appends the status and field lines of a header block, plus a blank line if there were any. */
static int
add_header_lines(struct np_buf *b, struct np_str block, bool escape)
{
    struct np_hdr h;
    struct np_str key, value;
    size_t pos = 0, before = b->len;
    int rc = 0;
    if (block.len == 0 || np_hdr_parse(&h, block.ptr, block.len) != 0) return 0;
    if (h.status) {
        char code[8];
        snprintf(code, sizeof code, "%d", h.status);
        rc = add_line(b, NP_STR_LIT("Status"), (struct np_str){code, strlen(code)}, false);
        if (rc == 0 && h.description.len)
            rc = add_line(b, NP_STR_LIT("Description"), h.description, escape);
    }
    while (rc == 0 && np_hdr_next(&h, &pos, &key, &value) == 1)
        rc = add_line(b, key, value, escape);
    if (rc == 0 && b->len > before) rc = np_buf_add(b, "\n", 1);
    return rc;
}

static int
add_received(struct np_buf *b, const struct cli_out_msg *m)
{
    char num[32];
    snprintf(num, sizeof num, "[#%llu] Received on ", (unsigned long long)m->count);
    int rc = np_buf_adds(b, num);
    if (rc == 0) rc = add_quoted(b, m->subject);
    if (rc == 0 && m->reply.len) {
        rc = np_buf_adds(b, " with reply ");
        if (rc == 0) rc = add_quoted(b, m->reply);
    }
    if (rc == 0 && m->stream_seq) {
        snprintf(num, sizeof num, " seq %llu", (unsigned long long)m->stream_seq);
        rc = np_buf_adds(b, num);
    }
    return rc;
}

static int
build_banner(struct cli_out *o, const struct cli_out_msg *m)
{
    struct np_buf *b = &o->scratch;
    b->len = 0;
    int rc = m->banner ? np_buf_adds(b, m->banner) : add_received(b, m);
    if (rc == 0 && m->stamp) {
        rc = np_buf_adds(b, " @ ");
        if (rc == 0) rc = np_buf_adds(b, m->stamp);
    }
    if (rc == 0) rc = np_buf_add(b, "\n", 1);
    if (rc == 0) rc = add_header_lines(b, m->headers, o->escape);
    return rc;
}

/* Writes head, body and tail (any may be empty); true when stdio accepted all of it. */
static bool
put3(FILE *f, struct np_str head, struct np_str body, const char *tail)
{
    size_t tl = strlen(tail);
    return fwrite(head.ptr ? head.ptr : "", 1, head.len, f) == head.len &&
           fwrite(body.ptr ? body.ptr : "", 1, body.len, f) == body.len &&
           fwrite(tail, 1, tl, f) == tl;
}

/* The text to show for s: itself, or its escaped copy in the printer's body buffer. */
static int
shown(struct cli_out *o, struct np_str s, struct np_str *out)
{
    *out = s;
    if (!o->escape || !cli_out_needs_escape(s.ptr, s.len)) return 0;
    o->body.len = 0;
    if (cli_out_escape(&o->body, s.ptr, s.len) != 0) return -ENOMEM;
    *out = (struct np_str){o->body.ptr, o->body.len};
    return 0;
}

static int
write_pretty(struct cli_out *o, const struct cli_out_msg *m, bool *ok)
{
    struct np_str head = {o->scratch.ptr, o->scratch.len}, body;
    if (o->headers_only) {
        *ok = put3(o->f, head, NP_STR_LIT(""), "");
        return 0;
    }
    if (shown(o, m->data, &body) != 0) return -ENOMEM;
    bool ends_nl = body.len && body.ptr[body.len - 1] == '\n';
    *ok = put3(o->f, head, body, ends_nl ? "\n" : "\n\n");
    return 0;
}

/* One line: the body (raw mode) or the subject (subjects mode), escaped when asked. */
static int
write_line(struct cli_out *o, struct np_str s, bool *ok)
{
    struct np_str text;
    if (shown(o, s, &text) != 0) return -ENOMEM;
    *ok = put3(o->f, NP_STR_LIT(""), text, "\n");
    return 0;
}

/* Copies a view into the scratch buffer to get the NUL-terminated string cJSON wants. */
static const char *
cstr(struct cli_out *o, struct np_str s)
{
    o->scratch.len = 0;
    return np_buf_add(&o->scratch, s.ptr, s.len) == 0 ? o->scratch.ptr : NULL;
}

static bool
json_add_str(struct cli_out *o, cJSON *obj, const char *key, struct np_str s)
{
    const char *v = cstr(o, s);
    return v && cJSON_AddStringToObject(obj, key, v);
}

/* Adds value to obj[key] (an array, created on the key's first occurrence). */
static bool
json_add_header(struct cli_out *o, cJSON *obj, struct np_str key, struct np_str value)
{
    const char *k = cstr(o, key);
    if (!k) return false;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, k);
    if (!arr && !(arr = cJSON_AddArrayToObject(obj, k))) return false;
    const char *v = cstr(o, value);
    cJSON *item = v ? cJSON_CreateString(v) : NULL;
    return item && cJSON_AddItemToArray(arr, item);
}

static bool
json_add_headers(struct cli_out *o, cJSON *obj, struct np_str block)
{
    struct np_hdr h;
    struct np_str key, value;
    size_t pos = 0;
    if (block.len == 0 || np_hdr_parse(&h, block.ptr, block.len) != 0) return true;
    if (h.status && !cJSON_AddNumberToObject(obj, "status", h.status)) return false;
    if (h.description.len && !json_add_str(o, obj, "description", h.description)) return false;
    cJSON *hdrs = cJSON_CreateObject();
    if (!hdrs) return false;
    while (np_hdr_next(&h, &pos, &key, &value) == 1) {
        if (!json_add_header(o, hdrs, key, value)) {
            cJSON_Delete(hdrs);
            return false;
        }
    }
    if (!hdrs->child) {
        cJSON_Delete(hdrs);
        return true;
    }
    return cJSON_AddItemToObject(obj, "headers", hdrs);
}

static bool
json_add_data(struct cli_out *o, cJSON *obj, struct np_str data)
{
    if (!memchr(data.ptr ? data.ptr : "", '\0', data.len) && cli_utf8_valid(data.ptr, data.len))
        return json_add_str(o, obj, "data", data);
    o->scratch.len = 0;
    return np_b64_encode(data.ptr, data.len, &o->scratch) == 0 &&
           cJSON_AddStringToObject(obj, "data_b64", o->scratch.ptr);
}

/* The message as one compact JSON text (malloc'd), or NULL when out of memory. */
static char *
json_encode(struct cli_out *o, const struct cli_out_msg *m)
{
    char ts[40];
    char *text = NULL;
    cJSON *obj = cJSON_CreateObject();
    cli_fmt_rfc3339nano(&m->ts, ts, sizeof ts);
    if (obj && json_add_str(o, obj, "subject", m->subject) &&
        (!m->reply.len || json_add_str(o, obj, "reply", m->reply)) &&
        (!m->stream_seq || cJSON_AddNumberToObject(obj, "seq", (double)m->stream_seq)) &&
        json_add_headers(o, obj, m->headers) && json_add_data(o, obj, m->data) &&
        cJSON_AddNumberToObject(obj, "size", (double)m->data.len) &&
        cJSON_AddStringToObject(obj, "ts", ts) &&
        (!m->has_rtt || cJSON_AddNumberToObject(obj, "rtt_us", (double)m->rtt_ns / 1e3)))
        text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return text;
}

static int
write_msg(struct cli_out *o, const struct cli_out_msg *m, bool *ok)
{
    switch (o->mode) {
    case CLI_OUT_RAW:
        return write_line(o, m->data, ok);
    case CLI_OUT_SUBJECTS:
        return write_line(o, m->subject, ok);
    case CLI_OUT_JSON: {
        char *text = json_encode(o, m);
        if (!text) return -ENOMEM;
        *ok = put3(o->f, (struct np_str){text, strlen(text)}, NP_STR_LIT(""), "\n");
        cJSON_free(text);
        return 0;
    }
    case CLI_OUT_PRETTY:
        break;
    }
    if (build_banner(o, m) != 0) return -ENOMEM;
    return write_pretty(o, m, ok);
}

int
cli_out_msg(struct cli_out *o, const struct cli_out_msg *m)
{
    bool ok = true;
    errno = 0;
    int rc = write_msg(o, m, &ok);
    if (rc != 0) return rc;
    if (fflush(o->f) != 0) ok = false;
    if (ok && !ferror(o->f)) return 0;
    return errno ? -errno : -EIO;
}
