/*
 * The parts of the client connection (libproto/client/) that need no network: error texts,
 * inboxes, refusals before connecting, and a clean close without a connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "np_client.h"

static void
test_strerror(void **state)
{
    (void)state;
    assert_string_equal(np_client_strerror(0), "success");
    assert_string_equal(np_client_strerror(NP_CLIENT_EAUTH), "authorization violation");
    assert_string_equal(np_client_strerror(NP_CLIENT_ENO_RESPONDERS), "no responders");
    assert_string_equal(np_client_strerror(NP_ESUBJECT), "invalid subject");
    assert_string_equal(np_client_strerror(UV_ECONNREFUSED), uv_strerror(UV_ECONNREFUSED));
    assert_string_equal(np_client_strerror(NP_EURL_PORT_RANGE), "port out of range (1-65535)");
    /* A name that does not resolve: libuv's resolver codes, not the C library's strerror. */
    assert_string_equal(np_client_strerror(UV_EAI_NONAME), uv_strerror(UV_EAI_NONAME));
    assert_string_equal(np_client_strerror(UV_EAI_AGAIN), uv_strerror(UV_EAI_AGAIN));
    assert_string_equal(np_client_strerror(-123456), "unrecognised error code");
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
    struct np_client_opts o = {.servers = "nats://h:1,ws://h:2"};
    assert_int_equal(np_client_new(&c, &loop, &o), 0);
    assert_int_equal(np_client_connect(c, NULL, NULL), NP_EURL_SCHEME);
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
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_offline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
