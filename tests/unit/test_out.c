/*
 * Unit tests for cmd/cli_out.c: each output mode byte for byte (headers with repeated keys, status
 * lines, bodies with and without a final newline), JSON parsed back with cJSON, data_b64 for bodies
 * that are not UTF-8, write errors (a reader that went away, /dev/full, a read-only stream), the
 * UTF-8 validator, base64, the Go time formats and the terminal checks.
 */
/* posix_openpt() and friends are XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "cli_out.h"

#define HDRS "NATS/1.0 503 No Responders\r\nA: 1\r\nB:  x y \r\nA: 2\r\n\r\n"
#define TS   ((struct timespec){1709647629, 123450000})

/* Prints m in mode (headers only when asked) and compares the bytes with want. */
static void
expect_out(enum cli_out_mode mode, bool headers_only, const struct cli_out_msg *m, const char *want,
           size_t want_len)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    struct cli_out o;
    cli_out_init(&o, f, mode);
    o.headers_only = headers_only;
    assert_int_equal(cli_out_msg(&o, m), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(text, want, want_len);
    cli_out_release(&o);
    fclose(f);
    free(text);
}

#define EXPECT(mode, m, lit)      expect_out(mode, false, m, lit, sizeof lit - 1)
#define EXPECT_HDRS(mode, m, lit) expect_out(mode, true, m, lit, sizeof lit - 1)

static void
test_pretty(void **state)
{
    (void)state;
    struct cli_out_msg m = {.subject = NP_STR_LIT("foo"), .data = NP_STR_LIT("hello"), .count = 1};
    EXPECT(CLI_OUT_PRETTY, &m, "[#1] Received on \"foo\"\nhello\n\n");
    m.data = NP_STR_LIT("hello\n");
    EXPECT(CLI_OUT_PRETTY, &m, "[#1] Received on \"foo\"\nhello\n\n");
    m.data = (struct np_str){NULL, 0};
    EXPECT(CLI_OUT_PRETTY, &m, "[#1] Received on \"foo\"\n\n\n");
    m.count = 42;
    m.reply = NP_STR_LIT("_INBOX.abc");
    m.stamp = "Mar  5 14:07:09.123450";
    m.data = NP_STR_LIT("x");
    EXPECT(CLI_OUT_PRETTY, &m,
           "[#42] Received on \"foo\" with reply \"_INBOX.abc\" @ Mar  5 14:07:09.123450\nx\n\n");
    m.reply = (struct np_str){NULL, 0};
    m.stamp = "1.5s";
    EXPECT(CLI_OUT_PRETTY, &m, "[#42] Received on \"foo\" @ 1.5s\nx\n\n");
}

static void
test_pretty_headers(void **state)
{
    (void)state;
    struct cli_out_msg m = {.subject = NP_STR_LIT("s"),
                            .headers = NP_STR_LIT(HDRS),
                            .data = NP_STR_LIT("body"),
                            .count = 3};
    EXPECT(CLI_OUT_PRETTY, &m,
           "[#3] Received on \"s\"\nStatus: 503\nDescription: No Responders\nA: 1\nB: x y\nA: 2\n"
           "\nbody\n\n");
    EXPECT_HDRS(CLI_OUT_PRETTY, &m,
                "[#3] Received on \"s\"\nStatus: 503\nDescription: No Responders\nA: 1\nB: x y\n"
                "A: 2\n\n");
    m.headers = NP_STR_LIT("NATS/1.0 503\r\n\r\n");
    EXPECT(CLI_OUT_PRETTY, &m, "[#3] Received on \"s\"\nStatus: 503\n\nbody\n\n");
    /* An empty block and a malformed one add nothing, not even the blank line. */
    m.headers = NP_STR_LIT("NATS/1.0\r\n\r\n");
    EXPECT(CLI_OUT_PRETTY, &m, "[#3] Received on \"s\"\nbody\n\n");
    m.headers = NP_STR_LIT("HTTP/1.1\r\nA: 1\r\n\r\n");
    EXPECT(CLI_OUT_PRETTY, &m, "[#3] Received on \"s\"\nbody\n\n");
}

static void
test_pretty_quoting(void **state)
{
    (void)state;
    struct cli_out_msg m = {.subject = NP_STR_LIT("a\"b\\c\td\x01\x7f"), .count = 1};
    EXPECT(CLI_OUT_PRETTY, &m, "[#1] Received on \"a\\\"b\\\\c\\td\\x01\\x7f\"\n\n\n");
}

/* Escapes what would drive a terminal; keeps newlines, tabs and printable UTF-8. */
static void
test_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain text\n\twith tab", "plain text\n\twith tab"},
        {"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
         "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"\x1b[2J", "\\x1b[2J"},
        {"\x1b]0;title\x07", "\\x1b]0;title\\x07"},
        {"cr\rdel\x7f nul", "cr\\rdel\\x7f nul"},
        {"c1 \xc2\x9b \xc2\x80 nbsp \xc2\xa0", "c1 \\u009b \\u0080 nbsp \xc2\xa0"},
        {"bad \xff \xc3 \xe2\x82 \xed\xa0\x80", "bad \\xff \\xc3 \\xe2\\x82 \\xed\\xa0\\x80"},
        {"\x9b", "\\x9b"},
    };
    struct np_buf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool same = strcmp(cases[i].in, cases[i].want) == 0;
        assert_int_equal(cli_out_needs_escape(cases[i].in, strlen(cases[i].in)), !same);
        b.len = 0;
        assert_int_equal(cli_out_escape(&b, cases[i].in, strlen(cases[i].in)), 0);
        assert_int_equal(b.len, strlen(cases[i].want));
        assert_memory_equal(b.ptr, cases[i].want, b.len);
    }
    b.len = 0;
    assert_int_equal(cli_out_escape(&b, "a\0b", 3), 0);
    assert_memory_equal(b.ptr, "a\\x00b", 6);
    assert_false(cli_out_needs_escape(NULL, 0));
    np_buf_release(&b);
}

/* Pretty output escapes headers and bodies; raw output to a non-terminal does not. */
static void
test_escape_modes(void **state)
{
    (void)state;
    struct cli_out_msg m = {.subject = NP_STR_LIT("s\xff"),
                            .headers = NP_STR_LIT("NATS/1.0\r\nK\x1b: v\x07\r\n\r\n"),
                            .data = NP_STR_LIT("a\x1b[2Jb\n"),
                            .count = 1};
    EXPECT(CLI_OUT_PRETTY, &m, "[#1] Received on \"s\\xff\"\nK\\x1b: v\\x07\n\na\\x1b[2Jb\n\n");
    EXPECT(CLI_OUT_RAW, &m, "a\x1b[2Jb\n\n");
    EXPECT(CLI_OUT_SUBJECTS, &m, "s\xff\n");
}

static void
test_raw_and_subjects(void **state)
{
    (void)state;
    struct cli_out_msg m = {.subject = NP_STR_LIT("a.b"),
                            .reply = NP_STR_LIT("r"),
                            .headers = NP_STR_LIT(HDRS),
                            .data = NP_STR_LIT("bin\0ary\n"),
                            .count = 1};
    EXPECT(CLI_OUT_RAW, &m, "bin\0ary\n\n");
    EXPECT(CLI_OUT_SUBJECTS, &m, "a.b\n");
    m.data = (struct np_str){NULL, 0};
    EXPECT(CLI_OUT_RAW, &m, "\n");
}

static void
test_json(void **state)
{
    (void)state;
    struct cli_out_msg m = {.subject = NP_STR_LIT("foo"), .data = NP_STR_LIT("hi"), .ts = TS};
    EXPECT(
        CLI_OUT_JSON, &m,
        "{\"subject\":\"foo\",\"data\":\"hi\",\"size\":2,\"ts\":\"2024-03-05T14:07:09.12345Z\"}\n");
    m.reply = NP_STR_LIT("_INBOX.1");
    m.headers = NP_STR_LIT(HDRS);
    m.data = NP_STR_LIT("caf\xc3\xa9 \"q\"\n");
    EXPECT(CLI_OUT_JSON, &m,
           "{\"subject\":\"foo\",\"reply\":\"_INBOX.1\",\"status\":503,\"description\":\"No "
           "Responders\",\"headers\":{\"A\":[\"1\",\"2\"],\"B\":[\"x y\"]},\"data\":\"caf\xc3\xa9 "
           "\\\"q\\\"\\n\",\"size\":10,\"ts\":\"2024-03-05T14:07:09.12345Z\"}\n");
    /* Not UTF-8, or holding NUL bytes: base64. An empty block adds no "headers". */
    m.reply = (struct np_str){NULL, 0};
    m.headers = NP_STR_LIT("NATS/1.0\r\n\r\n");
    m.data = NP_STR_LIT("\xff\0a");
    m.ts = (struct timespec){1709647629, 0};
    EXPECT(
        CLI_OUT_JSON, &m,
        "{\"subject\":\"foo\",\"data_b64\":\"/wBh\",\"size\":3,\"ts\":\"2024-03-05T14:07:09Z\"}\n");
    m.data = (struct np_str){NULL, 0};
    EXPECT(CLI_OUT_JSON, &m,
           "{\"subject\":\"foo\",\"data\":\"\",\"size\":0,\"ts\":\"2024-03-05T14:07:09Z\"}\n");
}

static void
test_json_round_trip(void **state)
{
    (void)state;
    static const char body[] = "\xc0\x80 overlong";
    struct cli_out_msg m = {.subject = NP_STR_LIT("x.y"),
                            .reply = NP_STR_LIT("r.1"),
                            .headers = NP_STR_LIT("NATS/1.0\r\nK: v1\r\nK: v2\r\nL: w\r\n\r\n"),
                            .data = {body, sizeof body - 1},
                            .ts = TS};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct cli_out o;
    cli_out_init(&o, f, CLI_OUT_JSON);
    assert_int_equal(cli_out_msg(&o, &m), 0);
    assert_int_equal(cli_out_msg(&o, &m), 0);
    fclose(f);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(strlen(nl + 1), (size_t)(nl + 1 - text));
    *nl = '\0';
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "subject")->valuestring, "x.y");
    assert_string_equal(cJSON_GetObjectItem(j, "reply")->valuestring, "r.1");
    assert_null(cJSON_GetObjectItem(j, "status"));
    assert_null(cJSON_GetObjectItem(j, "data"));
    assert_string_equal(cJSON_GetObjectItem(j, "data_b64")->valuestring, "wIAgb3Zlcmxvbmc=");
    assert_int_equal(cJSON_GetObjectItem(j, "size")->valueint, 11);
    cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "headers"), "K");
    assert_int_equal(cJSON_GetArraySize(k), 2);
    assert_string_equal(cJSON_GetArrayItem(k, 1)->valuestring, "v2");
    cJSON_Delete(j);
    cli_out_release(&o);
    free(text);
}

static struct cli_out_msg
small_msg(void)
{
    return (struct cli_out_msg){.subject = NP_STR_LIT("s"), .data = NP_STR_LIT("d"), .count = 1};
}

static void
test_epipe(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    FILE *f = fdopen(fds[1], "w");
    assert_non_null(f);
    struct cli_out_msg m = small_msg();
    for (int mode = CLI_OUT_PRETTY; mode <= CLI_OUT_SUBJECTS; mode++) {
        struct cli_out o;
        cli_out_init(&o, f, (enum cli_out_mode)mode);
        assert_int_equal(cli_out_msg(&o, &m), -EPIPE);
        cli_out_release(&o);
        clearerr(f);
    }
    fclose(f);
}

static void
test_write_errors(void **state)
{
    (void)state;
    struct cli_out_msg m = small_msg();
    struct cli_out o;
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        cli_out_init(&o, full, CLI_OUT_RAW);
        assert_int_equal(cli_out_msg(&o, &m), -ENOSPC);
        fclose(full);
    }
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    cli_out_init(&o, ro, CLI_OUT_PRETTY);
    assert_int_equal(cli_out_msg(&o, &m), -EBADF);
    cli_out_release(&o);
    fclose(ro);
}

static void
test_utf8(void **state)
{
    (void)state;
    static const char *const good[] = {
        "",
        "abc",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9d\x84\x9e",
        "\xc2\x80",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
    };
    static const char *const bad[] = {
        "\x80",
        "\xbf",
        "\xc0\x80",
        "\xc1\xbf",
        "\xc3",
        "\xc3"
        "a",
        "\xe0\x80\x80",
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xe2\x82",
        "\xe2"
        "a"
        "\xac",
        "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "a\xf0\x9d\x84",
        "\xf0\x9d\x84"
        "a",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(cli_utf8_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cli_utf8_valid(bad[i], strlen(bad[i]))) fail_msg("accepted bad[%zu]", i);
    }
    /* Length is honoured: a valid sequence cut short by len is invalid, NUL is valid UTF-8. */
    assert_false(cli_utf8_valid("\xc3\xa9", 1));
    assert_true(cli_utf8_valid("a\0b", 3));
    assert_true(cli_utf8_valid(NULL, 0));
}

static void
test_time_formats(void **state)
{
    (void)state;
    char buf[64];
    struct timespec ts = {1709647629, 0};
    cli_fmt_rfc3339nano(&ts, buf, sizeof buf);
    assert_string_equal(buf, "2024-03-05T14:07:09Z");
    ts.tv_nsec = 123456789;
    cli_fmt_rfc3339nano(&ts, buf, sizeof buf);
    assert_string_equal(buf, "2024-03-05T14:07:09.123456789Z");
    ts.tv_nsec = 120000000;
    cli_fmt_rfc3339nano(&ts, buf, sizeof buf);
    assert_string_equal(buf, "2024-03-05T14:07:09.12Z");
    ts.tv_nsec = 1;
    cli_fmt_rfc3339nano(&ts, buf, sizeof buf);
    assert_string_equal(buf, "2024-03-05T14:07:09.000000001Z");
    setenv("TZ", "UTC0", 1);
    tzset();
    ts.tv_nsec = 123456789;
    cli_fmt_stamp_micro(&ts, buf, sizeof buf);
    assert_string_equal(buf, "Mar  5 14:07:09.123456");
    ts.tv_sec += 10 * 86400;
    ts.tv_nsec = 5000;
    cli_fmt_stamp_micro(&ts, buf, sizeof buf);
    assert_string_equal(buf, "Mar 15 14:07:09.000005");
}

static void
test_durations(void **state)
{
    (void)state;
    static const struct {
        uint64_t ns;
        const char *want;
    } vec[] = {
        {0, "0s"},
        {999, "999ns"},
        {1000, "1µs"},
        {1500, "1.5µs"},
        {1000000, "1ms"},
        {1234567, "1.234567ms"},
        {350000000, "350ms"},
        {1000000000, "1s"},
        {1500000000, "1.5s"},
        {59999999999ULL, "59.999999999s"},
        {90000000000ULL, "1m30s"},
        {3600000000000ULL, "1h0m0s"},
        {3723250000000ULL, "1h2m3.25s"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        cli_fmt_duration(vec[i].ns, buf, sizeof buf);
        assert_string_equal(buf, vec[i].want);
    }
    cli_fmt_duration(3723250000000ULL, buf, 4);
    assert_string_equal(buf, "1h2");
}

static void
test_fd_checks(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_false(cli_fd_is_tty(fds[0]));
    assert_true(cli_fd_is_data(fds[0]));
    assert_int_equal(cli_out_pick(false, false, false, fds[1]), CLI_OUT_RAW);
    close(fds[0]);
    close(fds[1]);
    FILE *tmp = tmpfile();
    assert_true(cli_fd_is_data(fileno(tmp)));
    fclose(tmp);
    int null = open("/dev/null", O_RDONLY);
    assert_false(cli_fd_is_data(null));
    assert_false(cli_fd_is_tty(null));
    close(null);
    assert_false(cli_fd_is_data(-1));
    assert_false(cli_fd_is_tty(-1));
    assert_int_equal(cli_out_pick(true, true, true, -1), CLI_OUT_JSON);
    assert_int_equal(cli_out_pick(false, true, true, -1), CLI_OUT_RAW);
    assert_int_equal(cli_out_pick(false, false, true, -1), CLI_OUT_PRETTY);
}

/* A pseudo-terminal stands in for the user's terminal, so this runs under CI too. */
static void
test_tty(void **state)
{
    (void)state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int tty = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(tty >= 0);
    assert_true(cli_fd_is_tty(tty));
    assert_false(cli_fd_is_data(tty));
    assert_int_equal(cli_out_pick(false, false, false, tty), CLI_OUT_PRETTY);
    assert_int_equal(cli_out_pick(false, true, false, tty), CLI_OUT_RAW);
    close(tty);
    close(master);
}

static void
test_one_format(void **state)
{
    (void)state;
    const char *const names[] = {"--raw", "--json", "--pretty"};
    char msg[128] = "";
    assert_true(cli_out_one_format(3, names, (const bool[]){false, false, false}, msg, sizeof msg));
    assert_true(cli_out_one_format(3, names, (const bool[]){false, true, false}, msg, sizeof msg));
    assert_false(cli_out_one_format(3, names, (const bool[]){true, false, true}, msg, sizeof msg));
    assert_string_equal(msg, "--raw and --pretty cannot be combined: choose one output format");
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pretty),
        cmocka_unit_test(test_pretty_headers),
        cmocka_unit_test(test_pretty_quoting),
        cmocka_unit_test(test_raw_and_subjects),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_epipe),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_fd_checks),
        cmocka_unit_test(test_tty),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_modes),
        cmocka_unit_test(test_one_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
