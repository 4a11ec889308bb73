/*
 * Server URL parsing and redaction for the client connection (libproto/np_client.c), and the
 * parts of the client that need no network: error texts, inboxes, refusals before connecting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "np_client.h"

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
expect_bad(const char *text)
{
    struct np_url u;
    int rc = np_url_parse(&u, text);
    if (rc != NP_CLIENT_EBAD_URL) fail_msg("'%s' gave %d, not EBAD_URL", text, rc);
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
    expect_bad(NULL);
    expect_bad("");
    expect_bad("nats://");
    expect_bad("tls://h:4222");
    expect_bad("http://h");
    expect_bad("nats://h:0");
    expect_bad("nats://h:65536");
    expect_bad("nats://h:");
    expect_bad("nats://h:12a");
    expect_bad("nats://:4222");
    expect_bad("::1");
    expect_bad("[::1");
    expect_bad("[::1]x");
    expect_bad("[]:4222");
    expect_bad("[host]:4222");
    expect_bad("nats://h/path");
    expect_bad("nats://u%zz@h");
    expect_bad("nats://u%4@h");
    expect_bad("nats://h o");
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

static void
test_strerror(void **state)
{
    (void)state;
    assert_string_equal(np_client_strerror(0), "success");
    assert_string_equal(np_client_strerror(NP_CLIENT_EAUTH), "authorization violation");
    assert_string_equal(np_client_strerror(NP_CLIENT_ENO_RESPONDERS), "no responders");
    assert_string_equal(np_client_strerror(NP_ESUBJECT), "invalid subject");
    assert_string_equal(np_client_strerror(UV_ECONNREFUSED), uv_strerror(UV_ECONNREFUSED));
}

static void
on_closed(struct np_client *c, int status, void *ud)
{
    (void)c;
    *(int *)ud = status + 1;
}

static void
ignore_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    (void)c;
    (void)m;
    (void)ud;
}

/* Everything a client refuses before it has a connection, and a clean close without one. */
static void
test_offline(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct np_client *c;
    struct np_client_opts o = {.servers = "nats://h:1,tls://h:2"};
    assert_int_equal(np_client_new(&c, &loop, &o), 0);
    assert_int_equal(np_client_connect(c, NULL, NULL), NP_CLIENT_EBAD_URL);
    assert_null(np_client_info(c));
    assert_string_equal(np_client_last_error(c), "");

    char inbox[30], inbox2[30];
    np_client_new_inbox(c, inbox, sizeof inbox);
    np_client_new_inbox(c, inbox2, sizeof inbox2);
    assert_int_equal(strlen(inbox), 29);
    assert_memory_equal(inbox, "_INBOX.", 7);
    assert_string_not_equal(inbox, inbox2);
    np_client_new_inbox(c, inbox2, 29);
    assert_string_equal(inbox2, "");

    struct np_str none = {NULL, 0};
    assert_int_equal(np_client_publish(c, "a.*", NULL, none, none), NP_ESUBJECT);
    assert_int_equal(np_client_publish(c, "a..b", NULL, none, none), NP_ESUBJECT);
    static char big[NP_MAX_PAYLOAD + 1];
    struct np_str bigs = {big, sizeof big};
    assert_int_equal(np_client_publish(c, "a", NULL, none, bigs), NP_CLIENT_EMAX_PAYLOAD);
    assert_int_equal(np_client_subscribe(c, "a..b", NULL, 0, ignore_msg, NULL), NP_ESUBJECT);
    int64_t sid = np_client_subscribe(c, "a.>", "q", 0, ignore_msg, NULL);
    assert_int_equal(sid, 1);
    assert_int_equal(np_client_subscribe(c, "b", NULL, 2, ignore_msg, NULL), 2);
    assert_int_equal(np_client_unsubscribe(c, sid), 0);
    assert_int_equal(np_client_unsubscribe(c, sid), NP_EINVAL);

    int closed = 0;
    np_client_close(c, on_closed, &closed);
    np_client_close(c, on_closed, &closed);
    assert_int_equal(np_client_publish(c, "a", NULL, none, none), NP_CLIENT_ECLOSED);
    assert_int_equal(closed, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_forms),  cmocka_unit_test(test_url_userinfo),
        cmocka_unit_test(test_url_errors), cmocka_unit_test(test_redact),
        cmocka_unit_test(test_strerror),   cmocka_unit_test(test_offline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
