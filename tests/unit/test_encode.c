/*
 * Unit tests for the protocol line encoders (libproto/np_encode.c).
 *
 * Every case checks the exact bytes, then replays the call at every smaller cap to prove the
 * snprintf-like contract: the full length is still returned, the prefix that fits is written and
 * the byte at cap (a canary) is never touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "np.h"

#define CANARY '#'

#define S(lit) NP_STR_LIT(lit)
#define NONE   ((struct np_str){NULL, 0})

/*
 * Calls fn(buf, cap, args...) for the full buffer and for every cap below the expected length,
 * checking the return value, the bytes written and the canary right after them.
 */
#define EXPECT_ENC(expected, fn, ...)                                                              \
    do {                                                                                           \
        char buf_[256];                                                                            \
        size_t want_ = sizeof(expected) - 1;                                                       \
        memset(buf_, CANARY, sizeof buf_);                                                         \
        assert_int_equal(fn(buf_, sizeof buf_, __VA_ARGS__), want_);                               \
        assert_memory_equal(buf_, expected, want_);                                                \
        assert_int_equal(buf_[want_], CANARY);                                                     \
        for (size_t cap_ = 0; cap_ < want_; cap_++) {                                              \
            memset(buf_, CANARY, sizeof buf_);                                                     \
            assert_int_equal(fn(buf_, cap_, __VA_ARGS__), want_);                                  \
            if (cap_) assert_memory_equal(buf_, expected, cap_);                                   \
            assert_int_equal(buf_[cap_], CANARY);                                                  \
        }                                                                                          \
        assert_int_equal(fn(NULL, 0, __VA_ARGS__), want_);                                         \
    } while (0)

static void
test_pub(void **state)
{
    (void)state;
    EXPECT_ENC("PUB foo 5\r\n", np_enc_pub, S("foo"), NONE, 5);
    EXPECT_ENC("PUB foo _INBOX.x 0\r\n", np_enc_pub, S("foo"), S("_INBOX.x"), 0);
    EXPECT_ENC("PUB a.b 1048576\r\n", np_enc_pub, S("a.b"), NONE, 1048576);
}

static void
test_hpub(void **state)
{
    (void)state;
    EXPECT_ENC("HPUB foo 12 17\r\n", np_enc_hpub, S("foo"), NONE, 12, 17);
    EXPECT_ENC("HPUB foo rep 22 27\r\n", np_enc_hpub, S("foo"), S("rep"), 22, 27);
}

static void
test_sub(void **state)
{
    (void)state;
    EXPECT_ENC("SUB foo.* 1\r\n", np_enc_sub, S("foo.*"), NONE, S("1"));
    EXPECT_ENC("SUB foo.> workers 42\r\n", np_enc_sub, S("foo.>"), S("workers"), S("42"));
}

static void
test_unsub(void **state)
{
    (void)state;
    EXPECT_ENC("UNSUB 7\r\n", np_enc_unsub, S("7"), -1);
    EXPECT_ENC("UNSUB 7\r\n", np_enc_unsub, S("7"), INT64_MIN);
    EXPECT_ENC("UNSUB 7 0\r\n", np_enc_unsub, S("7"), 0);
    EXPECT_ENC("UNSUB 7 10\r\n", np_enc_unsub, S("7"), 10);
    EXPECT_ENC("UNSUB abc 9223372036854775807\r\n", np_enc_unsub, S("abc"), INT64_MAX);
}

static void
test_msg(void **state)
{
    (void)state;
    EXPECT_ENC("MSG foo 1 2\r\n", np_enc_msg, S("foo"), S("1"), NONE, 2);
    EXPECT_ENC("MSG foo 1 0\r\n", np_enc_msg, S("foo"), S("1"), NONE, 0);
    EXPECT_ENC("MSG h 1 rep 5\r\n", np_enc_msg, S("h"), S("1"), S("rep"), 5);
    EXPECT_ENC("MSG x.y sid99 _INBOX.abc.1 18446744073709551615\r\n", np_enc_msg, S("x.y"),
               S("sid99"), S("_INBOX.abc.1"), SIZE_MAX);
}

static void
test_hmsg(void **state)
{
    (void)state;
    EXPECT_ENC("HMSG h 9 rep 18 23\r\n", np_enc_hmsg, S("h"), S("9"), S("rep"), 18, 23);
    EXPECT_ENC("HMSG _INBOX.1 4 16 16\r\n", np_enc_hmsg, S("_INBOX.1"), S("4"), NONE, 16, 16);
    EXPECT_ENC("HMSG a 1 12 1000000000\r\n", np_enc_hmsg, S("a"), S("1"), NONE, 12, 1000000000);
}

static void
test_number_boundaries(void **state)
{
    (void)state;
    EXPECT_ENC("PUB s 9\r\n", np_enc_pub, S("s"), NONE, 9);
    EXPECT_ENC("PUB s 10\r\n", np_enc_pub, S("s"), NONE, 10);
    EXPECT_ENC("PUB s 99\r\n", np_enc_pub, S("s"), NONE, 99);
    EXPECT_ENC("PUB s 100\r\n", np_enc_pub, S("s"), NONE, 100);
    EXPECT_ENC("PUB s 1000\r\n", np_enc_pub, S("s"), NONE, 1000);
    EXPECT_ENC("PUB s 4294967296\r\n", np_enc_pub, S("s"), NONE, (size_t)1 << 32);
    EXPECT_ENC("PUB s 10000000000000000000\r\n", np_enc_pub, S("s"), NONE,
               (size_t)10000000000000000000u);
}

/* The digit writer against printf, over every value below 10^5 and around every power of ten. */
static void
test_numbers_match_printf(void **state)
{
    (void)state;
    char got[64], want[64];
    for (size_t v = 0; v < 100000; v++) {
        size_t n = np_enc_pub(got, sizeof got, S("s"), NONE, v);
        int w = snprintf(want, sizeof want, "PUB s %zu\r\n", v);
        assert_int_equal(n, (size_t)w);
        assert_memory_equal(got, want, n);
    }
    for (size_t p = 10; p <= SIZE_MAX / 10; p *= 10) {
        for (size_t v = p - 1; v <= p + 1; v++) {
            size_t n = np_enc_pub(got, sizeof got, S("s"), NONE, v);
            int w = snprintf(want, sizeof want, "PUB s %zu\r\n", v);
            assert_int_equal(n, (size_t)w);
            assert_memory_equal(got, want, n);
        }
    }
}

/* Spec 5.5's observed route lines, every form. */
static void
test_rmsg(void **state)
{
    (void)state;
    struct np_str g1[] = {S("g1")}, g12[] = {S("g1"), S("g2")};
    struct np_rmsg_line plain = {.account = S("$G"), .subject = S("foo"), .total = 2};
    EXPECT_ENC("RMSG $G foo 2\r\n", np_enc_rmsg, &plain);
    struct np_rmsg_line reply = plain;
    reply.reply = S("rep");
    EXPECT_ENC("RMSG $G foo rep 2\r\n", np_enc_rmsg, &reply);
    struct np_rmsg_line hdr = {.account = S("$G"), .subject = S("foo"), .hdr_len = 12, .total = 14};
    EXPECT_ENC("HMSG $G foo 12 14\r\n", np_enc_rmsg, &hdr);
    struct np_rmsg_line q = {.account = S("$G"),
                             .subject = S("q"),
                             .reply = S("r.0"),
                             .queues = g1,
                             .nqueues = 1,
                             .total = 1};
    EXPECT_ENC("RMSG $G q + r.0 g1 1\r\n", np_enc_rmsg, &q);
    struct np_rmsg_line bar = {
        .account = S("$G"), .subject = S("q"), .queues = g12, .nqueues = 2, .total = 1};
    EXPECT_ENC("RMSG $G q | g1 g2 1\r\n", np_enc_rmsg, &bar);
    struct np_rmsg_line hq = {.account = S("$G"),
                              .subject = S("q"),
                              .reply = S("r"),
                              .queues = g12,
                              .nqueues = 2,
                              .hdr_len = 12,
                              .total = 13};
    EXPECT_ENC("HMSG $G q + r g1 g2 12 13\r\n", np_enc_rmsg, &hq);
}

static void
test_info_connect_err(void **state)
{
    (void)state;
    EXPECT_ENC("INFO {\"a\":1} \r\n", np_enc_info, S("{\"a\":1}"));
    EXPECT_ENC("CONNECT {\"verbose\":false}\r\n", np_enc_connect, S("{\"verbose\":false}"));
    EXPECT_ENC("-ERR 'Unknown Protocol Operation'\r\n", np_enc_err,
               S("Unknown Protocol Operation"));
    EXPECT_ENC("-ERR ''\r\n", np_enc_err, NONE);
}

/* Expected texts are what nats-server 2.9.10 wrote in its -ERR lines for these subjects. */
static void
test_quoted(void **state)
{
    (void)state;
    EXPECT_ENC("\"foo.bar\"", np_enc_quoted, S("foo.bar"));
    EXPECT_ENC("\"\"", np_enc_quoted, NONE);
    EXPECT_ENC("\"a\\\"b\\\\c\"", np_enc_quoted, S("a\"b\\c"));
    EXPECT_ENC("\"x\\x01\\x7f\\a\\b\\f\\v\\t\\n\\r\\x00\"", np_enc_quoted,
               ((struct np_str){"x\x01\x7f\a\b\f\v\t\n\r", 11}));
    /* valid UTF-8 stays, invalid bytes (a cut sequence, a surrogate) are escaped one by one */
    EXPECT_ENC("\"\xc3\xa9\\xff\\xc3\"", np_enc_quoted, S("\xc3\xa9\xff\xc3"));
    EXPECT_ENC("\"\xf0\x9f\x98\x80\\U000e0001\\xed\\xa0\\x80\"", np_enc_quoted,
               S("\xf0\x9f\x98\x80\xf3\xa0\x80\x81\xed\xa0\x80"));
    EXPECT_ENC("\"n\\u00a0b\\u200bc\\ufeff\\u0085\\ue000\"", np_enc_quoted,
               S("n\xc2\xa0"
                 "b\xe2\x80\x8b"
                 "c\xef\xbb\xbf\xc2\x85\xee\x80\x80"));
    /* overlong encodings are invalid */
    EXPECT_ENC("\"\\xc0\\xaf\"", np_enc_quoted, S("\xc0\xaf"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pub),
        cmocka_unit_test(test_hpub),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_unsub),
        cmocka_unit_test(test_msg),
        cmocka_unit_test(test_hmsg),
        cmocka_unit_test(test_number_boundaries),
        cmocka_unit_test(test_numbers_match_printf),
        cmocka_unit_test(test_rmsg),
        cmocka_unit_test(test_info_connect_err),
        cmocka_unit_test(test_quoted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
