/*
 * Header blocks (spec 1.9): a zero-copy reader for both sides and a builder for clients.
 *
 * A block is a "NATS/1.0" status line, zero or more "Key: value" lines and a blank line, each line
 * ended by CRLF. np_hdr_parse checks the frame once (prefix, status line, final blank line); field
 * lines are only checked when np_hdr_next reaches them, so a reader that wants the status alone,
 * as a requester waiting for a 503 does, pays for nothing more. The frame check guarantees that
 * the span between the status line and the final blank line is empty or ends with CRLF, so the
 * iterator always finds a line end inside it. The builder's buffer always holds a block that
 * would parse once terminated, so the first bad input becomes a sticky error instead of a broken
 * block.
 */
#include "np.h"

#include <string.h>

#define PREFIX_LEN (sizeof NP_HDR_LINE - 1)
#define TERMINATOR "\r\n\r\n"

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

/* The view of p[0..e) without its leading and trailing blanks. */
static struct np_str
trim(const char *p, const char *e)
{
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    return (struct np_str){p, (size_t)(e - p)};
}

/*
 * Reads what follows "NATS/1.0" on the status line, p[0..e): nothing, or blanks, then optionally a
 * 3-digit code, then optionally blanks and a description.
 */
static int
parse_status(struct np_hdr *h, const char *p, const char *e)
{
    if (p == e) return 0;
    if (!is_blank(*p)) return NP_EHEADER;
    struct np_str rest = trim(p, e);
    if (rest.len == 0) return 0;
    const char *s = rest.ptr;
    if (rest.len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])) return NP_EHEADER;
    if (rest.len > 3 && !is_blank(s[3])) return NP_EHEADER;
    h->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    h->description = trim(s + 3, s + rest.len);
    return 0;
}

int
np_hdr_parse(struct np_hdr *h, const char *buf, size_t len)
{
    *h = (struct np_hdr){.status = 0};
    if (!buf || len < NP_HDR_MIN_LEN || memcmp(buf, NP_HDR_LINE, PREFIX_LEN) != 0 ||
        memcmp(buf + len - 4, TERMINATOR, 4) != 0)
        return NP_EHEADER;
    /* The terminator guarantees a '\n' at len - 3 at the latest. */
    const char *nl = memchr(buf + PREFIX_LEN, '\n', len - PREFIX_LEN);
    const char *cr = nl - 1;
    if (*cr != '\r' || memchr(buf, '\r', (size_t)(cr - buf))) return NP_EHEADER;
    if (parse_status(h, buf + PREFIX_LEN, cr) != 0) {
        *h = (struct np_hdr){.status = 0};
        return NP_EHEADER;
    }
    h->fields = nl + 1;
    h->end = buf + len;
    return 0;
}

int
np_hdr_next(const struct np_hdr *h, size_t *pos, struct np_str *key, struct np_str *value)
{
    if (!h->fields) return 0;
    const char *p = h->fields + *pos;
    const char *stop = h->end - 2; /* the final blank line */
    if (p >= stop) return 0;
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    if (!nl || nl == p || nl[-1] != '\r') return NP_EHEADER;
    const char *eol = nl - 1;
    size_t line_len = (size_t)(eol - p);
    const char *colon = memchr(p, ':', line_len);
    /* A leading blank would be an obsolete folded line, which NATS never sends. */
    if (!colon || is_blank(*p) || memchr(p, '\r', line_len)) return NP_EHEADER;
    struct np_str k = trim(p, colon);
    if (k.len == 0) return NP_EHEADER;
    *key = k;
    *value = trim(colon + 1, eol);
    *pos = (size_t)(nl + 1 - h->fields);
    return 1;
}

bool
np_hdr_get(const struct np_hdr *h, const char *name, struct np_str *value)
{
    size_t pos = 0, name_len = strlen(name);
    struct np_str k, v;
    while (np_hdr_next(h, &pos, &k, &v) == 1) {
        if (k.len == name_len && memcmp(k.ptr, name, name_len) == 0) {
            *value = v;
            return true;
        }
    }
    return false;
}

/* True when s holds any byte of set. */
static bool
has_byte(struct np_str s, const char *set)
{
    size_t set_len = strlen(set);
    for (size_t i = 0; i < s.len; i++) {
        if (memchr(set, s.ptr[i], set_len)) return true;
    }
    return false;
}

/* A finished block ends with an empty line; nothing else in the buffer can end that way. */
static bool
finished(const struct np_hdr_builder *b)
{
    return b->buf.len >= 4 && memcmp(b->buf.ptr + b->buf.len - 4, TERMINATOR, 4) == 0;
}

static void
append(struct np_hdr_builder *b, const char *p, size_t n)
{
    if (b->err || n == 0) return;
    if (np_buf_add(&b->buf, p, n) != 0) b->err = NP_ENOMEM;
}

static void
append_lit(struct np_hdr_builder *b, const char *s)
{
    append(b, s, strlen(s));
}

void
np_hdr_builder_init(struct np_hdr_builder *b, int status, const char *description)
{
    *b = (struct np_hdr_builder){.err = 0};
    struct np_str desc = {description, description ? strlen(description) : 0};
    /* A description cannot be written without a code, and the code is always 3 digits. */
    if ((status != 0 && (status < 100 || status > 999)) || (status == 0 && desc.len)) {
        b->err = NP_EINVAL;
        return;
    }
    if (has_byte(desc, "\r\n")) {
        b->err = NP_EHEADER;
        return;
    }
    append_lit(b, NP_HDR_LINE);
    if (status) {
        char code[4] = {' ', (char)('0' + status / 100), (char)('0' + status / 10 % 10),
                        (char)('0' + status % 10)};
        append(b, code, sizeof code);
    }
    if (desc.len) {
        append_lit(b, " ");
        append(b, desc.ptr, desc.len);
    }
    append_lit(b, "\r\n");
}

void
np_hdr_builder_add(struct np_hdr_builder *b, struct np_str key, struct np_str value)
{
    if (b->err) return;
    if (finished(b)) {
        b->err = NP_EINVAL;
        return;
    }
    if (key.len == 0 || has_byte(key, ": \t\r\n") || has_byte(value, "\r\n")) {
        b->err = NP_EHEADER;
        return;
    }
    append(b, key.ptr, key.len);
    append_lit(b, ": ");
    append(b, value.ptr, value.len);
    append_lit(b, "\r\n");
}

int
np_hdr_builder_finish(struct np_hdr_builder *b, struct np_str *out)
{
    if (!b->err && !finished(b)) append_lit(b, "\r\n");
    if (b->err) return b->err;
    *out = (struct np_str){b->buf.ptr, b->buf.len};
    return 0;
}

void
np_hdr_builder_release(struct np_hdr_builder *b)
{
    np_buf_release(&b->buf);
    b->err = 0;
}
