/*
 * Server URL parsing and redaction (libproto/np_url.c): the accepted forms, userinfo, and each
 * refusal with the code that says what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "np_url.h"

static void
expect_url(const char *text, const char *host, int port, const char *user, const char *pass)
{
    struct np_url u;
    int rc = np_url_parse(&u, text);
    if (rc != 0) fail_msg("'%s' refused: %d", text, rc);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    if (user)
        assert_string_equal(u.user, user);
    else
        assert_null(u.user);
    if (pass)
        assert_string_equal(u.pass, pass);
    else
        assert_null(u.pass);
    np_url_release(&u);
    assert_null(u.host);
}

static void
expect_bad(const char *text, int want)
{
    struct np_url u;
    int rc = np_url_parse(&u, text);
    if (rc != want) fail_msg("'%s' gave %s, not %s", text, np_errname(rc), np_errname(want));
    assert_true(np_err_is_url(rc));
    assert_null(u.host);
    assert_null(u.user);
    assert_null(u.pass);
}

static void
test_url_forms(void **state)
{
    (void)state;
    expect_url("nats://127.0.0.1:4333", "127.0.0.1", 4333, NULL, NULL);
    expect_url("nats://example.com", "example.com", 4222, NULL, NULL);
    expect_url("NATS://example.com:1/", "example.com", 1, NULL, NULL);
    expect_url("localhost", "localhost", 4222, NULL, NULL);
    expect_url("host:65535", "host", 65535, NULL, NULL);
    expect_url("  nats://h:5  ", "h", 5, NULL, NULL);
    expect_url("[::1]:4223", "::1", 4223, NULL, NULL);
    expect_url("nats://[fe80::1]", "fe80::1", 4222, NULL, NULL);
    expect_url("tls://alice:pw@h:4443", "h", 4443, "alice", "pw");
}

/* tls:// asks for TLS; nats:// and a bare address leave it to the server's INFO. */
static void
test_url_tls(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool tls;
    } cases[] = {{"tls://h", true},
                 {"TLS://h:1", true},
                 {"nats://h", false},
                 {"h:4222", false},
                 {" tls://[::1]", true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct np_url u;
        assert_int_equal(np_url_parse(&u, cases[i].text), 0);
        if (u.tls != cases[i].tls) fail_msg("'%s': tls is %d", cases[i].text, u.tls);
        np_url_release(&u);
    }
}

static void
test_url_userinfo(void **state)
{
    (void)state;
    expect_url("nats://alice:s3cret@h:1", "h", 1, "alice", "s3cret");
    expect_url("nats://tok@h", "h", 4222, NULL, "tok");
    expect_url("nats://:tok@h", "h", 4222, NULL, "tok");
    expect_url("nats://bob:@h", "h", 4222, "bob", "");
    expect_url("nats://a%40b:p%3Aw%25@h", "h", 4222, "a@b", "p:w%");
    expect_url("nats://u:p@ss@h", "h", 4222, "u", "p@ss");
    expect_url("nats://u:p@[::1]:9", "::1", 9, "u", "p");
}

static void
test_url_errors(void **state)
{
    (void)state;
    expect_bad(NULL, NP_EURL);
    expect_bad("", NP_EURL_HOST);
    expect_bad("nats://", NP_EURL_HOST);
    expect_bad("tlss://h:4222", NP_EURL_SCHEME);
    expect_bad("http://h", NP_EURL_SCHEME);
    expect_bad("nats://h:0", NP_EURL_PORT_RANGE);
    expect_bad("nats://h:65536", NP_EURL_PORT_RANGE);
    expect_bad("nats://h:70000", NP_EURL_PORT_RANGE);
    expect_bad("nats://h:99999999999999999999999", NP_EURL_PORT_RANGE);
    expect_bad("nats://h:", NP_EURL_PORT);
    expect_bad("nats://h:12a", NP_EURL_PORT);
    expect_bad("nats://h:-1", NP_EURL_PORT);
    expect_bad("nats://:4222", NP_EURL_HOST);
    expect_bad("::1", NP_EURL_HOST);
    expect_bad("[::1", NP_EURL_HOST);
    expect_bad("[::1]x", NP_EURL);
    expect_bad("[]:4222", NP_EURL_HOST);
    expect_bad("[host]:4222", NP_EURL_HOST);
    expect_bad("nats://h/path", NP_EURL_PATH);
    expect_bad("nats://u%zz@h", NP_EURL_ESCAPE);
    expect_bad("nats://u%4@h", NP_EURL_ESCAPE);
    expect_bad("nats://h o", NP_EURL_HOST);
}

/* Every code has its own text, and the port's says what the range is. */
static void
test_url_error_texts(void **state)
{
    (void)state;
    assert_string_equal(np_strerror(NP_EURL_PORT_RANGE), "port out of range (1-65535)");
    assert_string_equal(np_strerror(NP_EURL_SCHEME),
                        "unsupported URL scheme: only nats:// is supported");
    for (int e = NP_EURL; e <= NP_EURL_ROUTE_PORT; e++)
        assert_string_not_equal(np_strerror(e), "unknown error");
    assert_false(np_err_is_url(NP_EINVAL));
    assert_false(np_err_is_url(0));
}

/* Route URLs take nats-route:// too, always name their port, and carry the cluster credentials. */
static void
test_url_route(void **state)
{
    (void)state;
    struct np_url u;
    assert_int_equal(np_url_parse_route(&u, "nats-route://ruser:T0p@127.0.0.1:6222/"), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6222);
    assert_string_equal(u.user, "ruser");
    assert_string_equal(u.pass, "T0p");
    np_url_release(&u);
    assert_int_equal(np_url_parse_route(&u, "NATS://[::1]:7000"), 0);
    assert_string_equal(u.host, "::1");
    np_url_release(&u);
    assert_int_equal(np_url_parse_route(&u, "nats-route://h"), NP_EURL_ROUTE_PORT);
    assert_int_equal(np_url_parse_route(&u, "tls://h:6222"), 0);
    np_url_release(&u);
    assert_int_equal(np_url_parse_route(&u, "http://h:6222"), NP_EURL_ROUTE_SCHEME);
    assert_int_equal(np_url_parse(&u, "nats-route://h:6222"), NP_EURL_SCHEME);
    assert_true(np_err_is_url(NP_EURL_ROUTE_PORT));
}

static void
expect_redacted(const char *text, const char *want)
{
    char out[128];
    np_url_redact(text, out, sizeof out);
    assert_string_equal(out, want);
}

static void
test_redact(void **state)
{
    (void)state;
    expect_redacted("nats://alice:s3cret@h:1", "nats://alice:***@h:1");
    expect_redacted("nats://tok@h", "nats://***@h");
    expect_redacted("nats://h:4222", "nats://h:4222");
    expect_redacted("a:b@h1,nats://t@h2,h3", "a:***@h1,nats://***@h2,h3");
    expect_redacted("u:p@ss@h", "u:***@h");
    expect_redacted("", "");
    char small[8];
    np_url_redact("nats://u:p@host", small, sizeof small);
    assert_string_equal(small, "nats://");
    np_url_redact("x", small, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_forms),       cmocka_unit_test(test_url_userinfo),
        cmocka_unit_test(test_url_tls),         cmocka_unit_test(test_url_errors),
        cmocka_unit_test(test_url_error_texts), cmocka_unit_test(test_url_route),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
