/*
 * Template expansion and command splitting for the client subcommands.
 *
 * Expansion is a single left-to-right scan that copies text and replaces only the placeholders it
 * fully recognises; everything else, including an opening "{{" that never closes, is copied as
 * is. That makes expansion total: no template can fail to expand, so there is no "warn and send
 * the unexpanded text" path as in natscli. Each call reads the clock at most once, so all time
 * placeholders of one message agree. Random characters are drawn by rejection sampling, so every
 * character of the alphabet is equally likely.
 *
 * Command splitting exists so that `reply --command` can run a program without a shell: the line
 * is split once, then placeholders are expanded per word, so request data can never add words.
 */
#include "cli_tmpl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define ALPHABET     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define ALPHABET_LEN 62
#define REJECT_FROM  248 /* the largest multiple of 62 below 256 */
#define ID_LEN       22
#define RANDOM_MAX   (1024 * 1024)

int
cli_read_some(struct np_buf *b, int fd)
{
    for (;;) {
        if (np_buf_reserve(b, 65536) != 0) return -ENOMEM;
        ssize_t n = read(fd, b->ptr + b->len, 65536);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : 0;
        b->len += (size_t)n;
        b->ptr[b->len] = '\0';
        return 1;
    }
}

int
cli_read_fd(struct np_buf *b, int fd)
{
    int rc;
    while ((rc = cli_read_some(b, fd)) > 0) {
    }
    return rc;
}

/* One expansion in progress: the context plus the instant, read on first use. */
struct expansion {
    const struct cli_tmpl_ctx *ctx;
    struct np_buf *out;
    struct timespec now;
    bool have_now;
};

static const struct timespec *
now(struct expansion *x)
{
    if (!x->have_now) {
        if (x->ctx->clock)
            x->ctx->clock(&x->now, x->ctx->ud);
        else
            clock_gettime(CLOCK_REALTIME, &x->now);
        x->have_now = true;
    }
    return &x->now;
}

static int
get_random(const struct cli_tmpl_ctx *ctx, void *buf, size_t len)
{
    if (ctx->random) return ctx->random(buf, len, ctx->ud);
    return uv_random(NULL, NULL, buf, len, 0, NULL);
}

/* Appends n characters drawn uniformly from ALPHABET. */
static int
random_chars(const struct cli_tmpl_ctx *ctx, struct np_buf *out, size_t n)
{
    unsigned char pool[64];
    size_t used = sizeof pool;
    if (np_buf_reserve(out, n) != 0) return -ENOMEM;
    while (n > 0) {
        if (used == sizeof pool) {
            int rc = get_random(ctx, pool, sizeof pool);
            if (rc != 0) return rc;
            used = 0;
        }
        unsigned char c = pool[used++];
        if (c >= REJECT_FROM) continue;
        out->ptr[out->len++] = ALPHABET[c % ALPHABET_LEN];
        n--;
    }
    out->ptr[out->len] = '\0';
    return 0;
}

static int add_printf(struct np_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
add_printf(struct np_buf *out, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) return -EINVAL;
    return np_buf_add(out, tmp, (size_t)n);
}

/* Go's time.RFC3339 in local time: "Z" for a zero offset, otherwise +hh:mm. */
static int
add_timestamp(struct expansion *x)
{
    struct tm tm;
    localtime_r(&now(x)->tv_sec, &tm);
    char date[40];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0) return add_printf(x->out, "%sZ", date);
    char sign = off < 0 ? '-' : '+';
    if (off < 0) off = -off;
    return add_printf(x->out, "%s%c%02ld:%02ld", date, sign, off / 3600, off / 60 % 60);
}

/* Go's time.Kitchen: "3:04PM". */
static int
add_kitchen(struct expansion *x)
{
    struct tm tm;
    localtime_r(&now(x)->tv_sec, &tm);
    int h = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
    return add_printf(x->out, "%d:%02d%s", h, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses a decimal number from *p (advancing it) that is at most max. */
static bool
parse_num(const char **p, const char *e, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;
    while (s < e && is_digit(*s)) {
        n = n * 10 + (uint64_t)(*s - '0');
        if (n > max) return false;
        s++;
    }
    if (s == *p) return false;
    *p = s;
    *v = n;
    return true;
}

static bool
word_is(const char *p, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - p) == n && memcmp(p, word, n) == 0;
}

/* {{Random MIN MAX}}: p..e is what follows "Random". Returns 1 when not recognised. */
static int
expand_random(struct expansion *x, const char *p, const char *e)
{
    uint64_t lo, hi, pick;
    if (p == e || !is_blank(*p)) return 1;
    while (p < e && is_blank(*p))
        p++;
    if (!parse_num(&p, e, RANDOM_MAX, &lo) || p == e || !is_blank(*p)) return 1;
    while (p < e && is_blank(*p))
        p++;
    if (!parse_num(&p, e, RANDOM_MAX, &hi) || p != e) return 1;
    if (lo > hi) {
        uint64_t t = lo;
        lo = hi;
        hi = t;
    }
    int rc = get_random(x->ctx, &pick, sizeof pick);
    if (rc != 0) return rc;
    return random_chars(x->ctx, x->out, (size_t)(lo + pick % (hi - lo + 1)));
}

/* {{N}}: the N-th token of the request subject. Returns 1 when out of range. */
static int
expand_token(struct expansion *x, const char *p, const char *e)
{
    uint64_t n;
    if (!parse_num(&p, e, UINT32_MAX, &n) || p != e || n == 0) return 1;
    const char *s = x->ctx->subject.ptr, *end = s + x->ctx->subject.len;
    if (!s) return 1;
    for (; n > 1; n--) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        if (!dot) return 1;
        s = dot + 1;
    }
    const char *dot = memchr(s, '.', (size_t)(end - s));
    return np_buf_add(x->out, s, (size_t)((dot ? dot : end) - s));
}

/* Names that take no argument and accept a leading dot. Returns 1 when p..e is none of them. */
static int
expand_name(struct expansion *x, const char *p, const char *e)
{
    if (p < e && *p == '.') p++;
    if (word_is(p, e, "Count") || word_is(p, e, "Cnt"))
        return add_printf(x->out, "%llu", (unsigned long long)x->ctx->count);
    if (word_is(p, e, "TimeStamp")) return add_timestamp(x);
    if (word_is(p, e, "Unix")) return add_printf(x->out, "%lld", (long long)now(x)->tv_sec);
    if (word_is(p, e, "UnixNano")) {
        const struct timespec *t = now(x);
        return add_printf(x->out, "%lld", (long long)t->tv_sec * 1000000000LL + t->tv_nsec);
    }
    if (word_is(p, e, "Time")) return add_kitchen(x);
    if (word_is(p, e, "ID")) return random_chars(x->ctx, x->out, ID_LEN);
    if (x->ctx->reply && word_is(p, e, "Request"))
        return np_buf_add(x->out, x->ctx->request.ptr, x->ctx->request.len);
    return 1;
}

/* The first "cc" in p..e, or NULL (memmem is a GNU extension). */
static const char *
find_pair(const char *p, const char *e, char c)
{
    while (e - p >= 2) {
        const char *hit = memchr(p, c, (size_t)(e - p - 1));
        if (!hit) return NULL;
        if (hit[1] == c) return hit;
        p = hit + 1;
    }
    return NULL;
}

/* Expands the placeholder body p..e (between the braces). Returns 0, 1 (not ours) or an error. */
static int
expand_one(struct expansion *x, const char *p, const char *e)
{
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    if (p < e && is_digit(*p)) return x->ctx->reply ? expand_token(x, p, e) : 1;
    if ((size_t)(e - p) >= 6 && memcmp(p, "Random", 6) == 0) return expand_random(x, p + 6, e);
    return expand_name(x, p, e);
}

bool
cli_tmpl_maybe(const char *s, size_t len)
{
    return len >= 2 && find_pair(s, s + len, '{') != NULL;
}

int
cli_tmpl_expand(const struct cli_tmpl_ctx *ctx, const char *tmpl, size_t len, struct np_buf *out)
{
    struct expansion x = {.ctx = ctx, .out = out, .have_now = false};
    const char *p = tmpl, *end = tmpl + len;
    out->len = 0;
    if (np_buf_reserve(out, len) != 0) return -ENOMEM;
    out->ptr[0] = '\0';
    while (p < end) {
        const char *open = find_pair(p, end, '{');
        if (!open) return np_buf_add(out, p, (size_t)(end - p));
        const char *close = find_pair(open + 2, end, '}');
        if (!close) return np_buf_add(out, p, (size_t)(end - p));
        /*
         * The last "{{" before the close starts the candidate, so "{{x {{Count}}" keeps "{{x "
         * and "{{{Count}}}" becomes "{1}".
         */
        for (const char *inner = open; (inner = find_pair(inner + 1, close, '{'));)
            open = inner;
        if (np_buf_add(out, p, (size_t)(open - p)) != 0) return -ENOMEM;
        int rc = expand_one(&x, open + 2, close);
        if (rc < 0) return rc;
        if (rc == 1 && np_buf_add(out, open, (size_t)(close + 2 - open)) != 0) return -ENOMEM;
        p = close + 2;
    }
    return 0;
}

void
cli_argv_free(char **argv)
{
    if (!argv) return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

int
cli_tmpl_expand_argv(const struct cli_tmpl_ctx *ctx, char *const *argv, int argc, char ***out)
{
    char **v = calloc((size_t)argc + 1, sizeof *v);
    struct np_buf b = {NULL, 0, 0};
    int rc = v ? 0 : -ENOMEM;
    for (int i = 0; rc == 0 && i < argc; i++) {
        rc = cli_tmpl_expand(ctx, argv[i], strlen(argv[i]), &b);
        if (rc == 0 && !(v[i] = strdup(b.ptr))) rc = -ENOMEM;
    }
    np_buf_release(&b);
    if (rc != 0) {
        cli_argv_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* The word being built and the vector of finished words. */
struct splitter {
    struct np_buf word;
    bool in_word;
    char **v;
    int n, cap;
};

static int
finish_word(struct splitter *s)
{
    if (!s->in_word) return 0;
    if (s->n + 1 >= s->cap) {
        int cap = s->cap ? s->cap * 2 : 8;
        char **v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v) return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    char *w = strdup(s->word.ptr ? s->word.ptr : "");
    if (!w) return -ENOMEM;
    s->v[s->n++] = w;
    s->v[s->n] = NULL;
    s->word.len = 0;
    if (s->word.ptr) s->word.ptr[0] = '\0';
    s->in_word = false;
    return 0;
}

static bool
dq_escapable(char c)
{
    return c == '"' || c == '\\' || c == '$' || c == '`' || c == '\n';
}

/* Reads a quoted section starting after its opening quote; *pp ends after the closing one. */
static int
read_quoted(struct splitter *s, const char **pp, char quote)
{
    const char *p = *pp;
    for (; *p && *p != quote; p++) {
        if (quote == '"' && *p == '\\' && dq_escapable(p[1])) {
            p++;
            if (*p == '\n') continue;
        }
        if (np_buf_add(&s->word, p, 1) != 0) return -ENOMEM;
    }
    if (!*p) return -EINVAL;
    *pp = p + 1;
    return 0;
}

/* Reads one character or quoted section of a word at *pp. */
static int
split_step(struct splitter *s, const char **pp)
{
    const char *p = *pp;
    if (*p == ' ' || *p == '\t' || *p == '\n') {
        *pp = p + 1;
        return finish_word(s);
    }
    if (*p == '\\') {
        if (!p[1]) return -EINVAL;
        *pp = p + 2;
        if (p[1] == '\n') return 0;
        s->in_word = true;
        return np_buf_add(&s->word, p + 1, 1);
    }
    s->in_word = true;
    if (*p == '\'' || *p == '"') {
        *pp = p + 1;
        return read_quoted(s, pp, *p);
    }
    *pp = p + 1;
    return np_buf_add(&s->word, p, 1);
}

int
cli_split_command(const char *line, char ***argv, int *argc)
{
    struct splitter s = {.in_word = false};
    int rc = 0;
    for (const char *p = line; rc == 0 && *p;)
        rc = split_step(&s, &p);
    if (rc == 0) rc = finish_word(&s);
    if (rc == 0 && !s.v && !(s.v = calloc(1, sizeof *s.v))) rc = -ENOMEM;
    np_buf_release(&s.word);
    if (rc != 0) {
        cli_argv_free(s.v);
        return rc;
    }
    *argv = s.v;
    *argc = s.n;
    return 0;
}
