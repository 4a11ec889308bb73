/*
 * Unit tests for header blocks (libproto/np_hdr.c): the status line in every form nats-server and
 * JetStream send, malformed frames and field lines, iteration over repeated keys, and the builder
 * with a round trip through the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "np.h"

#define S(lit) NP_STR_LIT(lit)

static void
assert_view(struct np_str got, const char *want)
{
    assert_int_equal(got.len, strlen(want));
    if (got.len) assert_memory_equal(got.ptr, want, got.len);
}

static int
parse_lit(struct np_hdr *h, const char *block)
{
    return np_hdr_parse(h, block, strlen(block));
}

/* Parses block, expecting success with the given status and description. */
static void
expect_status(const char *block, int status, const char *description)
{
    struct np_hdr h;
    assert_int_equal(parse_lit(&h, block), 0);
    assert_int_equal(h.status, status);
    assert_view(h.description, description);
}

static void
test_status_forms(void **state)
{
    (void)state;
    expect_status("NATS/1.0\r\n\r\n", 0, "");
    expect_status("NATS/1.0 503\r\n\r\n", 503, "");
    expect_status("NATS/1.0 408 Request Timeout\r\n\r\n", 408, "Request Timeout");
    expect_status("NATS/1.0 404 No Messages\r\n\r\n", 404, "No Messages");
    expect_status("NATS/1.0 409 Consumer Deleted\r\n\r\n", 409, "Consumer Deleted");
    expect_status("NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 7\r\n\r\n", 100,
                  "Idle Heartbeat");
    expect_status("NATS/1.0  404 \t No Messages  \r\n\r\n", 404, "No Messages");
    expect_status("NATS/1.0 503 \r\n\r\n", 503, "");
    expect_status("NATS/1.0 \r\n\r\n", 0, "");
    expect_status("NATS/1.0\t503\tNo Responders\r\n\r\n", 503, "No Responders");
}

/* The block is hdr_len bytes of a larger buffer: nothing past it may be read or pointed into. */
static void
test_parse_exact_length(void **state)
{
    (void)state;
    const char msg[] = "NATS/1.0 408 Request Timeout\r\nA: b\r\n\r\nhello";
    size_t hdr_len = sizeof msg - 1 - 5;
    struct np_hdr h;
    assert_int_equal(np_hdr_parse(&h, msg, hdr_len), 0);
    assert_int_equal(h.status, 408);
    struct np_str v;
    assert_true(np_hdr_get(&h, "A", &v));
    assert_view(v, "b");
    assert_int_equal(np_hdr_parse(&h, msg, sizeof msg - 1), NP_EHEADER);
}

static void
expect_malformed(const char *block, size_t len)
{
    struct np_hdr h;
    memset(&h, 0x5a, sizeof h);
    assert_int_equal(np_hdr_parse(&h, block, len), NP_EHEADER);
    /* A failed parse leaves an empty header that iterates to nothing. */
    assert_int_equal(h.status, 0);
    assert_int_equal(h.description.len, 0);
    size_t pos = 0;
    struct np_str k, v;
    assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 0);
}

static void
test_malformed_frames(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "NATS/1.0",
        "NATS/1.0\r\n",
        "NATS/1.0\r\n\r",
        "NATS/1.1\r\n\r\n",
        "nats/1.0\r\n\r\n",
        "HTTP/1.0\r\n\r\n",
        "xNATS/1.0\r\n\r\n",
        "NATS/1.0x\r\n\r\n",
        "NATS/1.00\r\n\r\n",
        "NATS/1.0 abc\r\n\r\n",
        "NATS/1.0 50\r\n\r\n",
        "NATS/1.0 5031\r\n\r\n",
        "NATS/1.0 50x Oops\r\n\r\n",
        "NATS/1.0 -50\r\n\r\n",
        "NATS/1.0 503-x\r\n\r\n",
        "NATS/1.0 Request Timeout\r\n\r\n",
        "NATS/1.0\nA: b\r\n\r\n",
        "NATS/1.0 503\rX\r\n\r\n",
        "NATS/1.0\r\nA: b\r\n",
        "NATS/1.0\r\nA: b\r\n\r\nhello",
        "NATS/1.0\r\n\r\n\n",
        "hello",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_malformed(bad[i], strlen(bad[i]));
    expect_malformed(NULL, 0);
    expect_malformed("NATS/1.0\r\n\r\n", 11);
}

static void
test_iterate_repeated_keys(void **state)
{
    (void)state;
    struct np_hdr h;
    assert_int_equal(parse_lit(&h, "NATS/1.0\r\nA: 1\r\nB:2\r\na: 3\r\nA:  4 \t\r\n"
                                   "Url: http://x:1/\r\nEmpty:\r\nKey : v\r\n\r\n"),
                     0);
    static const char *const want[][2] = {
        {"A", "1"},    {"B", "2"},   {"a", "3"}, {"A", "4"}, {"Url", "http://x:1/"},
        {"Empty", ""}, {"Key", "v"},
    };
    size_t pos = 0;
    struct np_str k, v;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 1);
        assert_view(k, want[i][0]);
        assert_view(v, want[i][1]);
    }
    assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 0);
    assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 0);
}

static void
test_get(void **state)
{
    (void)state;
    struct np_hdr h;
    assert_int_equal(parse_lit(&h, "NATS/1.0 100 Idle Heartbeat\r\nA: 1\r\na: 2\r\nA: 3\r\n\r\n"),
                     0);
    struct np_str v = {NULL, 0};
    assert_true(np_hdr_get(&h, "A", &v));
    assert_view(v, "1");
    assert_true(np_hdr_get(&h, "a", &v));
    assert_view(v, "2");
    assert_false(np_hdr_get(&h, "B", &v));
    assert_false(np_hdr_get(&h, "", &v));

    assert_int_equal(parse_lit(&h, "NATS/1.0\r\n\r\n"), 0);
    size_t pos = 0;
    struct np_str k;
    assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 0);
    assert_false(np_hdr_get(&h, "A", &v));
}

/* Iterates block and returns the first result that is not 1 after `good` good fields. */
static int
next_after(const char *block, size_t good)
{
    struct np_hdr h;
    assert_int_equal(parse_lit(&h, block), 0);
    size_t pos = 0;
    struct np_str k, v;
    for (size_t i = 0; i < good; i++)
        assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 1);
    return np_hdr_next(&h, &pos, &k, &v);
}

static void
test_malformed_fields(void **state)
{
    (void)state;
    assert_int_equal(next_after("NATS/1.0\r\nNoColon\r\n\r\n", 0), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\n: v\r\n\r\n", 0), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\n  : v\r\n\r\n", 0), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\n folded: v\r\n\r\n", 0), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\nA: b\rc\r\n\r\n", 0), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\nA: b\nB: c\r\n\r\n", 0), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\nA: b\r\n\r\nB: c\r\n\r\n", 1), NP_EHEADER);
    assert_int_equal(next_after("NATS/1.0\r\nA: 1\r\nbad\r\nC: 3\r\n\r\n", 1), NP_EHEADER);

    struct np_hdr h;
    struct np_str v;
    assert_int_equal(parse_lit(&h, "NATS/1.0\r\nbad\r\nA: 1\r\n\r\n"), 0);
    assert_false(np_hdr_get(&h, "A", &v));
}

static void
expect_built(struct np_hdr_builder *b, const char *want)
{
    struct np_str out;
    assert_int_equal(np_hdr_builder_finish(b, &out), 0);
    assert_view(out, want);
}

static void
test_builder_exact(void **state)
{
    (void)state;
    struct np_hdr_builder b;
    np_hdr_builder_init(&b, 0, NULL);
    expect_built(&b, "NATS/1.0\r\n\r\n");
    np_hdr_builder_release(&b);

    np_hdr_builder_init(&b, NP_STATUS_NO_RESPONDERS, NULL);
    expect_built(&b, "NATS/1.0 503\r\n\r\n");
    np_hdr_builder_release(&b);

    np_hdr_builder_init(&b, 408, "Request Timeout");
    np_hdr_builder_add(&b, S("Nats-Pending-Messages"), S("1"));
    np_hdr_builder_add(&b, S("Nats-Pending-Bytes"), S("0"));
    expect_built(&b, "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n"
                     "Nats-Pending-Bytes: 0\r\n\r\n");
    /* finish is idempotent */
    expect_built(&b, "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n"
                     "Nats-Pending-Bytes: 0\r\n\r\n");
    np_hdr_builder_release(&b);
    assert_null(b.buf.ptr);
    assert_int_equal(b.buf.len, 0);
    assert_int_equal(b.err, 0);

    np_hdr_builder_init(&b, 0, "");
    np_hdr_builder_add(&b, S("k"), (struct np_str){NULL, 0});
    expect_built(&b, "NATS/1.0\r\nk: \r\n\r\n");
    np_hdr_builder_release(&b);
}

static void
test_builder_round_trip(void **state)
{
    (void)state;
    struct np_hdr_builder b;
    np_hdr_builder_init(&b, 100, "FlowControl Request");
    char key[32], val[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "K%d", i % 7);
        snprintf(val, sizeof val, "value-%d", i);
        np_hdr_builder_add(&b, (struct np_str){key, strlen(key)},
                           (struct np_str){val, strlen(val)});
    }
    np_hdr_builder_add(&b, S("Padded"), S("  x y  "));
    struct np_str out;
    assert_int_equal(np_hdr_builder_finish(&b, &out), 0);
    assert_true(b.buf.cap >= b.buf.len);

    struct np_hdr h;
    assert_int_equal(np_hdr_parse(&h, out.ptr, out.len), 0);
    assert_int_equal(h.status, 100);
    assert_view(h.description, "FlowControl Request");
    size_t pos = 0;
    struct np_str k, v;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "K%d", i % 7);
        snprintf(val, sizeof val, "value-%d", i);
        assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 1);
        assert_view(k, key);
        assert_view(v, val);
    }
    assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 1);
    assert_view(k, "Padded");
    assert_view(v, "x y");
    assert_int_equal(np_hdr_next(&h, &pos, &k, &v), 0);
    assert_true(np_hdr_get(&h, "K3", &v));
    assert_view(v, "value-3");
    np_hdr_builder_release(&b);
}

/* Starts a valid builder, applies one bad add, then a good one, and expects the sticky error. */
static void
expect_bad_field(struct np_str key, struct np_str value)
{
    struct np_hdr_builder b;
    np_hdr_builder_init(&b, 0, NULL);
    np_hdr_builder_add(&b, key, value);
    assert_int_equal(b.err, NP_EHEADER);
    np_hdr_builder_add(&b, S("Good"), S("1"));
    struct np_str out = {NULL, 0};
    assert_int_equal(np_hdr_builder_finish(&b, &out), NP_EHEADER);
    assert_null(out.ptr);
    np_hdr_builder_release(&b);
}

static void
test_builder_errors(void **state)
{
    (void)state;
    expect_bad_field(S(""), S("v"));
    expect_bad_field(S("a:b"), S("v"));
    expect_bad_field(S("a b"), S("v"));
    expect_bad_field(S("a\tb"), S("v"));
    expect_bad_field(S("a\rb"), S("v"));
    expect_bad_field(S("a\nb"), S("v"));
    expect_bad_field(S("k"), S("v\r"));
    expect_bad_field(S("k"), S("v\nX: y"));

    struct np_hdr_builder b;
    struct np_str out;
    static const int bad_status[] = {-1, 1, 99, 1000, 12345};
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
        np_hdr_builder_init(&b, bad_status[i], NULL);
        assert_int_equal(np_hdr_builder_finish(&b, &out), NP_EINVAL);
        np_hdr_builder_release(&b);
    }
    np_hdr_builder_init(&b, 0, "No Code");
    assert_int_equal(np_hdr_builder_finish(&b, &out), NP_EINVAL);
    np_hdr_builder_release(&b);
    np_hdr_builder_init(&b, 503, "x\r\nA: b");
    assert_int_equal(np_hdr_builder_finish(&b, &out), NP_EHEADER);
    np_hdr_builder_release(&b);

    /* Adding after finish would put a field after the blank line. */
    np_hdr_builder_init(&b, 0, NULL);
    assert_int_equal(np_hdr_builder_finish(&b, &out), 0);
    np_hdr_builder_add(&b, S("Late"), S("1"));
    assert_int_equal(np_hdr_builder_finish(&b, &out), NP_EINVAL);
    np_hdr_builder_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_forms),
        cmocka_unit_test(test_parse_exact_length),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_iterate_repeated_keys),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_malformed_fields),
        cmocka_unit_test(test_builder_exact),
        cmocka_unit_test(test_builder_round_trip),
        cmocka_unit_test(test_builder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
