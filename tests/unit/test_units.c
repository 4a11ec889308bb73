/*
 * Sizes and durations (libproto/np_units.c), the one parser the broker's configuration and the
 * CLI share, and the CLI's adaptation of them (cmd/cli_num.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cli.h"
#include "np.h"
#include "np_units.h"

static int
size_of(const char *s, int64_t *v)
{
    *v = -42;
    return np_size_parse(s, strlen(s), v);
}

static void
test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t want;
    } good[] = {
        {"0", 0},
        {"512", 512},
        {"1b", 1},
        {"1k", 1000},
        {"1K", 1000},
        {"1kb", 1024},
        {"1KiB", 1024},
        {"1ki", 1024},
        {"2mb", 2 << 20},
        {"1m", 1000000},
        {"1g", 1000000000},
        {"1gib", 1 << 30},
        {"1T", 1000000000000},
        {"1TB", 1099511627776},
        {"1p", 1000000000000000},
        {"-1k", -1000},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
    };
    int64_t v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (size_of(good[i].in, &v) != 0) fail_msg("'%s' refused", good[i].in);
        if (v != good[i].want) fail_msg("'%s' gave %lld", good[i].in, (long long)v);
    }
    assert_int_equal(size_of("8EB", &v), NP_ERANGE);
    assert_int_equal(size_of("7EB", &v), 0);
    assert_int_equal(v, 7 * (INT64_MAX / 8 + 1));
    assert_int_equal(size_of("9223372036854775808", &v), NP_ERANGE);
    assert_int_equal(size_of("99999999999999999999k", &v), NP_ERANGE);
    static const char *const bad[] = {"",   "k",    "-",     "1x",  "1kbb", "1bk", "1 k",
                                      " 1", "1.5k", "1kibb", "1ik", "0x10", "+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (size_of(bad[i], &v) != NP_ESIZE_SUFFIX) fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(v, -42);
    }
    /* A view: what follows len is not read. */
    assert_int_equal(np_size_parse("4kXYZ", 2, &v), 0);
    assert_int_equal(v, 4000);
}

static int
dur_of(const char *s, int64_t *ns)
{
    *ns = -42;
    return np_duration_parse(s, strlen(s), ns);
}

static void
test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ns;
    } good[] = {
        {"0", 0},
        {"-0", 0},
        {"0s", 0},
        {"1ns", 1},
        {"1us", 1000},
        {"1\xc2\xb5s", 1000},
        {"1\xce\xbcs", 1000},
        {"500ms", 500000000},
        {"1.5s", 1500000000},
        {".5s", 500000000},
        {"1.s", 1000000000},
        {"1m30s", 90000000000},
        {"2h", 7200000000000},
        {"1h1m1s1ms", 3661001000000},
        {"-1.5h", -5400000000000},
        {"+2m", 120000000000},
        {"1.0000000009s", 1000000000},
        {"2562047h", 2562047 * 3600000000000},
    };
    int64_t ns;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (dur_of(good[i].in, &ns) != 0) fail_msg("'%s' refused", good[i].in);
        if (ns != good[i].ns) fail_msg("'%s' gave %lld", good[i].in, (long long)ns);
    }
    static const char *const bad[] = {"",  "-",  "s",   "1",      "1x", "1S", "1sec", "1 s",
                                      ".", ".s", "1s2", "1.2.3s", "ms", "00", "1e3s", "--1s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (dur_of(bad[i], &ns) != NP_EDURATION) fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(ns, -42);
    }
    assert_int_equal(dur_of("2562048h", &ns), NP_ERANGE);
    assert_int_equal(dur_of("99999999999999999999ns", &ns), NP_ERANGE);
    assert_int_equal(dur_of("2562047h2562047h", &ns), NP_ERANGE);
    assert_int_equal(np_duration_parse("90sXX", 3, &ns), 0);
    assert_int_equal(ns, 90000000000);
}

/* Go's time.Duration.String(), which nats-server's messages print. */
static void
test_duration_format(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *out;
    } cases[] = {
        {0, "0s"},
        {1, "1ns"},
        {1500, "1.5\xc2\xb5s"},
        {250000000, "250ms"},
        {1500000000, "1.5s"},
        {10000000000, "10s"},
        {30000000000, "30s"},
        {90000000000, "1m30s"},
        {120000000000, "2m0s"},
        {3661001000000, "1h1m1.001s"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        np_duration_format(cases[i].ns, buf, sizeof buf);
        assert_string_equal(buf, cases[i].out);
    }
    np_duration_format(90000000000, buf, 4);
    assert_string_equal(buf, "1m3");
}

/* The CLI reads the same units as a config file: 1T and 1TB included, never a negative size. */
static void
test_cli_adapters(void **state)
{
    (void)state;
    long long v;
    assert_true(cli_parse_size("1T", &v));
    assert_int_equal(v, 1000000000000);
    assert_true(cli_parse_size("1TB", &v));
    assert_int_equal(v, 1099511627776);
    assert_true(cli_parse_size("64MiB", &v));
    assert_int_equal(v, 64 << 20);
    assert_false(cli_parse_size("-1", &v));
    assert_false(cli_parse_size("1.5k", &v));
    uint64_t ms;
    assert_true(cli_parse_duration("1m30s", &ms));
    assert_int_equal(ms, 90000);
    assert_true(cli_parse_duration("2", &ms));
    assert_int_equal(ms, 2000);
    assert_true(cli_parse_duration("1\xce\xbcs", &ms));
    assert_int_equal(ms, 1);
    assert_false(cli_parse_duration("-1s", &ms));
    assert_false(cli_parse_duration("+1s", &ms));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_cli_adapters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
