/*
 * Unit tests for cmd/cli_tmpl.c: every placeholder with an injected clock and random source, the
 * text that must survive verbatim (unknown names, malformed braces, {{N}} out of range), per-word
 * expansion, and the command splitter's quoting table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cli_tmpl.h"

#define ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* 2024-03-05T14:07:09.123456789Z */
static void
fixed_clock(struct timespec *ts, void *ud)
{
    int *calls = ud;
    if (calls) (*calls)++;
    ts->tv_sec = 1709647629;
    ts->tv_nsec = 123456789;
}

/* Bytes 0, 1, 2, ... continuing across calls. */
static unsigned char next_byte;

static int
counting_random(void *buf, size_t len, void *ud)
{
    (void)ud;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = next_byte++;
    return 0;
}

static int
failing_random(void *buf, size_t len, void *ud)
{
    (void)buf;
    (void)len;
    (void)ud;
    return -5;
}

static struct cli_tmpl_ctx
test_ctx(void)
{
    next_byte = 0;
    struct cli_tmpl_ctx c = {.count = 7, .clock = fixed_clock, .random = counting_random};
    return c;
}

static void
expect(const struct cli_tmpl_ctx *c, const char *tmpl, const char *want)
{
    struct np_buf b = {NULL, 0, 0};
    assert_int_equal(cli_tmpl_expand(c, tmpl, strlen(tmpl), &b), 0);
    assert_string_equal(b.ptr, want);
    assert_int_equal(b.len, strlen(want));
    np_buf_release(&b);
}

static void
set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void
test_count(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    expect(&c, "{{Count}}", "7");
    expect(&c, "{{.Count}}", "7");
    expect(&c, "{{Cnt}}", "7");
    expect(&c, "n={{ Count }}!", "n=7!");
    expect(&c, "{{\tCount\t}}", "7");
    expect(&c, "{{Count}}{{Count}}", "77");
    c.count = 18446744073709551615ULL;
    expect(&c, "{{Count}}", "18446744073709551615");
}

static void
test_times(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    set_tz("UTC0");
    expect(&c, "{{TimeStamp}}", "2024-03-05T14:07:09Z");
    expect(&c, "{{Unix}}", "1709647629");
    expect(&c, "{{UnixNano}}", "1709647629123456789");
    expect(&c, "{{Time}}", "2:07PM");
    set_tz("XYZ-5:30");
    expect(&c, "{{TimeStamp}} {{Time}}", "2024-03-05T19:37:09+05:30 7:37PM");
    set_tz("EST5");
    expect(&c, "{{.TimeStamp}} {{Time}}", "2024-03-05T09:07:09-05:00 9:07AM");
    set_tz("ABC-10");
    expect(&c, "{{Time}}", "12:07AM");
    set_tz("UTC0");
}

static void
test_clock_read_once(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    int calls = 0;
    c.ud = &calls;
    expect(&c, "{{Unix}} {{UnixNano}} {{Time}} {{TimeStamp}}",
           "1709647629 1709647629123456789 2:07PM 2024-03-05T14:07:09Z");
    assert_int_equal(calls, 1);
    calls = 0;
    expect(&c, "no time here {{Count}}", "no time here 7");
    assert_int_equal(calls, 0);
}

static void
test_real_sources(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = {.count = 1};
    struct np_buf a = {NULL, 0, 0}, b = {NULL, 0, 0};
    assert_int_equal(cli_tmpl_expand(&c, "{{ID}}", 6, &a), 0);
    assert_int_equal(cli_tmpl_expand(&c, "{{ID}}", 6, &b), 0);
    assert_int_equal(a.len, 22);
    assert_int_equal(strspn(a.ptr, ALPHABET), 22);
    assert_string_not_equal(a.ptr, b.ptr);
    assert_int_equal(cli_tmpl_expand(&c, "{{Unix}}", 8, &a), 0);
    long long now = (long long)time(NULL);
    assert_true(llabs(atoll(a.ptr) - now) <= 2);
    np_buf_release(&a);
    np_buf_release(&b);
}

static void
test_id_and_random(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    expect(&c, "{{ID}}", "0123456789ABCDEFGHIJKL");
    c = test_ctx();
    /* The second ID draws a fresh pool: bytes 64, 65, ... map to 2, 3, ... */
    expect(&c, "{{.ID}}-{{ID}}", "0123456789ABCDEFGHIJKL-23456789ABCDEFGHIJKLMN");
    /* 8 bytes pick the length (fixed here), then a fresh pool of 64 gives the characters. */
    c = test_ctx();
    expect(&c, "{{Random 3 3}}", "89A");
    c = test_ctx();
    expect(&c, "{{ Random  0   0 }}", "");
    /* pick = 0x0706050403020100 = 506097522914230528; % 11 = 6, so 5 + 6 = 11 characters. */
    c = test_ctx();
    expect(&c, "{{Random 5 15}}", "89ABCDEFGHI");
    c = test_ctx();
    expect(&c, "{{Random 15 5}}", "89ABCDEFGHI");
}

/*
 * Eight bytes pick the length, then the characters: 248..255 are rejected so every character is
 * equally likely, 247 is the last byte kept (247 % 62 = 61, 'z').
 */
static const unsigned char script[] = {1, 2, 3, 4, 5, 6, 7, 8, 248, 255, 247, 61, 62};
static size_t script_pos;

static int
scripted_random(void *buf, size_t len, void *ud)
{
    (void)ud;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = script_pos < sizeof script ? script[script_pos++] : 255;
    return 0;
}

static void
test_rejection(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    c.random = scripted_random;
    script_pos = 0;
    expect(&c, "{{Random 3 3}}", "zz0");
    assert_int_equal(script_pos, sizeof script);
}

static void
test_random_errors(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    c.random = failing_random;
    struct np_buf b = {NULL, 0, 0};
    assert_int_equal(cli_tmpl_expand(&c, "{{ID}}", 6, &b), -5);
    assert_int_equal(cli_tmpl_expand(&c, "{{Random 1 2}}", 14, &b), -5);
    assert_int_equal(cli_tmpl_expand(&c, "{{Count}}", 9, &b), 0);
    assert_string_equal(b.ptr, "7");
    np_buf_release(&b);
}

static void
test_verbatim(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    expect(&c, "", "");
    expect(&c, "plain", "plain");
    expect(&c, "{{Unknown}}", "{{Unknown}}");
    expect(&c, "{{count}}", "{{count}}");
    expect(&c, "{{}}", "{{}}");
    expect(&c, "{{ }}", "{{ }}");
    expect(&c, "{{Count", "{{Count");
    expect(&c, "Count}}", "Count}}");
    expect(&c, "{Count}", "{Count}");
    expect(&c, "{{Count}", "{{Count}");
    expect(&c, "{{Count x}}", "{{Count x}}");
    expect(&c, "{{..Count}}", "{{..Count}}");
    expect(&c, "{{Random}}", "{{Random}}");
    expect(&c, "{{Random 1}}", "{{Random 1}}");
    expect(&c, "{{Random 1 2 3}}", "{{Random 1 2 3}}");
    expect(&c, "{{Random -1 2}}", "{{Random -1 2}}");
    expect(&c, "{{Random 1 99999999}}", "{{Random 1 99999999}}");
    expect(&c, "{{Randomly 1 2}}", "{{Randomly 1 2}}");
    expect(&c, "{{.Random 1 2}}", "{{.Random 1 2}}");
    /* reply-only placeholders stay verbatim outside reply */
    expect(&c, "{{Request}} {{1}}", "{{Request}} {{1}}");
    expect(&c, "{{x {{Count}}", "{{x 7");
    expect(&c, "{\"n\":{{Count}}}", "{\"n\":7}");
    expect(&c, "{{{Count}}}", "{7}");
    expect(&c, "{{ {{ }} {{Count}}", "{{ {{ }} 7");
    expect(&c, "}}{{Count}}{{", "}}7{{");
}

static void
test_reply_placeholders(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    c.reply = true;
    c.request = NP_STR_LIT("body{{Count}}");
    c.subject = NP_STR_LIT("svc.users.42");
    expect(&c, "got {{Request}}", "got body{{Count}}");
    expect(&c, "{{.Request}}", "body{{Count}}");
    expect(&c, "{{1}}/{{2}}/{{3}}", "svc/users/42");
    expect(&c, "{{ 2 }}", "users");
    expect(&c, "{{02}}", "users");
    /* Out of range stays verbatim, so a missing token is visible rather than silently empty. */
    expect(&c, "{{4}} {{0}} {{99999999999}}", "{{4}} {{0}} {{99999999999}}");
    expect(&c, "{{1x}} {{-1}} {{+1}}", "{{1x}} {{-1}} {{+1}}");
    c.subject = NP_STR_LIT("single");
    expect(&c, "{{1}}{{2}}", "single{{2}}");
    c.request = (struct np_str){NULL, 0};
    c.subject = (struct np_str){NULL, 0};
    expect(&c, "[{{Request}}]{{1}}", "[]{{1}}");
}

static void
test_maybe(void **state)
{
    (void)state;
    assert_true(cli_tmpl_maybe("a{{b", 4));
    assert_true(cli_tmpl_maybe("{{", 2));
    assert_false(cli_tmpl_maybe("a{b{", 4));
    assert_false(cli_tmpl_maybe("{", 1));
    assert_false(cli_tmpl_maybe("{{", 1));
    assert_false(cli_tmpl_maybe("", 0));
}

static void
test_buffer_reuse(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    struct np_buf b = {NULL, 0, 0};
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(cli_tmpl_expand(&c, big, strlen(big), &b), 0);
    assert_int_equal(b.len, 4999);
    char *ptr = b.ptr;
    assert_int_equal(cli_tmpl_expand(&c, "{{Count}}", 9, &b), 0);
    assert_ptr_equal(b.ptr, ptr);
    assert_string_equal(b.ptr, "7");
    /* Embedded NUL bytes are data like any other. */
    assert_int_equal(cli_tmpl_expand(&c, "a\0{{Count}}", 11, &b), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.ptr,
                        "a\0"
                        "7",
                        3);
    np_buf_release(&b);
    assert_null(b.ptr);
}

static void
test_expand_argv(void **state)
{
    (void)state;
    struct cli_tmpl_ctx c = test_ctx();
    c.reply = true;
    c.subject = NP_STR_LIT("a.b c.d");
    c.request = NP_STR_LIT("x y");
    char *in[] = {"echo", "{{2}}", "{{Request}}", "n{{Count}}", NULL};
    char **out = NULL;
    assert_int_equal(cli_tmpl_expand_argv(&c, in, 4, &out), 0);
    assert_string_equal(out[0], "echo");
    assert_string_equal(out[1], "b c");
    assert_string_equal(out[2], "x y");
    assert_string_equal(out[3], "n7");
    assert_null(out[4]);
    cli_argv_free(out);
    assert_int_equal(cli_tmpl_expand_argv(&c, in, 0, &out), 0);
    assert_null(out[0]);
    cli_argv_free(out);
    c.random = failing_random;
    char *bad[] = {"{{ID}}", NULL};
    out = NULL;
    assert_int_equal(cli_tmpl_expand_argv(&c, bad, 1, &out), -5);
    assert_null(out);
    cli_argv_free(NULL);
}

/* Splits line and compares with want (NULL-terminated), or expects the error. */
static void
expect_split(const char *line, int err, const char *const *want)
{
    char **argv = NULL;
    int argc = -1;
    int rc = cli_split_command(line, &argv, &argc);
    assert_int_equal(rc, err);
    if (err) {
        assert_null(argv);
        return;
    }
    int n = 0;
    while (want[n])
        n++;
    assert_int_equal(argc, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(argv[i], want[i]);
    assert_null(argv[n]);
    cli_argv_free(argv);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
test_split(void **state)
{
    (void)state;
    expect_split("", 0, (const char *const[]){NULL});
    expect_split(" \t\n ", 0, (const char *const[]){NULL});
    expect_split("echo", 0, W("echo"));
    expect_split("  echo   a\tb\nc  ", 0, W("echo", "a", "b", "c"));
    expect_split("echo 'a b' \"c d\"", 0, W("echo", "a b", "c d"));
    expect_split("echo '' \"\" x", 0, W("echo", "", "", "x"));
    expect_split("echo a''b a\"\"b", 0, W("echo", "ab", "ab"));
    expect_split("'it'\\''s'", 0, W("it's"));
    expect_split("a'b c'd", 0, W("ab cd"));
    expect_split("echo \\ a a\\ b \\'q\\\"", 0, W("echo", " a", "a b", "'q\""));
    expect_split("'\\n $HOME `x` *'", 0, W("\\n $HOME `x` *"));
    expect_split("\"\\\" \\\\ \\$ \\` \\n \\a\"", 0, W("\" \\ $ ` \\n \\a"));
    expect_split("\"a\\\nb\"", 0, W("ab"));
    expect_split("a\\\nb c", 0, W("ab", "c"));
    expect_split("$HOME ~ *.c `ls` $(id) ;|&", 0, W("$HOME", "~", "*.c", "`ls`", "$(id)", ";|&"));
    expect_split("\"'\" '\"'", 0, W("'", "\""));
    expect_split("prog {{1}} \"{{Request}}\"", 0, W("prog", "{{1}}", "{{Request}}"));
    expect_split("'unterminated", -EINVAL, NULL);
    expect_split("\"unterminated", -EINVAL, NULL);
    expect_split("a \"b\\\"", -EINVAL, NULL);
    expect_split("trailing\\", -EINVAL, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_clock_read_once),
        cmocka_unit_test(test_real_sources),
        cmocka_unit_test(test_id_and_random),
        cmocka_unit_test(test_rejection),
        cmocka_unit_test(test_random_errors),
        cmocka_unit_test(test_verbatim),
        cmocka_unit_test(test_reply_placeholders),
        cmocka_unit_test(test_maybe),
        cmocka_unit_test(test_buffer_reuse),
        cmocka_unit_test(test_expand_argv),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
