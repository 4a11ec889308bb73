/*
 * Encoders for the protocol lines both sides send (spec 1.2 to 1.8), and the route lines between
 * servers (spec 5.4, 5.5).
 *
 * Each encoder keeps snprintf's contract without the NUL: it returns the length of the complete
 * line and writes at most cap bytes of it, so a caller may size a buffer with a first call at
 * cap 0 (dst may then be NULL). np_enc_msg and np_enc_hmsg run once per delivered message, so
 * nothing here allocates or goes through printf: pieces are copied straight into dst, with a
 * single length check per piece, and numbers become digits two at a time in a stack buffer.
 */
#include "np.h"

#include <string.h>

#define U64_DIGITS 20 /* UINT64_MAX has 20 decimal digits */

/* Where the next bytes of a line go: room counts down to 0, over counts what did not fit. */
struct out {
    char *p;
    size_t room;
    size_t over;
};

static const char digit_pairs[] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* Writes v in decimal at the end of buf[U64_DIGITS] and returns the view of the digits. */
static inline struct np_str
u64_dec(char *buf, uint64_t v)
{
    char *p = buf + U64_DIGITS;
    while (v >= 100) {
        size_t pair = (size_t)(v % 100) * 2;
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + pair, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + (size_t)v * 2, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return (struct np_str){p, (size_t)(buf + U64_DIGITS - p)};
}

/* The rare case: the piece does not fit, so copy what does and count the rest. */
static void
put_tail(struct out *o, const char *s, size_t n)
{
    if (o->room) {
        memcpy(o->p, s, o->room);
        o->p += o->room;
    }
    o->over += n - o->room;
    o->room = 0;
}

/*
 * n must not be 0, so that a NULL dst with cap 0 is never offset or passed to memcpy. Inlined so
 * that each literal piece becomes a compare and a store or two.
 */
static inline void
put(struct out *o, const char *s, size_t n)
{
    if (n <= o->room) {
        memcpy(o->p, s, n);
        o->p += n;
        o->room -= n;
    } else {
        put_tail(o, s, n);
    }
}

#define PUT_LIT(o, lit) put(o, lit, sizeof(lit) - 1)

static inline void
put_str(struct out *o, struct np_str s)
{
    if (s.len) put(o, s.ptr, s.len);
}

/* Adds " <arg>" for an optional argument, nothing when it is empty. */
static inline void
put_opt(struct out *o, struct np_str arg)
{
    if (arg.len == 0) return;
    PUT_LIT(o, " ");
    put(o, arg.ptr, arg.len);
}

static inline void
put_num(struct out *o, uint64_t v)
{
    char digits[U64_DIGITS];
    put_str(o, u64_dec(digits, v));
}

/* The length of the whole line, written or not. */
static size_t
line_len(const struct out *o, size_t cap)
{
    return cap - o->room + o->over;
}

size_t
np_enc_pub(char *dst, size_t cap, struct np_str subject, struct np_str reply, size_t size)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "PUB ");
    put_str(&o, subject);
    put_opt(&o, reply);
    PUT_LIT(&o, " ");
    put_num(&o, size);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_hpub(char *dst, size_t cap, struct np_str subject, struct np_str reply, size_t hdr_len,
            size_t total)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "HPUB ");
    put_str(&o, subject);
    put_opt(&o, reply);
    PUT_LIT(&o, " ");
    put_num(&o, hdr_len);
    PUT_LIT(&o, " ");
    put_num(&o, total);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_sub(char *dst, size_t cap, struct np_str subject, struct np_str queue, struct np_str sid)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "SUB ");
    put_str(&o, subject);
    put_opt(&o, queue);
    PUT_LIT(&o, " ");
    put_str(&o, sid);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_unsub(char *dst, size_t cap, struct np_str sid, int64_t max)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "UNSUB ");
    put_str(&o, sid);
    if (max >= 0) {
        PUT_LIT(&o, " ");
        put_num(&o, (uint64_t)max);
    }
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_msg(char *dst, size_t cap, struct np_str subject, struct np_str sid, struct np_str reply,
           size_t size)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "MSG ");
    put_str(&o, subject);
    PUT_LIT(&o, " ");
    put_str(&o, sid);
    put_opt(&o, reply);
    PUT_LIT(&o, " ");
    put_num(&o, size);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_hmsg(char *dst, size_t cap, struct np_str subject, struct np_str sid, struct np_str reply,
            size_t hdr_len, size_t total)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "HMSG ");
    put_str(&o, subject);
    PUT_LIT(&o, " ");
    put_str(&o, sid);
    put_opt(&o, reply);
    PUT_LIT(&o, " ");
    put_num(&o, hdr_len);
    PUT_LIT(&o, " ");
    put_num(&o, total);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_rmsg(char *dst, size_t cap, const struct np_rmsg_line *m)
{
    struct out o = {dst, cap, 0};
    if (m->hdr_len)
        PUT_LIT(&o, "HMSG ");
    else
        PUT_LIT(&o, "RMSG ");
    put_str(&o, m->account);
    PUT_LIT(&o, " ");
    put_str(&o, m->subject);
    if (m->nqueues) {
        if (m->reply.len) {
            PUT_LIT(&o, " +");
            put_opt(&o, m->reply);
        } else {
            PUT_LIT(&o, " |");
        }
        for (size_t i = 0; i < m->nqueues; i++)
            put_opt(&o, m->queues[i]);
    } else {
        put_opt(&o, m->reply);
    }
    if (m->hdr_len) {
        PUT_LIT(&o, " ");
        put_num(&o, m->hdr_len);
    }
    PUT_LIT(&o, " ");
    put_num(&o, m->total);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

/* Interest lines end the same way: the optional queue, then the weight for RS+. */
static size_t
interest_line(struct out *o, size_t cap, const struct np_rsub_line *l)
{
    put_str(o, l->account);
    PUT_LIT(o, " ");
    put_str(o, l->subject);
    put_opt(o, l->queue);
    if (l->queue.len && l->weight) {
        PUT_LIT(o, " ");
        put_num(o, l->weight);
    }
    PUT_LIT(o, "\r\n");
    return line_len(o, cap);
}

size_t
np_enc_rsub(char *dst, size_t cap, const struct np_rsub_line *l)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "RS+ ");
    return interest_line(&o, cap, l);
}

size_t
np_enc_runsub(char *dst, size_t cap, const struct np_rsub_line *l)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "RS- ");
    struct np_rsub_line no_weight = *l;
    no_weight.weight = 0;
    return interest_line(&o, cap, &no_weight);
}

size_t
np_enc_info(char *dst, size_t cap, struct np_str json)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "INFO ");
    put_str(&o, json);
    PUT_LIT(&o, " \r\n");
    return line_len(&o, cap);
}

size_t
np_enc_connect(char *dst, size_t cap, struct np_str json)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "CONNECT ");
    put_str(&o, json);
    PUT_LIT(&o, "\r\n");
    return line_len(&o, cap);
}

size_t
np_enc_err(char *dst, size_t cap, struct np_str text)
{
    struct out o = {dst, cap, 0};
    PUT_LIT(&o, "-ERR '");
    put_str(&o, text);
    PUT_LIT(&o, "'\r\n");
    return line_len(&o, cap);
}

/* Decodes one UTF-8 sequence at s[0..n) as Go does: 0 for invalid, overlong or surrogate bytes. */
static size_t
utf8_rune(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (len == 0 || s[0] > 0xf4 || n < len) return 0;
    uint32_t v = s[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3fu);
    }
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

/*
 * Go's strconv.IsPrint for code points above ASCII, without Go's tables: controls, separators other
 * than the ASCII space, the common format characters, private use, noncharacters and the unassigned
 * planes are not printable. Unassigned code points inside the assigned planes, which Go also
 * escapes, are taken as printable: a subject written with them is the rare exception.
 */
static bool
rune_printable(uint32_t c)
{
    static const uint32_t hidden[][2] = {
        {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},      {0x61c, 0x61c},
        {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x1680, 0x1680},    {0x180e, 0x180e},
        {0x2000, 0x200f},   {0x2028, 0x202f},   {0x205f, 0x206f},    {0x3000, 0x3000},
        {0xe000, 0xf8ff},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},    {0xfffe, 0xffff},
        {0x3134b, 0xdffff}, {0xe0000, 0xe00ff}, {0xe01f0, 0x10ffff},
    };
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        if (c >= hidden[i][0] && c <= hidden[i][1]) return false;
    }
    return true;
}

/* Appends "\x", "\u" or "\U" and v in lowercase hex, digits wide. */
static void
put_hex(struct out *o, const char *esc, uint32_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    char buf[10];
    memcpy(buf, esc, 2);
    for (int i = 0; i < digits; i++)
        buf[2 + i] = hex[(v >> (4 * (digits - 1 - i))) & 15];
    put(o, buf, 2 + (size_t)digits);
}

/* One byte that is not part of a printable multi-byte rune. */
static void
put_quoted_byte(struct out *o, unsigned char ch)
{
    static const char named[] = "\\a\\b\\t\\n\\v\\f\\r";
    if (ch == '"' || ch == '\\') {
        char esc[2] = {'\\', (char)ch};
        put(o, esc, 2);
    } else if (ch >= 0x20 && ch < 0x7f) {
        put(o, (const char *)&ch, 1);
    } else if (ch >= 7 && ch <= 13) {
        put(o, named + (ch - 7) * 2, 2);
    } else {
        put_hex(o, "\\x", ch, 2);
    }
}

size_t
np_enc_quoted(char *dst, size_t cap, struct np_str s)
{
    struct out o = {dst, cap, 0};
    const unsigned char *p = (const unsigned char *)s.ptr;
    PUT_LIT(&o, "\"");
    for (size_t i = 0; i < s.len;) {
        uint32_t cp;
        size_t n = p[i] < 0x80 ? 0 : utf8_rune(p + i, s.len - i, &cp);
        if (n == 0) {
            put_quoted_byte(&o, p[i++]);
            continue;
        }
        if (rune_printable(cp))
            put(&o, (const char *)p + i, n);
        else if (cp < 0x10000)
            put_hex(&o, "\\u", cp, 4);
        else
            put_hex(&o, "\\U", cp, 8);
        i += n;
    }
    PUT_LIT(&o, "\"");
    return line_len(&o, cap);
}

size_t
np_enc_u64(char *dst, uint64_t v)
{
    char buf[U64_DIGITS];
    struct np_str d = u64_dec(buf, v);
    memcpy(dst, d.ptr, d.len);
    return d.len;
}
