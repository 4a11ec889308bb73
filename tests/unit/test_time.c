/* RFC 3339 times (libproto/np_time.c): the text JetStream puts in stream info and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "np.h"
#include "np_time.h"

static const struct {
    int64_t ns;
    const char *text;
} samples[] = {
    {1795835972112188686LL, "2026-11-28T03:19:32.112188686Z"},
    {1795835972000000000LL, "2026-11-28T03:19:32Z"},
    {1795835972100000000LL, "2026-11-28T03:19:32.1Z"},
    {1795835972000120000LL, "2026-11-28T03:19:32.00012Z"},
    {-1, "1969-12-31T23:59:59.999999999Z"},
    {1, "1970-01-01T00:00:00.000000001Z"},
    {951782400000000001LL, "2000-02-29T00:00:00.000000001Z"},
    {INT64_MAX, "2262-04-11T23:47:16.854775807Z"},
    {INT64_MIN, "1677-09-21T00:12:43.145224192Z"},
};

static void
test_format(void **state)
{
    (void)state;
    char buf[NP_TIME_MAX];
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        size_t n = np_time_format(samples[i].ns, buf, sizeof buf);
        assert_string_equal(buf, samples[i].text);
        assert_int_equal(n, strlen(samples[i].text));
    }
}

static void
test_zero_time(void **state)
{
    (void)state;
    char buf[NP_TIME_MAX];
    assert_int_equal(np_time_format(0, buf, sizeof buf), 20);
    assert_string_equal(buf, "0001-01-01T00:00:00Z");
    int64_t ns = 42;
    assert_int_equal(np_time_parse(buf, strlen(buf), &ns), 0);
    assert_int_equal(ns, 0);
    ns = 42;
    assert_int_equal(np_time_parse("1970-01-01T00:00:00Z", 20, &ns), 0);
    assert_int_equal(ns, 0);
}

static void
test_truncated_output(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(np_time_format(1795835972112188686LL, buf, sizeof buf), 30);
    assert_string_equal(buf, "2026-11");
    assert_int_equal(np_time_format(1, NULL, 0), 30);
}

static void
test_round_trip(void **state)
{
    (void)state;
    char buf[NP_TIME_MAX];
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        int64_t ns = 0;
        assert_int_equal(np_time_parse(samples[i].text, strlen(samples[i].text), &ns), 0);
        assert_int_equal(ns, samples[i].ns);
    }
    for (int64_t ns = -4000000000000000000LL; ns < 4000000000000000000LL;
         ns += 123456789012345677LL) {
        int64_t back = 0;
        size_t n = np_time_format(ns, buf, sizeof buf);
        assert_int_equal(np_time_parse(buf, n, &back), 0);
        assert_int_equal(back, ns);
    }
}

static int64_t
parsed(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(np_time_parse(s, strlen(s), &ns), 0);
    return ns;
}

static void
test_offsets_and_fractions(void **state)
{
    (void)state;
    int64_t utc = parsed("2026-11-28T03:19:32Z");
    assert_int_equal(parsed("2026-11-28T04:19:32+01:00"), utc);
    assert_int_equal(parsed("2026-11-27T22:49:32-04:30"), utc);
    assert_int_equal(parsed("2026-11-28t03:19:32z"), utc);
    assert_int_equal(parsed("2026-11-28T03:19:32.5Z"), utc + 500000000);
    assert_int_equal(parsed("2026-11-28T03:19:32.000000007+00:00"), utc + 7);
    assert_int_equal(parsed("2024-02-29T00:00:00Z"), 1709164800000000000LL);
}

static void
test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-11-28",
        "2026-11-28T03:19:32",
        "2026-11-28 03:19:32Z",
        "2026-11-28T03:19:32ZZ",
        "2026-11-28T03:19:32.Z",
        "2026-11-28T03:19:32.1234567891Z",
        "2026-13-28T03:19:32Z",
        "2026-00-28T03:19:32Z",
        "2026-02-29T03:19:32Z",
        "2100-02-29T03:19:32Z",
        "2026-11-31T03:19:32Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28T23:60:00Z",
        "2026-11-28T23:59:60Z",
        "2026-11-28T03:19:32+1:00",
        "2026-11-28T03:19:32+24:00",
        "2026-11-28T03:19:32+01:60",
        "2026-11-28T03:19:32+0100",
        "2026-1a-28T03:19:32Z",
        "+026-11-28T03:19:32Z",
        "2262-04-11T23:47:16.854775808Z",
        "1677-09-21T00:12:43.145224191Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00.1Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns = 42;
        assert_int_equal(np_time_parse(bad[i], strlen(bad[i]), &ns), NP_EINVAL);
        assert_int_equal(ns, 42);
    }
    int64_t ns = 42;
    assert_int_equal(np_time_parse("2026-11-28T03:19:32Zjunk", 20, &ns), 0);
    assert_int_equal(np_time_parse(NULL, 0, &ns), NP_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_zero_time),
        cmocka_unit_test(test_truncated_output),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_offsets_and_fractions),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
