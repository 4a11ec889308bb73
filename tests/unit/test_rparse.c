/*
 * Tests of the route parser (libproto/np_rparse.c), the RS+/RS- encoders and the route JSON.
 *
 * Every case is parsed whole, one byte at a time and split in two at every offset, each piece a
 * heap copy freed right after its call (a view left in an earlier piece is a use-after-free under
 * ASan). Every feeding must give the operations of the table, ending at the same offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np.h"
#include "np_route.h"

enum { F_ARG, F_ORIGIN, F_ACCOUNT, F_SUBJECT, F_REPLY, F_QUEUE, F_QUEUES, F_SIZE, F_PAYLOAD, F_N };

static const char *const field_name[F_N] = {"arg",   "origin", "account", "subject", "reply",
                                            "queue", "queues", "size",    "payload"};

static const struct np_str *
field(const struct np_rop *op, int k)
{
    const struct np_str *f[F_N] = {&op->arg,   &op->origin, &op->account, &op->subject, &op->reply,
                                   &op->queue, &op->queues, &op->size,    &op->payload};
    return f[k];
}

/* One operation as text: "TYPE field=value ... hdr=N w=N @end", compared as a whole. */
static void
describe(char *out, size_t cap, const struct np_rop *op, size_t end)
{
    size_t n = (size_t)snprintf(out, cap, "%d", (int)op->type);
    for (int k = 0; k < F_N; k++) {
        const struct np_str *v = field(op, k);
        if (v->len && n < cap)
            n += (size_t)snprintf(out + n, cap - n, " %s=%.*s", field_name[k], (int)v->len, v->ptr);
    }
    if (n < cap) snprintf(out + n, cap - n, " hdr=%zu w=%u @%zu", op->hdr_len, op->weight, end);
}

struct run {
    char ops[16][512];
    size_t n;
    int err;
};

static int
feed_piece(struct np_rparser *p, struct run *r, const char *buf, size_t len, size_t base)
{
    size_t off = 0;
    do {
        struct np_rop op;
        ssize_t c = np_rparse(p, buf + off, len - off, &op);
        if (c < 0) {
            assert_int_equal(op.type, NP_ROP_NONE);
            return (int)c;
        }
        assert_true((size_t)c <= len - off);
        off += (size_t)c;
        if (op.type == NP_ROP_NONE) {
            assert_int_equal(off, len);
            continue;
        }
        assert_true(r->n < 16);
        describe(r->ops[r->n++], sizeof r->ops[0], &op, base + off);
    } while (off < len);
    return 0;
}

/* Feeds in[cuts[i]..cuts[i+1]) as separate heap copies. */
static void
feed(struct run *r, const char *in, const size_t *cuts, size_t ncuts)
{
    struct np_rparser p;
    np_rparser_init(&p, 256, 64);
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i + 1 < ncuts && r->err == 0; i++) {
        size_t n = cuts[i + 1] - cuts[i];
        char *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, in + cuts[i], n);
        r->err = feed_piece(&p, r, buf, n, cuts[i]);
        free(buf);
    }
    if (r->err) {
        struct np_rop op;
        assert_int_equal(np_rparse(&p, "PING\r\n", 6, &op), r->err);
    }
    np_rparser_release(&p);
}

static void
expect_same(const char *ctx, const struct run *a, const struct run *b)
{
    if (a->err != b->err)
        fail_msg("%s: error %s, whole run gave %s", ctx, np_errname(a->err), np_errname(b->err));
    if (a->n != b->n) fail_msg("%s: %zu operations, whole run gave %zu", ctx, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->ops[i], b->ops[i]) != 0)
            fail_msg("%s: op %zu is '%s', whole run gave '%s'", ctx, i, a->ops[i], b->ops[i]);
}

struct rcase {
    const char *in;
    int err;
    const char *ops[6]; /* describe() of each operation */
};

static const struct rcase cases[] = {
    {"INFO {\"server_id\":\"A\"} \r\n", 0, {"1 arg={\"server_id\":\"A\"} hdr=0 w=0 @25"}},
    {"CONNECT {}\r\nPING\r\nPONG\r\n+OK\r\n",
     0,
     {"2 arg={} hdr=0 w=0 @12", "3 hdr=0 w=0 @18", "4 hdr=0 w=0 @24", "5 hdr=0 w=0 @29"}},
    {"-ERR 'Rejecting connection'\r\n", 0, {"6 arg='Rejecting connection' hdr=0 w=0 @29"}},
    {"RS+ $G foo\r\n", 0, {"7 arg=$G foo account=$G subject=foo hdr=0 w=0 @12"}},
    {"rs+ $G q g1 3\r\n", 0, {"7 arg=$G q g1 3 account=$G subject=q queue=g1 hdr=0 w=3 @15"}},
    {"RS-\t$G  foo.>\r\nRS- $G q g1\r\n",
     0,
     {"8 arg=$G  foo.> account=$G subject=foo.> hdr=0 w=0 @15",
      "8 arg=$G q g1 account=$G subject=q queue=g1 hdr=0 w=0 @28"}},
    {"RMSG $G foo 2\r\nhi\r\n",
     0,
     {"9 arg=$G foo 2 account=$G subject=foo size=2 payload=hi hdr=0 w=0 @19"}},
    {"RMSG $G foo rep 2\r\nhi\r\n",
     0,
     {"9 arg=$G foo rep 2 account=$G subject=foo reply=rep size=2 payload=hi hdr=0 w=0 @23"}},
    {"RMSG $G q + r.0 g1 1\r\n0\r\n",
     0,
     {"9 arg=$G q + r.0 g1 1 account=$G subject=q reply=r.0 queues=g1 size=1 payload=0 hdr=0 "
      "w=0 @25"}},
    {"RMSG $G q | g1  g2 1\r\nX\r\n",
     0,
     {"9 arg=$G q | g1  g2 1 account=$G subject=q queues=g1  g2 size=1 payload=X hdr=0 w=0 @25"}},
    {"RMSG $G q + r a b c d e f 0\r\n\r\n",
     0,
     {"9 arg=$G q + r a b c d e f 0 account=$G subject=q reply=r queues=a b c d e f size=0 hdr=0 "
      "w=0 @31"}},
    {"HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
     0,
     {"10 arg=$G foo 12 14 account=$G subject=foo size=14 payload=NATS/1.0\r\n\r\nhi hdr=12 w=0 "
      "@35"}},
    {"HMSG $G q + r g1 g2 12 13\r\nNATS/1.0\r\n\r\nz\r\n",
     0,
     {"10 arg=$G q + r g1 g2 12 13 account=$G subject=q reply=r queues=g1 g2 size=13 "
      "payload=NATS/1.0\r\n\r\nz hdr=12 w=0 @42"}},
    {"LS+ c1 $G foo\r\nLMSG c1 $G foo 0 1\r\nx\r\nA+ $G\r\n",
     0,
     {"11 arg=c1 $G foo hdr=0 w=0 @15",
      "13 arg=c1 $G foo 0 1 origin=c1 account=$G subject=foo size=1 payload=x hdr=0 w=0 @38",
      "14 arg=$G hdr=0 w=0 @45"}},
    /* errors */
    {"RS+ $G\r\n", NP_EARGS, {NULL}},
    {"RS+ $G q g1\r\n", NP_EARGS, {NULL}},
    {"RS+ $G q g1 x\r\n", NP_ESIZE, {NULL}},
    {"RS- $G q g1 1\r\n", NP_EARGS, {NULL}},
    {"RMSG $G foo\r\n", NP_EARGS, {NULL}},
    {"RMSG $G foo x r q 1\r\n", NP_EARGS, {NULL}},
    {"HMSG $G foo 5 2\r\n", NP_EHDR_SIZE, {NULL}},
    {"RMSG $G foo 65\r\n", NP_EPAYLOAD, {NULL}},
    {"RMSG $G foo 2\r\nhiX\r\n", NP_EPAYLOAD_END, {NULL}},
    {"PUB foo 2\r\n", NP_EUNKNOWN_OP, {NULL}},
    {"RS+$G foo\r\n", NP_EUNKNOWN_OP, {NULL}},
    {"RMSG $G foo 1\r\nx\r\nMSG foo 1 1\r\n",
     NP_EUNKNOWN_OP,
     {"9 arg=$G foo 1 account=$G subject=foo size=1 payload=x hdr=0 w=0 @18"}},
};

static void
check_case(const struct rcase *c)
{
    size_t len = strlen(c->in);
    struct run whole, pieces;
    size_t cuts[2] = {0, len};
    feed(&whole, c->in, cuts, 2);
    if (whole.err != c->err)
        fail_msg("'%s': error %s, want %s", c->in, np_errname(whole.err), np_errname(c->err));
    size_t nwant = 0;
    while (nwant < 6 && c->ops[nwant])
        nwant++;
    if (whole.n != nwant) fail_msg("'%s': %zu operations, want %zu", c->in, whole.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        if (strcmp(whole.ops[i], c->ops[i]) != 0)
            fail_msg("'%s': op %zu is '%s', want '%s'", c->in, i, whole.ops[i], c->ops[i]);
    size_t *bytes = malloc((len + 1) * sizeof *bytes);
    assert_non_null(bytes);
    for (size_t i = 0; i <= len; i++)
        bytes[i] = i;
    feed(&pieces, c->in, bytes, len + 1);
    expect_same("byte at a time", &pieces, &whole);
    free(bytes);
    for (size_t at = 1; at < len; at++) {
        size_t split[3] = {0, at, len};
        feed(&pieces, c->in, split, 3);
        expect_same("split", &pieces, &whole);
    }
}

static void
test_rparse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

/* The control-line limit holds before the line's end has arrived. */
static void
test_rparse_line_limit(void **state)
{
    (void)state;
    struct np_rparser p;
    struct np_rop op;
    np_rparser_init(&p, 8, 0);
    assert_int_equal(np_rparse(&p, "RS+ $G 0123456789", 17, &op), NP_ECONTROL_LINE);
    np_rparser_release(&p);
}

static void
test_rparse_queues(void **state)
{
    (void)state;
    struct np_rop op = {.queues = NP_STR_LIT(" g1\t g2 g3 ")};
    size_t pos = 0;
    struct np_str q;
    const char *want[] = {"g1", "g2", "g3"};
    for (size_t i = 0; i < 3; i++) {
        assert_true(np_rop_next_queue(&op, &pos, &q));
        assert_true(np_str_eq(q, want[i]));
    }
    assert_false(np_rop_next_queue(&op, &pos, &q));
}

static void
test_enc_interest(void **state)
{
    (void)state;
    char buf[64];
    struct np_rsub_line l = {NP_STR_LIT("$G"), NP_STR_LIT("foo"), {0}, 0};
    size_t n = np_enc_rsub(buf, sizeof buf, &l);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, "RS+ $G foo\r\n", n);
    l.queue = NP_STR_LIT("g1");
    l.weight = 12;
    n = np_enc_rsub(buf, sizeof buf, &l);
    assert_memory_equal(buf, "RS+ $G foo g1 12\r\n", n);
    n = np_enc_runsub(buf, sizeof buf, &l);
    assert_memory_equal(buf, "RS- $G foo g1\r\n", n);
    assert_int_equal(np_enc_runsub(NULL, 0, &l), 15);
}

/* The forwarded INFO loses its nonce and gains the ip, unless the peer advertised its own. */
static void
test_info_gossip(void **state)
{
    (void)state;
    const char *in = "{\"server_id\":\"C\",\"port\":6224,\"nonce\":\"abc\",\"cluster\":\"c1\"}";
    char *out = np_info_gossip(in, strlen(in), "nats-route://127.0.0.1:6224/");
    assert_non_null(out);
    assert_string_equal(out, "{\"server_id\":\"C\",\"port\":6224,\"cluster\":\"c1\","
                             "\"ip\":\"nats-route://127.0.0.1:6224/\"}");
    free(out);
    const char *adv = "{\"server_id\":\"C\",\"ip\":\"nats-route://10.0.0.1:7/\"}";
    out = np_info_gossip(adv, strlen(adv), "nats-route://127.0.0.1:6224/");
    assert_string_equal(out, adv);
    free(out);
    assert_null(np_info_gossip("[1]", 3, "x"));
}

static void
test_route_json(void **state)
{
    (void)state;
    struct np_connect c;
    np_connect_init(&c);
    c.verbose = c.pedantic = false;
    c.headers = true;
    c.name = strdup("NID");
    c.cluster = strdup("c1");
    char *json = np_connect_encode_route(&c);
    assert_string_equal(json, "{\"echo\":true,\"verbose\":false,\"pedantic\":false,"
                              "\"tls_required\":false,\"headers\":true,\"name\":\"NID\","
                              "\"cluster\":\"c1\"}");
    np_connect_release(&c);
    np_connect_init(&c);
    assert_int_equal(np_connect_parse(&c, json, strlen(json)), 0);
    assert_string_equal(c.cluster, "c1");
    assert_null(c.lang);
    np_connect_release(&c);
    free(json);
    struct np_info info;
    const char *in = "{\"server_id\":\"B\",\"proto\":2,\"ip\":\"nats-route://h:1/\","
                     "\"cluster_dynamic\":true,\"lnoc\":true,\"connect_urls\":[\"h:4222\"]}";
    assert_int_equal(np_info_parse(&info, in, strlen(in)), 0);
    assert_string_equal(info.ip, "nats-route://h:1/");
    assert_true(info.cluster_dynamic && info.lnoc);
    assert_int_equal(info.n_connect_urls, 1);
    np_info_release(&info);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rparse_table),  cmocka_unit_test(test_rparse_line_limit),
        cmocka_unit_test(test_rparse_queues), cmocka_unit_test(test_enc_interest),
        cmocka_unit_test(test_info_gossip),   cmocka_unit_test(test_route_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
