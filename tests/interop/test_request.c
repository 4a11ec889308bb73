/*
 * Request-reply through libnats with a responder on a second connection, in both inbox styles, and
 * the server's no-responders status. The responder runs on libnats' delivery thread, so it only
 * records what it saw under a mutex; all assertions stay on the test thread, as cmocka requires.
 */
#include "interop.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define REQUESTS 5

struct responder {
    pthread_mutex_t lock;
    int count;                       /* requests answered */
    char replies[REQUESTS + 1][128]; /* reply subjects in arrival order, the first few */
};

static void
on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    struct responder *r = closure;
    char answer[160];
    snprintf(answer, sizeof(answer), "re:%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
    const char *reply = natsMsg_GetReply(msg);
    pthread_mutex_lock(&r->lock);
    if (r->count <= REQUESTS)
        snprintf(r->replies[r->count], sizeof(r->replies[0]), "%s", reply != NULL ? reply : "");
    r->count++;
    pthread_mutex_unlock(&r->lock);
    if (reply != NULL) natsConnection_PublishString(nc, reply, answer);
    natsMsg_Destroy(msg);
}

/* Number of dot-separated tokens in a subject. */
static int
tokens(const char *subject)
{
    int n = 1;
    for (const char *p = subject; *p != '\0'; p++)
        n += *p == '.';
    return n;
}

/* Subject without its last token, so muxed inboxes of one connection compare equal. */
static void
inbox_prefix(const char *subject, char *out, size_t cap)
{
    const char *dot = strrchr(subject, '.');
    size_t len = dot != NULL ? (size_t)(dot - subject) : strlen(subject);
    snprintf(out, cap, "%.*s", (int)len, subject);
}

/*
 * Sends REQUESTS requests from a connection built with opts to a responder on another connection,
 * checks every answer, and returns how many requests the responder saw; the reply subjects it saw
 * are left in r.
 */
static int
run_requests(natsOptions *opts, struct responder *r)
{
    natsConnection *resp_nc = interop_connect();
    natsSubscription *resp = NULL;
    assert_status(natsConnection_Subscribe(&resp, resp_nc, "svc.echo", on_request, r), NATS_OK);
    assert_status(natsConnection_FlushTimeout(resp_nc, 2000), NATS_OK);
    natsConnection *nc = interop_connect_opts(opts);
    for (int i = 0; i < REQUESTS; i++) {
        char data[32];
        char want[40];
        snprintf(data, sizeof(data), "ping-%d", i);
        snprintf(want, sizeof(want), "re:ping-%d", i);
        natsMsg *reply = NULL;
        assert_status(natsConnection_RequestString(&reply, nc, "svc.echo", data, 2000), NATS_OK);
        char got[64];
        snprintf(got, sizeof(got), "%.*s", natsMsg_GetDataLength(reply), natsMsg_GetData(reply));
        natsMsg_Destroy(reply);
        assert_string_equal(got, want);
    }
    natsConnection_Destroy(nc);
    natsSubscription_Destroy(resp);
    natsConnection_Destroy(resp_nc);
    pthread_mutex_lock(&r->lock);
    int count = r->count;
    pthread_mutex_unlock(&r->lock);
    return count;
}

static void
test_request_muxed_inbox(void **state)
{
    (void)state;
    struct responder r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    assert_int_equal(run_requests(interop_opts(), &r), REQUESTS);
    char first[128];
    char second[128];
    inbox_prefix(r.replies[0], first, sizeof(first));
    inbox_prefix(r.replies[1], second, sizeof(second));
    assert_memory_equal(r.replies[0], "_INBOX.", 7);
    assert_int_equal(tokens(r.replies[0]), 3);
    assert_string_equal(first, second);
    assert_string_not_equal(r.replies[0], r.replies[1]);
}

static void
test_request_old_style(void **state)
{
    (void)state;
    struct responder r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_UseOldRequestStyle(opts, true), NATS_OK);
    assert_int_equal(run_requests(opts, &r), REQUESTS);
    assert_memory_equal(r.replies[0], "_INBOX.", 7);
    assert_int_equal(tokens(r.replies[0]), 2);
    assert_string_not_equal(r.replies[0], r.replies[1]);
}

/* The 503 arrives right away, so the request must end long before its 5 s timeout. */
static void
expect_no_responders(natsOptions *opts)
{
    natsConnection *nc = interop_connect_opts(opts);
    natsMsg *reply = NULL;
    int64_t start = interop_now_ms();
    natsStatus s = natsConnection_RequestString(&reply, nc, "nobody.home", "hello", 5000);
    int64_t elapsed = interop_now_ms() - start;
    natsConnection_Destroy(nc);
    assert_null(reply);
    assert_status(s, NATS_NO_RESPONDERS);
    assert_true(elapsed < 1000);
}

static void
test_no_responders(void **state)
{
    (void)state;
    expect_no_responders(interop_opts());
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_UseOldRequestStyle(opts, true), NATS_OK);
    expect_no_responders(opts);
}

/* The exact 503 status message libnats decodes above. */
static void
test_no_responders_wire(void **state)
{
    (void)state;
    int fd = interop_raw_open(0);
    interop_raw_send(fd, "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                         "SUB my.inbox 3\r\nPUB nobody.home my.inbox 2\r\nhi\r\nPING\r\n");
    char buf[256];
    int eof = 0;
    interop_raw_read(fd, buf, sizeof(buf), "PONG\r\n", 2000, &eof);
    close(fd);
    assert_string_equal(buf, "HMSG my.inbox 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n");
    assert_int_equal(eof, 0);
}

int
interop_run_request(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_muxed_inbox),
        cmocka_unit_test(test_request_old_style),
        cmocka_unit_test(test_no_responders),
        cmocka_unit_test(test_no_responders_wire),
    };
    return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
