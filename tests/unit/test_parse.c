/*
 * Tests of the protocol parser (libproto/np_parse.c) and of the error and view helpers
 * (libproto/np_err.c).
 *
 * Every case of the table is parsed whole, one byte at a time, split into two buffers at every
 * offset, into three at every pair of offsets (short inputs), and placed at the end of a page that is
 * followed by a PROT_NONE page. Each piece is a separate heap copy freed right after the call, so a
 * view left pointing into an earlier piece is a use-after-free under ASan. All runs must give exactly
 * the operations of the whole run, ending at the same input offsets, and the whole run must give
 * exactly the expected operations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "np.h"

/* ---- recording what the parser returns ------------------------------------------------------- */

enum { F_SUBJECT, F_REPLY, F_SID, F_QUEUE, F_ARG, F_SIZE, F_PAYLOAD, F_COUNT };

static const char *const field_name[F_COUNT] = {"subject", "reply", "sid",    "queue",
                                                "arg",     "size",  "payload"};

struct rop {
    enum np_op_type type;
    char *f[F_COUNT]; /* NUL-terminated copies of the views */
    size_t flen[F_COUNT];
    size_t hdr_len;
    int64_t max_msgs;
    size_t end; /* input offset just after the operation */
};

struct run {
    int err; /* 0, or what np_parse returned last */
    size_t nops, cap;
    struct rop *ops;
};

struct cfg {
    enum np_mode mode;
    uint32_t mcl, mpay;
};

static const struct np_str *
op_field(const struct np_op *op, int k)
{
    const struct np_str *f[F_COUNT] = {&op->subject, &op->reply, &op->sid,    &op->queue,
                                       &op->arg,     &op->size,  &op->payload};
    return f[k];
}

static int
within(const void *ptr, size_t len, const void *base, size_t cap)
{
    uintptr_t a = (uintptr_t)ptr, b = (uintptr_t)base;
    return base != NULL && a >= b && a + len <= b + cap;
}

/* Every non-empty view must lie in the buffer just given or in the parser's own buffers. */
static void
check_views(const struct np_parser *p, const struct np_op *op, const char *buf, size_t len)
{
    for (int k = 0; k < F_COUNT; k++) {
        const struct np_str *v = op_field(op, k);
        if (v->len == 0) continue;
        if (!within(v->ptr, v->len, buf, len) &&
            !within(v->ptr, v->len, p->scratch, p->scratch_cap) &&
            !within(v->ptr, v->len, p->msgbuf, p->msgbuf_cap))
            fail_msg("view %s points outside the input and the parser buffers", field_name[k]);
    }
}

static void
record(struct run *r, const struct np_op *op, size_t end)
{
    if (r->nops == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->ops = realloc(r->ops, r->cap * sizeof *r->ops);
        assert_non_null(r->ops);
    }
    struct rop *o = &r->ops[r->nops++];
    o->type = op->type;
    for (int k = 0; k < F_COUNT; k++) {
        const struct np_str *v = op_field(op, k);
        o->f[k] = malloc(v->len + 1);
        assert_non_null(o->f[k]);
        if (v->len) memcpy(o->f[k], v->ptr, v->len);
        o->f[k][v->len] = '\0';
        o->flen[k] = v->len;
    }
    o->hdr_len = op->hdr_len;
    o->max_msgs = op->max_msgs;
    o->end = end;
}

static void
run_free(struct run *r)
{
    for (size_t i = 0; i < r->nops; i++)
        for (int k = 0; k < F_COUNT; k++)
            free(r->ops[i].f[k]);
    free(r->ops);
    memset(r, 0, sizeof *r);
}

/* ---- feeding --------------------------------------------------------------------------------- */

/* Two pages, the second PROT_NONE: bytes copied flush against the end of the first. */
struct guard {
    char *base;
    size_t page;
};

static struct guard
guard_map(void)
{
    struct guard g;
    g.page = (size_t)sysconf(_SC_PAGESIZE);
    g.base = mmap(NULL, 2 * g.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g.base != MAP_FAILED);
    assert_int_equal(mprotect(g.base + g.page, g.page, PROT_NONE), 0);
    return g;
}

static void
guard_unmap(struct guard *g)
{
    munmap(g->base, 2 * g->page);
}

/* Parses one piece to its end, recording operations. Returns 0, or the error. */
static int
feed_piece(struct np_parser *p, struct run *r, const char *buf, size_t n, size_t base)
{
    size_t off = 0;
    do {
        struct np_op op;
        memset(&op, 0xA5, sizeof op);
        ssize_t c = np_parse(p, buf + off, n - off, &op);
        if (c < 0) {
            assert_int_equal(op.type, NP_OP_NONE);
            return (int)c;
        }
        assert_true((size_t)c <= n - off);
        check_views(p, &op, buf, n);
        off += (size_t)c;
        if (op.type == NP_OP_NONE) {
            assert_int_equal(off, n);
            assert_null(op.subject.ptr);
            assert_int_equal(op.payload.len, 0);
        } else {
            record(r, &op, base + off);
        }
    } while (off < n);
    return 0;
}

/* Feeds in[cuts[i]..cuts[i+1]) as separate buffers: heap copies, or flush against a guard page. */
static void
feed(struct run *r, const struct cfg *cfg, const char *in, const size_t *cuts, size_t ncuts,
     struct guard *g)
{
    struct np_parser p;
    np_parser_init(&p, cfg->mode, cfg->mcl, cfg->mpay);
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i + 1 < ncuts && r->err == 0; i++) {
        size_t n = cuts[i + 1] - cuts[i];
        char *buf = g ? g->base + g->page - n : malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, in + cuts[i], n);
        r->err = feed_piece(&p, r, buf, n, cuts[i]);
        if (!g) free(buf);
    }
    if (r->err != 0) {
        struct np_op op;
        assert_int_equal(np_parse(&p, "PING\r\n", 6, &op), r->err);
        assert_int_equal(np_parse(&p, NULL, 0, &op), r->err);
        assert_int_equal(op.type, NP_OP_NONE);
    }
    np_parser_release(&p);
}

static void
feed_whole(struct run *r, const struct cfg *cfg, const char *in, size_t len)
{
    size_t cuts[2] = {0, len};
    feed(r, cfg, in, cuts, 2, NULL);
}

static void
feed_bytes(struct run *r, const struct cfg *cfg, const char *in, size_t len)
{
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i <= len; i++)
        cuts[i] = i;
    feed(r, cfg, in, cuts, len + 1, NULL);
    free(cuts);
}

/* ---- comparing ------------------------------------------------------------------------------- */

struct want {
    enum np_op_type type;
    const char *subject, *reply, *sid, *queue, *arg, *size, *payload;
    size_t hdr_len;
    int64_t max_msgs;
};

static const char *
show(const char *in, size_t len)
{
    static char out[160];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < sizeof out; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\r')
            o += (size_t)snprintf(out + o, sizeof out - o, "\\r");
        else if (c == '\n')
            o += (size_t)snprintf(out + o, sizeof out - o, "\\n");
        else if (c == '\t')
            o += (size_t)snprintf(out + o, sizeof out - o, "\\t");
        else if (c < 32 || c > 126)
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (len > 0 && o + 8 >= sizeof out) o += (size_t)snprintf(out + o, sizeof out - o, "...");
    out[o] = '\0';
    return out;
}

static void
expect_ops(const char *ctx, const struct run *r, const struct want *w, size_t nw, int err)
{
    if (r->err != err) fail_msg("%s: error %s, want %s", ctx, np_errname(r->err), np_errname(err));
    if (r->nops != nw) fail_msg("%s: %zu operations, want %zu", ctx, r->nops, nw);
    for (size_t i = 0; i < nw; i++) {
        const struct rop *o = &r->ops[i];
        const char *want[F_COUNT] = {w[i].subject, w[i].reply, w[i].sid,    w[i].queue,
                                     w[i].arg,     w[i].size,  w[i].payload};
        if (o->type != w[i].type)
            fail_msg("%s: op %zu type %d, want %d", ctx, i, o->type, w[i].type);
        for (int k = 0; k < F_COUNT; k++) {
            const char *s = want[k] ? want[k] : "";
            if (o->flen[k] != strlen(s) || memcmp(o->f[k], s, o->flen[k]) != 0)
                fail_msg("%s: op %zu %s \"%s\", want \"%s\"", ctx, i, field_name[k], o->f[k], s);
        }
        if (o->hdr_len != w[i].hdr_len)
            fail_msg("%s: op %zu hdr_len %zu, want %zu", ctx, i, o->hdr_len, w[i].hdr_len);
        if (o->max_msgs != w[i].max_msgs)
            fail_msg("%s: op %zu max_msgs %lld, want %lld", ctx, i, (long long)o->max_msgs,
                     (long long)w[i].max_msgs);
    }
}

static void
expect_same(const char *ctx, const struct run *a, const struct run *b)
{
    if (a->err != b->err)
        fail_msg("%s: error %s, whole run gave %s", ctx, np_errname(a->err), np_errname(b->err));
    if (a->nops != b->nops)
        fail_msg("%s: %zu operations, whole run gave %zu", ctx, a->nops, b->nops);
    for (size_t i = 0; i < a->nops; i++) {
        const struct rop *x = &a->ops[i], *y = &b->ops[i];
        if (x->type != y->type || x->hdr_len != y->hdr_len || x->max_msgs != y->max_msgs ||
            x->end != y->end)
            fail_msg("%s: op %zu differs from the whole run (type %d/%d end %zu/%zu)", ctx, i,
                     x->type, y->type, x->end, y->end);
        for (int k = 0; k < F_COUNT; k++)
            if (x->flen[k] != y->flen[k] || memcmp(x->f[k], y->f[k], x->flen[k]) != 0)
                fail_msg("%s: op %zu %s \"%s\", whole run gave \"%s\"", ctx, i, field_name[k],
                         x->f[k], y->f[k]);
    }
}

/* ---- the table ------------------------------------------------------------------------------- */

#define SRV                                                                                        \
    {                                                                                              \
        NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD                                        \
    }
#define CLI                                                                                        \
    {                                                                                              \
        NP_MODE_CLIENT, 0, 0                                                                       \
    }
#define HDR  "NATS/1.0\r\n\r\n"
#define MAXW 7

struct pcase {
    const char *in;
    struct cfg cfg;
    int err;
    struct want ops[MAXW];
};

#define PING_OP                                                                                    \
    {                                                                                              \
        .type = NP_OP_PING                                                                         \
    }
#define PONG_OP                                                                                    \
    {                                                                                              \
        .type = NP_OP_PONG                                                                         \
    }
#define OK_OP                                                                                      \
    {                                                                                              \
        .type = NP_OP_OK                                                                           \
    }

static const struct pcase cases[] = {
    /* every operation, server side */
    {"PUB foo 5\r\nhello\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "foo", .size = "5", .payload = "hello"}}},
    {"PUB foo bar 5\r\nhello\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "foo", .reply = "bar", .size = "5", .payload = "hello"}}},
    {"PUB foo 0\r\n\r\n", SRV, 0, {{NP_OP_PUB, .subject = "foo", .size = "0"}}},
    {"PUB a 4\r\n\r\n\r\n\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "a", .size = "4", .payload = "\r\n\r\n"}}},
    {"PUB a 007\r\nabcdefg\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "a", .size = "007", .payload = "abcdefg"}}},
    {"HPUB foo 12 17\r\n" HDR "hello\r\n",
     SRV,
     0,
     {{NP_OP_HPUB, .subject = "foo", .size = "17", .payload = HDR "hello", .hdr_len = 12}}},
    {"HPUB foo rep 12 12\r\n" HDR "\r\n",
     SRV,
     0,
     {{NP_OP_HPUB, .subject = "foo", .reply = "rep", .size = "12", .payload = HDR, .hdr_len = 12}}},
    {"HPUB a 0 0\r\n\r\n", SRV, 0, {{NP_OP_HPUB, .subject = "a", .size = "0"}}},
    {"HPUB a 5 5\r\nhello\r\n",
     SRV,
     0,
     {{NP_OP_HPUB, .subject = "a", .size = "5", .payload = "hello", .hdr_len = 5}}},
    {"SUB foo 1\r\n", SRV, 0, {{NP_OP_SUB, .subject = "foo", .sid = "1"}}},
    {"SUB foo.* grp 42\r\n",
     SRV,
     0,
     {{NP_OP_SUB, .subject = "foo.*", .queue = "grp", .sid = "42"}}},
    {"SUB foo..bar x\r\n", SRV, 0, {{NP_OP_SUB, .subject = "foo..bar", .sid = "x"}}},
    {"UNSUB 1\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = -1}}},
    {"UNSUB 1 5\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = 5}}},
    {"UNSUB 1 999999999\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = 999999999}}},
    {"UNSUB 1 0\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = 0}}},
    {"UNSUB 1 abc\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = 0}}},
    {"UNSUB 1 -1\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = 0}}},
    {"UNSUB 1 1234567890\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = 0}}},
    {"PING\r\n", SRV, 0, {PING_OP}},
    {"PONG\r\n", SRV, 0, {PONG_OP}},
    {"+OK\r\n", SRV, 0, {OK_OP}},
    {"CONNECT {\"verbose\":false}\r\n", SRV, 0, {{NP_OP_CONNECT, .arg = "{\"verbose\":false}"}}},
    {"CONNECT{}\r\n", SRV, 0, {{NP_OP_CONNECT, .arg = "{}"}}},
    {"CONNECT \t {\"a\": 1} \t \r\n", SRV, 0, {{NP_OP_CONNECT, .arg = "{\"a\": 1}"}}},
    {"CONNECT\r\n", SRV, 0, {{.type = NP_OP_CONNECT}}},
    {"CONNECT \r\n", SRV, 0, {{.type = NP_OP_CONNECT}}},
    {"INFO {\"server_id\":\"x\"} \r\n", SRV, 0, {{NP_OP_INFO, .arg = "{\"server_id\":\"x\"}"}}},
    {"-ERR 'Unknown Protocol Operation'\r\n",
     SRV,
     0,
     {{NP_OP_ERR, .arg = "'Unknown Protocol Operation'"}}},
    {"-ERR \t 'x y'  \r\n", SRV, 0, {{NP_OP_ERR, .arg = "'x y'  "}}},
    {"-ERR \r\n", SRV, 0, {{.type = NP_OP_ERR}}},
    /* PING, PONG and +OK ignore the rest of their line */
    {"PINGXYZ\r\n", SRV, 0, {PING_OP}},
    {"PING \r\n", SRV, 0, {PING_OP}},
    {"PONG whatever 1 2 3\n", SRV, 0, {PONG_OP}},
    {"+OKAY\r\n", SRV, 0, {OK_OP}},
    /* verbs are case-insensitive */
    {"pub foo 2\r\nhi\r\n", SRV, 0, {{NP_OP_PUB, .subject = "foo", .size = "2", .payload = "hi"}}},
    {"PuB foo 2\r\nhi\r\n", SRV, 0, {{NP_OP_PUB, .subject = "foo", .size = "2", .payload = "hi"}}},
    {"hPuB a 0 2\r\nhi\r\n", SRV, 0, {{NP_OP_HPUB, .subject = "a", .size = "2", .payload = "hi"}}},
    {"sUb a 1\r\n", SRV, 0, {{NP_OP_SUB, .subject = "a", .sid = "1"}}},
    {"uNsUb 1\r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "1", .max_msgs = -1}}},
    {"ping\r\npong\r\nPiNg\r\n+ok\r\n", SRV, 0, {PING_OP, PONG_OP, PING_OP, OK_OP}},
    {"connect {}\r\n", SRV, 0, {{NP_OP_CONNECT, .arg = "{}"}}},
    {"iNfO {}\r\n", SRV, 0, {{NP_OP_INFO, .arg = "{}"}}},
    {"-err 'x'\r\n", SRV, 0, {{NP_OP_ERR, .arg = "'x'"}}},
    /* blanks */
    {"PuB\tfoo\t\t 2 \r\nhi\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "foo", .size = "2", .payload = "hi"}}},
    {"PUB  foo  bar   3\t\r\nabc\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "foo", .reply = "bar", .size = "3", .payload = "abc"}}},
    {"SUB\t foo \t q\t 1 \t\r\n",
     SRV,
     0,
     {{NP_OP_SUB, .subject = "foo", .queue = "q", .sid = "1"}}},
    {"UNSUB \t 7 \t 2 \r\n", SRV, 0, {{NP_OP_UNSUB, .sid = "7", .max_msgs = 2}}},
    /* LF alone ends a line; a CR inside a line separates like a blank */
    {"SUB a 1\n", SRV, 0, {{NP_OP_SUB, .subject = "a", .sid = "1"}}},
    {"PING\n", SRV, 0, {PING_OP}},
    {"PUB a 1\nx\r\n", SRV, 0, {{NP_OP_PUB, .subject = "a", .size = "1", .payload = "x"}}},
    {"CONNECT {}\n", SRV, 0, {{NP_OP_CONNECT, .arg = "{}"}}},
    {"SUB a\r1\r\r\n", SRV, 0, {{NP_OP_SUB, .subject = "a", .sid = "1"}}},
    /* pipelining, and an operation followed by a partial one */
    {"PING\r\nPONG\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nUNSUB 1\r\nHPUB a 12 14\r\n" HDR "hi\r\n+OK\r\n",
     SRV,
     0,
     {PING_OP,
      PONG_OP,
      {NP_OP_SUB, .subject = "a", .sid = "1"},
      {NP_OP_PUB, .subject = "a", .size = "2", .payload = "hi"},
      {NP_OP_UNSUB, .sid = "1", .max_msgs = -1},
      {NP_OP_HPUB, .subject = "a", .size = "14", .payload = HDR "hi", .hdr_len = 12},
      OK_OP}},
    {"PUB a 1\r\nx\r\nPUB b 1\r\ny\r\n",
     SRV,
     0,
     {{NP_OP_PUB, .subject = "a", .size = "1", .payload = "x"},
      {NP_OP_PUB, .subject = "b", .size = "1", .payload = "y"}}},
    {"PING\r\nPUB a 5\r\nhel", SRV, 0, {PING_OP}},
    {"PING\r\nSUB a", SRV, 0, {PING_OP}},
    {"PING\r\nPU", SRV, 0, {PING_OP}},
    {"PUB a 5\r\nhello\r", SRV, 0, {{0}}},
    /* a size too large swallows what follows, then the CRLF is missing */
    {"PUB foo 10\r\nhello\r\n", SRV, 0, {{0}}},
    {"PUB foo 10\r\nhello\r\nPING\r\n", SRV, NP_EPAYLOAD_END, {{0}}},

    /* every operation, client side */
    {"MSG foo 1 5\r\nhello\r\n",
     CLI,
     0,
     {{NP_OP_MSG, .subject = "foo", .sid = "1", .size = "5", .payload = "hello"}}},
    {"MSG foo 1 bar 5\r\nhello\r\n",
     CLI,
     0,
     {{NP_OP_MSG, .subject = "foo", .sid = "1", .reply = "bar", .size = "5", .payload = "hello"}}},
    {"msg a 9 0\r\n\r\n", CLI, 0, {{NP_OP_MSG, .subject = "a", .sid = "9", .size = "0"}}},
    {"HMSG foo 1 12 17\r\n" HDR "hello\r\n",
     CLI,
     0,
     {{NP_OP_HMSG, .subject = "foo", .sid = "1", .size = "17", .payload = HDR "hello",
       .hdr_len = 12}}},
    {"hmsg foo 1 bar 12 12\r\n" HDR "\r\n",
     CLI,
     0,
     {{NP_OP_HMSG, .subject = "foo", .sid = "1", .reply = "bar", .size = "12", .payload = HDR,
       .hdr_len = 12}}},
    {"INFO {\"a\":1} \r\nPING\r\nPONG\r\n+OK\r\n-ERR 'Authorization Violation'\r\n",
     CLI,
     0,
     {{NP_OP_INFO, .arg = "{\"a\":1}"},
      PING_OP,
      PONG_OP,
      OK_OP,
      {NP_OP_ERR, .arg = "'Authorization Violation'"}}},
    {"MSG a 1 1\r\nx\r\nMSG b 2 r 1\r\ny\r\n",
     CLI,
     0,
     {{NP_OP_MSG, .subject = "a", .sid = "1", .size = "1", .payload = "x"},
      {NP_OP_MSG, .subject = "b", .sid = "2", .reply = "r", .size = "1", .payload = "y"}}},

    /* unknown operations */
    {"FOO bar\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"MSG foo 1 2\r\nhi\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"HMSG foo 1 0 2\r\nhi\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"RS+ $G foo\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"\r\n", CLI, NP_EUNKNOWN_OP, {{0}}},
    {"PING\r\n\r\n", SRV, NP_EUNKNOWN_OP, {PING_OP}},
    {" PING\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"PUB\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"PUBX foo 1\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"PIN\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"PIX\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"PX\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"HX\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"SUB\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"UNSUB\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"UNSUBX 1\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"CONNEXT {}\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"INFX {}\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"+OX\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"-ERR\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"-ERX 'x'\r\n", SRV, NP_EUNKNOWN_OP, {{0}}},
    {"PUB a 1\r\nx\r\n", CLI, NP_EUNKNOWN_OP, {{0}}},
    {"HPUB a 0 0\r\n\r\n", CLI, NP_EUNKNOWN_OP, {{0}}},
    {"SUB a 1\r\n", CLI, NP_EUNKNOWN_OP, {{0}}},
    {"UNSUB 1\r\n", CLI, NP_EUNKNOWN_OP, {{0}}},
    {"CONNECT {}\r\n", CLI, NP_EUNKNOWN_OP, {{0}}},
    {"PING\r\nMSG a 1 1\r\nx\r\n", SRV, NP_EUNKNOWN_OP, {PING_OP}},
    /* bad sizes */
    {"PUB foo abc\r\n", SRV, NP_ESIZE, {{0}}},
    {"PUB foo -1\r\n", SRV, NP_ESIZE, {{0}}},
    {"PUB foo +1\r\n", SRV, NP_ESIZE, {{0}}},
    {"PUB foo 1x\r\n", SRV, NP_ESIZE, {{0}}},
    {"PUB foo 1234567890\r\n", SRV, NP_ESIZE, {{0}}},
    {"PUB foo 0000000000\r\n", SRV, NP_ESIZE, {{0}}},
    {"PUB foo bar baz\r\n", SRV, NP_ESIZE, {{0}}},
    {"HPUB foo x 5\r\n", SRV, NP_ESIZE, {{0}}},
    {"HPUB foo 5 x\r\n", SRV, NP_ESIZE, {{0}}},
    {"HPUB foo 1234567890 5\r\n", SRV, NP_ESIZE, {{0}}},
    {"MSG a 1 x\r\n", CLI, NP_ESIZE, {{0}}},
    {"HMSG a 1 x 5\r\n", CLI, NP_ESIZE, {{0}}},
    {"HMSG a 1 r 5 -5\r\n", CLI, NP_ESIZE, {{0}}},
    /* wrong argument counts */
    {"PUB foo\r\n", SRV, NP_EARGS, {{0}}},
    {"PUB \r\n", SRV, NP_EARGS, {{0}}},
    {"PUB \t \n", SRV, NP_EARGS, {{0}}},
    {"PUB a b c 1\r\n", SRV, NP_EARGS, {{0}}},
    {"PUB a b c d e f g h\r\n", SRV, NP_EARGS, {{0}}},
    {"HPUB a 1\r\n", SRV, NP_EARGS, {{0}}},
    {"HPUB a b c d e\r\n", SRV, NP_EARGS, {{0}}},
    {"SUB a\r\n", SRV, NP_EARGS, {{0}}},
    {"SUB a b c d\r\n", SRV, NP_EARGS, {{0}}},
    {"UNSUB \r\n", SRV, NP_EARGS, {{0}}},
    {"UNSUB 1 2 3\r\n", SRV, NP_EARGS, {{0}}},
    {"MSG a 1\r\n", CLI, NP_EARGS, {{0}}},
    {"MSG a 1 b c 5\r\n", CLI, NP_EARGS, {{0}}},
    {"HMSG a 1 2\r\n", CLI, NP_EARGS, {{0}}},
    {"HMSG a 1 b c 2 3\r\n", CLI, NP_EARGS, {{0}}},
    /* header size larger than the total */
    {"HPUB foo 10 5\r\n", SRV, NP_EHDR_SIZE, {{0}}},
    {"HPUB foo r 6 5\r\n", SRV, NP_EHDR_SIZE, {{0}}},
    {"HMSG a 1 5 2\r\n", CLI, NP_EHDR_SIZE, {{0}}},
    /* payload not followed by CRLF */
    {"PUB foo 2\r\nhello\r\n", SRV, NP_EPAYLOAD_END, {{0}}},
    {"PUB foo 5\r\nhello\n", SRV, NP_EPAYLOAD_END, {{0}}},
    {"PUB foo 5\r\nhelloX\r\n", SRV, NP_EPAYLOAD_END, {{0}}},
    {"PUB foo 5\r\nhello\rX", SRV, NP_EPAYLOAD_END, {{0}}},
    {"PUB foo 0\r\nX\r\n", SRV, NP_EPAYLOAD_END, {{0}}},
    {"HPUB a 12 12\r\n" HDR "X", SRV, NP_EPAYLOAD_END, {{0}}},
    {"MSG a 1 2\r\nhi\n", CLI, NP_EPAYLOAD_END, {{0}}},
    {"SUB a 1\r\nPUB a 1\r\nxy\r\n",
     SRV,
     NP_EPAYLOAD_END,
     {{NP_OP_SUB, .subject = "a", .sid = "1"}}},
    /* max_payload, checked on the (total) size before the payload */
    {"PUB a 10\r\n0123456789\r\n",
     {NP_MODE_SERVER, 4096, 10},
     0,
     {{NP_OP_PUB, .subject = "a", .size = "10", .payload = "0123456789"}}},
    {"PUB a 11\r\n", {NP_MODE_SERVER, 4096, 10}, NP_EPAYLOAD, {{0}}},
    {"PUB a 11\n01234567890\r\n", {NP_MODE_SERVER, 4096, 10}, NP_EPAYLOAD, {{0}}},
    {"HPUB a 5 10\r\n0123456789\r\n",
     {NP_MODE_SERVER, 4096, 10},
     0,
     {{NP_OP_HPUB, .subject = "a", .size = "10", .payload = "0123456789", .hdr_len = 5}}},
    {"HPUB a 5 11\r\n", {NP_MODE_SERVER, 4096, 10}, NP_EPAYLOAD, {{0}}},
    {"MSG a 1 11\r\n", {NP_MODE_CLIENT, 0, 10}, NP_EPAYLOAD, {{0}}},
    {"HMSG a 1 1 11\r\n", {NP_MODE_CLIENT, 0, 10}, NP_EPAYLOAD, {{0}}},
    {"PUB a 999999999\r\n", {NP_MODE_SERVER, 4096, 0}, 0, {{0}}},
    /* max_control_line counts argument bytes: not the verb, leading blanks or the CR */
    {"SUB abcd 12\r\n", {NP_MODE_SERVER, 8, 0}, 0, {{NP_OP_SUB, .subject = "abcd", .sid = "12"}}},
    {"SUB abcde 12\r\n", {NP_MODE_SERVER, 8, 0}, 0, {{NP_OP_SUB, .subject = "abcde", .sid = "12"}}},
    {"SUB \t  abcde 12\r\n",
     {NP_MODE_SERVER, 8, 0},
     0,
     {{NP_OP_SUB, .subject = "abcde", .sid = "12"}}},
    {"SUB abcde 12\n", {NP_MODE_SERVER, 8, 0}, 0, {{NP_OP_SUB, .subject = "abcde", .sid = "12"}}},
    {"SUB abcdef 12\r\n", {NP_MODE_SERVER, 8, 0}, NP_ECONTROL_LINE, {{0}}},
    {"SUB abcde 12 \r\n", {NP_MODE_SERVER, 8, 0}, NP_ECONTROL_LINE, {{0}}},
    {"SUB abcdefghi", {NP_MODE_SERVER, 8, 0}, NP_ECONTROL_LINE, {{0}}},
    {"SUB abcde 12\r", {NP_MODE_SERVER, 8, 0}, 0, {{0}}},
    {"CONNECT {\"a\":12}\r\n", {NP_MODE_SERVER, 8, 0}, 0, {{NP_OP_CONNECT, .arg = "{\"a\":12}"}}},
    {"CONNECT {\"a\":123}\r\n", {NP_MODE_SERVER, 8, 0}, NP_ECONTROL_LINE, {{0}}},
    {"PUB a 1\r\nxyzxyzxyzxyz\r\n", {NP_MODE_SERVER, 3, 0}, NP_EPAYLOAD_END, {{0}}},
    {"PUB a 12\r\nxyzxyzxyzxyz\r\n",
     {NP_MODE_SERVER, 4, 0},
     0,
     {{NP_OP_PUB, .subject = "a", .size = "12", .payload = "xyzxyzxyzxyz"}}},
    {"PINGXXXXXXXXXXXXXXXXXXXXXXXX\r\n", {NP_MODE_SERVER, 8, 0}, 0, {PING_OP}},
    {"-ERR 'abcdefghi'\r\n", {NP_MODE_CLIENT, 8, 0}, NP_ECONTROL_LINE, {{0}}},
};

#define NCASES (sizeof cases / sizeof cases[0])

static size_t
want_count(const struct pcase *c)
{
    size_t n = 0;
    while (n < MAXW && c->ops[n].type != NP_OP_NONE)
        n++;
    return n;
}

static size_t
case_len(const struct pcase *c)
{
    return strlen(c->in);
}

static const char *
case_ctx(char *ctx, size_t cap, size_t idx, const char *how, size_t a, size_t b)
{
    const struct pcase *c = &cases[idx];
    snprintf(ctx, cap, "case %zu \"%s\" (%s %zu %zu)", idx, show(c->in, case_len(c)), how, a, b);
    return ctx;
}

typedef void case_fn(size_t idx, const struct run *whole);

/* Checks every case's whole run against the table, then hands it to fn for the other feedings. */
static void
for_each_case(case_fn *fn)
{
    for (size_t i = 0; i < NCASES; i++) {
        const struct pcase *c = &cases[i];
        struct run whole;
        char ctx[256];
        feed_whole(&whole, &c->cfg, c->in, case_len(c));
        expect_ops(case_ctx(ctx, sizeof ctx, i, "whole", 0, 0), &whole, c->ops, want_count(c),
                   c->err);
        if (fn) fn(i, &whole);
        run_free(&whole);
    }
}

static void
by_bytes(size_t idx, const struct run *whole)
{
    const struct pcase *c = &cases[idx];
    struct run r;
    char ctx[256];
    feed_bytes(&r, &c->cfg, c->in, case_len(c));
    expect_same(case_ctx(ctx, sizeof ctx, idx, "bytes", 0, 0), &r, whole);
    run_free(&r);
}

static void
by_two(size_t idx, const struct run *whole)
{
    const struct pcase *c = &cases[idx];
    size_t len = case_len(c);
    for (size_t a = 1; a < len; a++) {
        size_t cuts[3] = {0, a, len};
        struct run r;
        char ctx[256];
        feed(&r, &c->cfg, c->in, cuts, 3, NULL);
        expect_same(case_ctx(ctx, sizeof ctx, idx, "split at", a, 0), &r, whole);
        run_free(&r);
    }
}

static void
by_three(size_t idx, const struct run *whole)
{
    const struct pcase *c = &cases[idx];
    size_t len = case_len(c);
    for (size_t a = 1; a + 1 < len; a++) {
        for (size_t b = a + 1; b < len; b++) {
            size_t cuts[4] = {0, a, b, len};
            struct run r;
            char ctx[256];
            feed(&r, &c->cfg, c->in, cuts, 4, NULL);
            expect_same(case_ctx(ctx, sizeof ctx, idx, "split at", a, b), &r, whole);
            run_free(&r);
        }
    }
}

/* Whole, and split in two, with every piece flush against a PROT_NONE page: an over-read faults. */
static void
by_guard(size_t idx, const struct run *whole)
{
    const struct pcase *c = &cases[idx];
    size_t len = case_len(c);
    struct guard g = guard_map();
    struct run r;
    char ctx[256];
    size_t cuts[3] = {0, len, len};
    feed(&r, &c->cfg, c->in, cuts, 2, &g);
    expect_same(case_ctx(ctx, sizeof ctx, idx, "guard", 0, 0), &r, whole);
    run_free(&r);
    for (size_t a = 1; a < len; a++) {
        cuts[1] = a;
        feed(&r, &c->cfg, c->in, cuts, 3, &g);
        expect_same(case_ctx(ctx, sizeof ctx, idx, "guard split at", a, 0), &r, whole);
        run_free(&r);
    }
    guard_unmap(&g);
}

static void
test_table_whole(void **state)
{
    (void)state;
    for_each_case(NULL);
}

static void
test_table_bytes(void **state)
{
    (void)state;
    for_each_case(by_bytes);
}

static void
test_table_split_two(void **state)
{
    (void)state;
    for_each_case(by_two);
}

static void
test_table_split_three(void **state)
{
    (void)state;
    for_each_case(by_three);
}

static void
test_table_guard_page(void **state)
{
    (void)state;
    for_each_case(by_guard);
}

/* ---- single-purpose tests -------------------------------------------------------------------- */

static char *
dup_heap(const char *s, size_t n)
{
    char *b = malloc(n ? n : 1);
    assert_non_null(b);
    memcpy(b, s, n);
    return b;
}

/* The buffer of the last operation parse_expect() returned: its views may point into it. */
static char *held;

static void
drop_held(void)
{
    free(held);
    held = NULL;
}

/*
 * Parses a heap copy of s expecting `consumed` bytes and an operation of `type`. The copy is freed
 * at once when no operation came back (the parser must have kept what it needs), else at the next
 * call, as the views then die anyway.
 */
static void
parse_expect(struct np_parser *p, const char *s, ssize_t consumed, enum np_op_type type,
             struct np_op *op)
{
    size_t n = strlen(s);
    char *b = dup_heap(s, n);
    ssize_t c = np_parse(p, b, n, op);
    drop_held();
    if (op->type == NP_OP_NONE)
        free(b);
    else
        held = b;
    assert_int_equal(c, consumed);
    assert_int_equal(op->type, type);
}

static void
test_zero_copy(void **state)
{
    (void)state;
    static const char in[] = "SUB a q 1\r\nPUB a r 5\r\nhello\r\nHPUB b 12 14\r\n" HDR
                             "hi\r\nCONNECT {}\r\nUNSUB 1 3\r\nPING\r\n";
    size_t n = sizeof in - 1, off = 0;
    enum np_op_type types[] = {NP_OP_SUB,     NP_OP_PUB,   NP_OP_HPUB,
                               NP_OP_CONNECT, NP_OP_UNSUB, NP_OP_PING};
    struct np_parser p;
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    for (size_t i = 0; i < 6; i++) {
        struct np_op op;
        ssize_t c = np_parse(&p, in + off, n - off, &op);
        assert_true(c > 0);
        assert_int_equal(op.type, types[i]);
        for (int k = 0; k < F_COUNT; k++) {
            const struct np_str *v = op_field(&op, k);
            if (v->len) assert_true(within(v->ptr, v->len, in + off, (size_t)c));
        }
        if (op.type == NP_OP_PUB) {
            assert_ptr_equal(op.subject.ptr, strstr(in, "a r 5"));
            assert_ptr_equal(op.payload.ptr, strstr(in, "hello"));
        }
        off += (size_t)c;
    }
    assert_int_equal(off, n);
    assert_null(p.scratch);
    assert_null(p.msgbuf);
    np_parser_release(&p);
}

static void
test_consumed_counts(void **state)
{
    (void)state;
    struct np_parser p;
    struct np_op op;
    const char *in = "PING\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nPU";
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, in, strlen(in), &op), 6);
    assert_int_equal(op.type, NP_OP_PING);
    assert_int_equal(np_parse(&p, in + 6, strlen(in) - 6, &op), 9);
    assert_int_equal(op.type, NP_OP_SUB);
    assert_int_equal(np_parse(&p, in + 15, strlen(in) - 15, &op), 13);
    assert_int_equal(op.type, NP_OP_PUB);
    assert_int_equal(np_parse(&p, in + 28, strlen(in) - 28, &op), 2);
    assert_int_equal(op.type, NP_OP_NONE);
    parse_expect(&p, "B a 1\r\nx\r\nPING\r\n", 10, NP_OP_PUB, &op);
    assert_true(np_str_eq(op.subject, "a"));
    assert_true(np_str_eq(op.payload, "x"));
    drop_held();
    np_parser_release(&p);
}

/* A message cut by the end of a read moves into the parser's buffers; the read buffer is freed. */
static void
test_split_moves_views(void **state)
{
    (void)state;
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    parse_expect(&p, "PUB subj rep 10\r\n01234", 22, NP_OP_NONE, &op);
    parse_expect(&p, "56789\r\nPING\r\n", 7, NP_OP_PUB, &op);
    assert_true(np_str_eq(op.subject, "subj"));
    assert_true(np_str_eq(op.reply, "rep"));
    assert_true(np_str_eq(op.size, "10"));
    assert_true(np_str_eq(op.payload, "0123456789"));
    assert_true(within(op.subject.ptr, 4, p.scratch, p.scratch_len));
    assert_ptr_equal(op.payload.ptr, p.msgbuf);
    assert_int_equal(p.msgbuf_cap, 12);

    /* the payload is complete but its CRLF is not: the payload still has to move */
    parse_expect(&p, "PUB a 3\r\nabc", 12, NP_OP_NONE, &op);
    parse_expect(&p, "\r", 1, NP_OP_NONE, &op);
    parse_expect(&p, "\n", 1, NP_OP_PUB, &op);
    assert_true(np_str_eq(op.payload, "abc"));
    assert_ptr_equal(op.payload.ptr, p.msgbuf);

    /* only the line was cut: the payload is read in place */
    static const char second[] = " 3\r\nabc\r\n";
    parse_expect(&p, "PUB a", 5, NP_OP_NONE, &op);
    assert_int_equal(np_parse(&p, second, sizeof second - 1, &op), 9);
    assert_int_equal(op.type, NP_OP_PUB);
    assert_true(np_str_eq(op.subject, "a"));
    assert_ptr_equal(op.subject.ptr, p.scratch);
    assert_ptr_equal(op.payload.ptr, second + 4);
    assert_int_equal(p.msgbuf_cap, 12);
    drop_held();
    np_parser_release(&p);
}

static void
test_empty_calls(void **state)
{
    (void)state;
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_CLIENT, 0, 0);
    assert_int_equal(np_parse(&p, NULL, 0, &op), 0);
    assert_int_equal(op.type, NP_OP_NONE);
    parse_expect(&p, "MSG a 1 2\r\nh", 12, NP_OP_NONE, &op);
    assert_int_equal(np_parse(&p, NULL, 0, &op), 0);
    assert_int_equal(op.type, NP_OP_NONE);
    parse_expect(&p, "i", 1, NP_OP_NONE, &op);
    assert_int_equal(np_parse(&p, "", 0, &op), 0);
    assert_int_equal(op.type, NP_OP_NONE);
    parse_expect(&p, "\r\n", 2, NP_OP_MSG, &op);
    assert_true(np_str_eq(op.subject, "a"));
    assert_true(np_str_eq(op.sid, "1"));
    assert_true(np_str_eq(op.payload, "hi"));
    /* empty reads while the payload waits for its CRLF */
    parse_expect(&p, "MSG b 2 3\r\nabc", 14, NP_OP_NONE, &op);
    assert_int_equal(np_parse(&p, NULL, 0, &op), 0);
    parse_expect(&p, "\r", 1, NP_OP_NONE, &op);
    assert_int_equal(np_parse(&p, NULL, 0, &op), 0);
    assert_int_equal(op.type, NP_OP_NONE);
    parse_expect(&p, "\n", 1, NP_OP_MSG, &op);
    assert_true(np_str_eq(op.subject, "b"));
    assert_true(np_str_eq(op.payload, "abc"));
    assert_int_equal(np_parse(NULL, "x", 1, &op), NP_EINVAL);
    assert_int_equal(np_parse(&p, "x", 1, NULL), NP_EINVAL);
    assert_int_equal(np_parse(&p, NULL, 1, &op), NP_EINVAL);
    drop_held();
    np_parser_release(&p);
}

static void
test_dead_parser(void **state)
{
    (void)state;
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    parse_expect(&p, "PUB a 10\r\nabc", 13, NP_OP_NONE, &op);
    assert_int_equal(np_parse(&p, "defghijklm!", 11, &op), NP_EPAYLOAD_END);
    assert_int_equal(op.type, NP_OP_NONE);
    assert_int_equal(np_parse(&p, "PING\r\n", 6, &op), NP_EPAYLOAD_END);
    drop_held();
    np_parser_release(&p);
    assert_null(p.scratch);
    assert_null(p.msgbuf);
    drop_held();
    np_parser_release(&p);
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    parse_expect(&p, "PING\r\n", 6, NP_OP_PING, &op);
    drop_held();
    np_parser_release(&p);
}

/* NUL bytes: an error inside a verb, arbitrary data inside a payload. */
static void
test_nul_bytes(void **state)
{
    (void)state;
    static const char verb[] = "P\0NG\r\n";
    static const char msg[] = "PUB a 3\r\na\0b\r\nSUB \0 1\r\n";
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, verb, sizeof verb - 1, &op), NP_EUNKNOWN_OP);
    np_parser_release(&p);
    struct cfg srv = SRV;
    struct run whole, r;
    feed_whole(&whole, &srv, msg, sizeof msg - 1);
    assert_int_equal(whole.err, 0);
    assert_int_equal(whole.nops, 2);
    assert_int_equal(whole.ops[0].flen[F_PAYLOAD], 3);
    assert_memory_equal(whole.ops[0].f[F_PAYLOAD], "a\0b", 3);
    assert_int_equal(whole.ops[1].flen[F_SUBJECT], 1);
    assert_int_equal(whole.ops[1].f[F_SUBJECT][0], '\0');
    feed_bytes(&r, &srv, msg, sizeof msg - 1);
    expect_same("nul bytes", &r, &whole);
    run_free(&r);
    run_free(&whole);
}

static char *
repeat_line(const char *head, char fill, size_t n, const char *tail, size_t *len)
{
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(h + n + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    memset(s + h, fill, n);
    memcpy(s + h + n, tail, t + 1);
    *len = h + n + t;
    return s;
}

/* Whole, a byte at a time and split at every offset: all must end with err after nops ops. */
static void
expect_all_feeds(const struct cfg *cfg, const char *in, size_t len, int err, size_t nops)
{
    struct run whole, r;
    feed_whole(&whole, cfg, in, len);
    assert_int_equal(whole.err, err);
    assert_int_equal(whole.nops, nops);
    feed_bytes(&r, cfg, in, len);
    expect_same("bytes", &r, &whole);
    run_free(&r);
    for (size_t a = 1; a < len; a++) {
        size_t cuts[3] = {0, a, len};
        feed(&r, cfg, in, cuts, 3, NULL);
        expect_same("split", &r, &whole);
        run_free(&r);
    }
    run_free(&whole);
}

static void
test_control_line_complete(void **state)
{
    (void)state;
    size_t len;
    char *in = repeat_line("SUB ", 'a', 5000, " 1\r\n", &len);
    struct cfg lim = {NP_MODE_SERVER, 4096, NP_MAX_PAYLOAD};
    struct cfg nolim = {NP_MODE_SERVER, 0, NP_MAX_PAYLOAD};
    expect_all_feeds(&lim, in, len, NP_ECONTROL_LINE, 0);
    struct run r;
    feed_bytes(&r, &nolim, in, len);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.nops, 1);
    assert_int_equal(r.ops[0].flen[F_SUBJECT], 5000);
    assert_string_equal(r.ops[0].f[F_SID], "1");
    run_free(&r);
    free(in);
}

/* A line with no LF yet fails as soon as more than the limit has arrived, before it is buffered. */
static void
test_control_line_partial(void **state)
{
    (void)state;
    size_t len;
    char *in = repeat_line("SUB ", 'a', 4996, "", &len);
    assert_int_equal(len, 5000);
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, 4096, NP_MAX_PAYLOAD);
    for (size_t k = 1; k <= 50; k++) {
        char *b = dup_heap(in + (k - 1) * 100, 100);
        ssize_t c = np_parse(&p, b, 100, &op);
        free(b);
        assert_true(p.scratch_len <= 4096);
        if (k < 42) { /* 100k - 4 argument bytes so far: 4096 after 41 pieces, 4196 after 42 */
            assert_int_equal(c, 100);
            assert_int_equal(op.type, NP_OP_NONE);
            continue;
        }
        assert_int_equal(c, NP_ECONTROL_LINE);
        assert_int_equal(k, 42);
        break;
    }
    np_parser_release(&p);

    np_parser_init(&p, NP_MODE_SERVER, 4096, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, in, len, &op), NP_ECONTROL_LINE);
    assert_null(p.scratch);
    np_parser_release(&p);
    free(in);
}

static void
test_control_line_boundary(void **state)
{
    (void)state;
    struct cfg lim = {NP_MODE_SERVER, 4096, NP_MAX_PAYLOAD};
    size_t len;
    char *ok = repeat_line("SUB ", 'a', 4094, " 1\r\n", &len); /* 4096 argument bytes */
    expect_all_feeds(&lim, ok, len, 0, 1);
    char *bad = repeat_line("SUB ", 'a', 4095, " 1\r\n", &len); /* 4097 */
    expect_all_feeds(&lim, bad, len, NP_ECONTROL_LINE, 0);
    char *json = repeat_line("CONNECT {\"", 'x', 4092, "\"}\r\n", &len);
    expect_all_feeds(&lim, json, len, 0, 1);
    free(json);
    json = repeat_line("CONNECT {\"", 'x', 4093, "\"}\r\n", &len);
    expect_all_feeds(&lim, json, len, NP_ECONTROL_LINE, 0);

    /* at a read boundary a final CR is not counted, whatever comes next */
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, 4096, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, ok, 4100 + 1, &op), 4101);
    assert_int_equal(op.type, NP_OP_NONE);
    parse_expect(&p, "\n", 1, NP_OP_SUB, &op);
    assert_int_equal(op.subject.len, 4094);
    drop_held();
    np_parser_release(&p);
    np_parser_init(&p, NP_MODE_SERVER, 4096, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, ok, 4100, &op), 4100);
    assert_int_equal(np_parse(&p, "x", 1, &op), NP_ECONTROL_LINE);
    drop_held();
    np_parser_release(&p);
    free(ok);
    free(bad);
    free(json);
}

static void
test_control_line_unlimited(void **state)
{
    (void)state;
    size_t len;
    char *in = repeat_line("CONNECT ", 'j', 100000, "\r\n", &len);
    struct cfg nolim = {NP_MODE_SERVER, 0, 0};
    struct run r;
    feed_bytes(&r, &nolim, in, len);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.nops, 1);
    assert_int_equal(r.ops[0].type, NP_OP_CONNECT);
    assert_int_equal(r.ops[0].flen[F_ARG], 100000);
    assert_int_equal(r.ops[0].end, len);
    run_free(&r);
    free(in);
}

static void
test_max_payload(void **state)
{
    (void)state;
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    parse_expect(&p, "PUB a 1048576\r\n", 15, NP_OP_NONE, &op);
    drop_held();
    np_parser_release(&p);
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, "PUB a 1048577\r\n", 15, &op), NP_EPAYLOAD);
    assert_null(p.msgbuf);
    drop_held();
    np_parser_release(&p);
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    assert_int_equal(np_parse(&p, "HPUB a 10 1048577\r\n", 19, &op), NP_EPAYLOAD);
    drop_held();
    np_parser_release(&p);

    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    np_parser_set_max_payload(&p, 3);
    parse_expect(&p, "PUB a 3\r\nabc\r\n", 14, NP_OP_PUB, &op);
    np_parser_set_max_payload(&p, 0);
    parse_expect(&p, "PUB a 999999999\r\n", 17, NP_OP_NONE, &op);
    drop_held();
    np_parser_release(&p);
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    np_parser_set_max_payload(&p, 3);
    assert_int_equal(np_parse(&p, "PUB a 4\r\n", 9, &op), NP_EPAYLOAD);
    drop_held();
    np_parser_release(&p);

    np_parser_init(&p, NP_MODE_CLIENT, 0, 0);
    parse_expect(&p, "MSG a 1 999999999\r\n", 19, NP_OP_NONE, &op);
    drop_held();
    np_parser_release(&p);
}

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Feeds in[0..len) in random pieces of 1..max bytes, each a heap copy freed after parsing. */
static void
feed_random(struct run *r, const struct cfg *cfg, const char *in, size_t len, uint64_t seed,
            size_t max)
{
    size_t cap = 16, n = 1;
    size_t *cuts = malloc(cap * sizeof *cuts);
    assert_non_null(cuts);
    cuts[0] = 0;
    while (cuts[n - 1] < len) {
        if (n == cap) {
            cap *= 2;
            cuts = realloc(cuts, cap * sizeof *cuts);
            assert_non_null(cuts);
        }
        size_t step = 1 + (size_t)(rnd(&seed) % max);
        cuts[n] = cuts[n - 1] + step < len ? cuts[n - 1] + step : len;
        n++;
    }
    feed(r, cfg, in, cuts, n, NULL);
    free(cuts);
}

static char *
big_message(const char *line, size_t size, size_t *len)
{
    size_t l = strlen(line);
    char *s = malloc(l + size + 2);
    assert_non_null(s);
    memcpy(s, line, l);
    for (size_t i = 0; i < size; i++)
        s[l + i] = (char)(i * 31 % 251);
    memcpy(s + l + size, "\r\n", 2);
    *len = l + size + 2;
    return s;
}

static void
test_large_payload(void **state)
{
    (void)state;
    const size_t size = 1024 * 1024;
    size_t len;
    char *in = big_message("PUB big.subject _INBOX.x 1048576\r\n", size, &len);
    struct cfg srv = SRV;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct run r;
        feed_random(&r, &srv, in, len, seed * 0x9E3779B97F4A7C15u, seed * 4096);
        assert_int_equal(r.err, 0);
        assert_int_equal(r.nops, 1);
        assert_string_equal(r.ops[0].f[F_SUBJECT], "big.subject");
        assert_string_equal(r.ops[0].f[F_REPLY], "_INBOX.x");
        assert_string_equal(r.ops[0].f[F_SIZE], "1048576");
        assert_int_equal(r.ops[0].flen[F_PAYLOAD], size);
        assert_memory_equal(r.ops[0].f[F_PAYLOAD], in + 34, size);
        assert_int_equal(r.ops[0].end, len);
        run_free(&r);
    }

    /* msgbuf is sized once (size + 2) and reused by the next split message */
    struct np_parser p;
    struct np_op op;
    np_parser_init(&p, NP_MODE_SERVER, NP_MAX_CONTROL_LINE, NP_MAX_PAYLOAD);
    for (int round = 0; round < 3; round++) {
        size_t off = 0;
        const char *seen = NULL;
        while (off < len) {
            size_t n = len - off < 65536 ? len - off : 65536;
            ssize_t c = np_parse(&p, in + off, n, &op);
            assert_int_equal(c, (ssize_t)n);
            off += n;
            if (round > 0 && !seen) seen = p.msgbuf;
        }
        assert_int_equal(op.type, NP_OP_PUB);
        assert_ptr_equal(op.payload.ptr, p.msgbuf);
        assert_memory_equal(op.payload.ptr, in + 34, size);
        assert_int_equal(p.msgbuf_cap, size + 2);
        if (round > 0) assert_ptr_equal(seen, p.msgbuf);
    }
    np_parser_release(&p);
    free(in);

    in = big_message("HMSG big 7 reply 12 1048576\r\n" HDR, size - 12, &len);
    struct cfg cli = CLI;
    struct run r;
    feed_random(&r, &cli, in, len, 77, 1500);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.nops, 1);
    assert_int_equal(r.ops[0].type, NP_OP_HMSG);
    assert_string_equal(r.ops[0].f[F_SID], "7");
    assert_int_equal(r.ops[0].hdr_len, 12);
    assert_int_equal(r.ops[0].flen[F_PAYLOAD], size);
    assert_memory_equal(r.ops[0].f[F_PAYLOAD], in + 29, size);
    run_free(&r);
    free(in);
}

/* A long mixed pipeline cut at random places must give what the whole buffer gives. */
static void
test_random_splits(void **state)
{
    (void)state;
    static const char *const ops[] = {
        "PUB a.b 5\r\nhello\r\n",
        "PUB a.b reply.to 0\r\n\r\n",
        "HPUB h r 12 17\r\n" HDR "hello\r\n",
        "SUB a.* q 12\r\n",
        "UNSUB 12 3\r\n",
        "PING\r\n",
        "pong\n",
        "CONNECT {\"verbose\":false,\"name\":\"x y\"}\r\n",
        "PUB x 12\r\n\r\n\r\nabcdefgh\r\n",
    };
    size_t cap = 200 * 64, len = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    uint64_t seed = 42;
    for (int i = 0; i < 200; i++) {
        const char *o = ops[rnd(&seed) % (sizeof ops / sizeof ops[0])];
        memcpy(in + len, o, strlen(o));
        len += strlen(o);
    }
    struct cfg srv = SRV;
    struct run whole, r;
    feed_whole(&whole, &srv, in, len);
    assert_int_equal(whole.err, 0);
    assert_int_equal(whole.nops, 200);
    assert_int_equal(whole.ops[199].end, len);
    for (uint64_t k = 1; k <= 300; k++) {
        feed_random(&r, &srv, in, len, k * 0x2545F4914F6CDD1Du, 1 + k % 97);
        expect_same("random pieces", &r, &whole);
        run_free(&r);
    }
    run_free(&whole);
    free(in);
}

static void
test_error_strings(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name, *text;
    } want[] = {
        {NP_EUNKNOWN_OP, "NP_EUNKNOWN_OP", "unknown protocol operation"},
        {NP_ECONTROL_LINE, "NP_ECONTROL_LINE", "maximum control line exceeded"},
        {NP_EPAYLOAD, "NP_EPAYLOAD", "maximum payload exceeded"},
        {NP_EARGS, "NP_EARGS", "wrong number of arguments"},
        {NP_ESIZE, "NP_ESIZE", "bad or missing size"},
        {NP_EHDR_SIZE, "NP_EHDR_SIZE", "header size larger than total size"},
        {NP_EPAYLOAD_END, "NP_EPAYLOAD_END", "payload not followed by CRLF"},
        {NP_ESUBJECT, "NP_ESUBJECT", "invalid subject"},
        {NP_EHEADER, "NP_EHEADER", "malformed header block"},
        {NP_EJSON, "NP_EJSON", "malformed JSON"},
        {NP_ENOSPACE, "NP_ENOSPACE", "buffer too small"},
        {NP_ENOMEM, "NP_ENOMEM", "out of memory"},
        {NP_EINVAL, "NP_EINVAL", "invalid argument"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_true(want[i].code < 0);
        assert_string_equal(np_errname(want[i].code), want[i].name);
        assert_string_equal(np_strerror(want[i].code), want[i].text);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(want[i].code, want[j].code);
    }
    assert_string_equal(np_strerror(0), "success");
    assert_string_equal(np_errname(0), "NP_OK");
    assert_string_equal(np_strerror(1), "unknown error");
    assert_string_equal(np_strerror(-1), "unknown error");
    assert_string_equal(np_strerror(NP__ERR_END), "unknown error");
    assert_string_equal(np_strerror(NP_EUNKNOWN_OP - 1), "unknown error");
    assert_string_equal(np_errname(-1), "NP_E?");
}

static void
test_str_eq(void **state)
{
    (void)state;
    assert_true(np_str_eq(NP_STR_LIT("foo"), "foo"));
    assert_false(np_str_eq(NP_STR_LIT("foo"), "fo"));
    assert_false(np_str_eq(NP_STR_LIT("fo"), "foo"));
    assert_false(np_str_eq(NP_STR_LIT("foo"), "fox"));
    assert_true(np_str_eq((struct np_str){NULL, 0}, ""));
    assert_false(np_str_eq((struct np_str){NULL, 0}, "a"));
    assert_false(np_str_eq(NP_STR_LIT("a\0b"), "a"));
    assert_true(np_str_eq((struct np_str){"foobar", 3}, "foo"));
    assert_false(np_str_eq((struct np_str){"foobar", 3}, "foobar"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_whole),
        cmocka_unit_test(test_table_bytes),
        cmocka_unit_test(test_table_split_two),
        cmocka_unit_test(test_table_split_three),
        cmocka_unit_test(test_table_guard_page),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_consumed_counts),
        cmocka_unit_test(test_split_moves_views),
        cmocka_unit_test(test_empty_calls),
        cmocka_unit_test(test_dead_parser),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_control_line_complete),
        cmocka_unit_test(test_control_line_partial),
        cmocka_unit_test(test_control_line_boundary),
        cmocka_unit_test(test_control_line_unlimited),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_large_payload),
        cmocka_unit_test(test_random_splits),
        cmocka_unit_test(test_error_strings),
        cmocka_unit_test(test_str_eq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
