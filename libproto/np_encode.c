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

size_t
np_enc_u64(char *dst, uint64_t v)
{
    char buf[U64_DIGITS];
    struct np_str d = u64_dec(buf, v);
    memcpy(dst, d.ptr, d.len);
    return d.len;
}
