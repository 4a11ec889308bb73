/*
 * Authentication, against servers started with --auth TOKEN or --user U --pass P (the secrets come
 * from run.sh). Right credentials, from options or embedded in the URL, give a working connection;
 * wrong or missing ones are refused with the status libnats derives from the server's
 * -ERR 'Authorization Violation', checked on the wire as well.
 */
#include "interop.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Proves the connection is really usable, not just accepted. */
static void
expect_working(natsConnection *nc)
{
    natsSubscription *sub = interop_subscribe(nc, "auth.check");
    assert_status(natsConnection_PublishString(nc, "auth.check", "inside"), NATS_OK);
    interop_expect_msg(sub, "auth.check", "inside");
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

static void
expect_refused(natsOptions *opts)
{
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    natsStatus last_status = NATS_OK;
    const char *text = nats_GetLastError(&last_status);
    char last[256];
    snprintf(last, sizeof(last), "%s", text != NULL ? text : "");
    if (nc != NULL) natsConnection_Destroy(nc);
    assert_null(nc);
    assert_status(s, NATS_CONNECTION_AUTH_FAILED);
    assert_non_null(strstr(last, "Authorization Violation"));
}

/* Options for interop_env.url with userinfo inserted after the scheme. */
static natsOptions *
opts_with_userinfo(const char *userinfo)
{
    const char *rest = strstr(interop_env.url, "://");
    assert_non_null(rest);
    char url[512];
    snprintf(url, sizeof(url), "nats://%s@%s", userinfo, rest + 3);
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetURL(opts, url), NATS_OK);
    return opts;
}

/* A raw CONNECT with these credential fields gets exactly the refusal and a close. */
static void
expect_wire_refusal(const char *fields)
{
    int fd = interop_raw_open(0);
    char connect[512];
    snprintf(connect, sizeof(connect), "CONNECT {\"verbose\":false%s}\r\nPING\r\n", fields);
    interop_raw_send(fd, connect);
    char buf[256];
    int eof = 0;
    interop_raw_read(fd, buf, sizeof(buf), NULL, 3000, &eof);
    close(fd);
    assert_string_equal(buf, "-ERR 'Authorization Violation'\r\n");
    assert_int_equal(eof, 1);
}

static void
test_token_accepted(void **state)
{
    (void)state;
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetToken(opts, interop_env.token), NATS_OK);
    expect_working(interop_connect_opts(opts));
    expect_working(interop_connect_opts(opts_with_userinfo(interop_env.token)));
}

static void
test_token_refused(void **state)
{
    (void)state;
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetToken(opts, "not-the-token"), NATS_OK);
    expect_refused(opts);
    expect_refused(interop_opts());
    expect_refused(opts_with_userinfo("not-the-token"));
    expect_wire_refusal(",\"auth_token\":\"not-the-token\"");
    expect_wire_refusal("");
}

static void
test_userpass_accepted(void **state)
{
    (void)state;
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetUserInfo(opts, interop_env.user, interop_env.pass), NATS_OK);
    expect_working(interop_connect_opts(opts));
    char userinfo[256];
    snprintf(userinfo, sizeof(userinfo), "%s:%s", interop_env.user, interop_env.pass);
    expect_working(interop_connect_opts(opts_with_userinfo(userinfo)));
}

static void
test_userpass_refused(void **state)
{
    (void)state;
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetUserInfo(opts, interop_env.user, "wrong-pass"), NATS_OK);
    expect_refused(opts);
    opts = interop_opts();
    assert_status(natsOptions_SetUserInfo(opts, "nobody", interop_env.pass), NATS_OK);
    expect_refused(opts);
    expect_refused(interop_opts());
    char fields[256];
    snprintf(fields, sizeof(fields), ",\"user\":\"%s\",\"pass\":\"wrong-pass\"", interop_env.user);
    expect_wire_refusal(fields);
    expect_wire_refusal("");
}

static int
need_token(void **state)
{
    (void)state;
    return interop_env.token != NULL ? 0 : -1;
}

static int
need_userpass(void **state)
{
    (void)state;
    return interop_env.user != NULL && interop_env.pass != NULL ? 0 : -1;
}

int
interop_run_token(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_accepted),
        cmocka_unit_test(test_token_refused),
    };
    return cmocka_run_group_tests_name("token", tests, need_token, NULL);
}

int
interop_run_userpass(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_userpass_accepted),
        cmocka_unit_test(test_userpass_refused),
    };
    return cmocka_run_group_tests_name("userpass", tests, need_userpass, NULL);
}
