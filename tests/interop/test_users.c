/*
 * Users and permissions through libnats, against a server started from users.conf (run.sh writes
 * it; the same file for natsctl and nats-server): passwords in plain text and bcrypt, no_auth_user,
 * and how a client library sees permission errors: an asynchronous NATS_NOT_PERMITTED with the
 * server's text, the connection staying up, and request-reply through allow_responses; and an nkey
 * user, whom libnats authenticates by signing the INFO nonce with natsOptions_SetNKeyFromSeed().
 */
#include "interop.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOB_HASH "$2a$04$natsctlnatsctlnatsctluLJyx4YQDvLhPv5AbG0pl85Ji3Ev5zTq" /* s3cret */
/* The nkey user of users.conf, whose seed is in the file INTEROP_NKEY_SEED, and another key. */
#define NKEY  "UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL"
#define NKEY2 "UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3"

/* What the asynchronous error handler saw last. */
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static natsStatus err_status;
static char err_text[512];
static int err_count;

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)sub;
    (void)closure;
    const char *text = NULL;
    natsConnection_GetLastError(nc, &text);
    pthread_mutex_lock(&err_mu);
    err_status = err;
    snprintf(err_text, sizeof(err_text), "%s", text != NULL ? text : "");
    err_count++;
    pthread_mutex_unlock(&err_mu);
}

/* Options for user:pass (user NULL: no credentials), with the error handler above. */
static natsOptions *
user_opts(const char *user, const char *pass)
{
    natsOptions *opts = interop_opts();
    if (user != NULL) assert_status(natsOptions_SetUserInfo(opts, user, pass), NATS_OK);
    assert_status(natsOptions_SetErrorHandler(opts, on_error, NULL), NATS_OK);
    return opts;
}

static natsConnection *
connect_as(const char *user, const char *pass)
{
    pthread_mutex_lock(&err_mu);
    err_count = 0;
    err_text[0] = '\0';
    pthread_mutex_unlock(&err_mu);
    return interop_connect_opts(user_opts(user, pass));
}

/* Waits (2 s at most) for the error handler's next call and checks the text it saw. */
static void
expect_async_error(int before, const char *text)
{
    int64_t deadline = interop_now_ms() + 2000;
    for (;;) {
        pthread_mutex_lock(&err_mu);
        int n = err_count;
        natsStatus s = err_status;
        char seen[512];
        snprintf(seen, sizeof(seen), "%s", err_text);
        pthread_mutex_unlock(&err_mu);
        if (n > before) {
            assert_status(s, NATS_NOT_PERMITTED);
            if (strstr(seen, text) == NULL) fail_msg("error \"%s\" lacks \"%s\"", seen, text);
            return;
        }
        if (interop_now_ms() > deadline) fail_msg("no asynchronous error \"%s\"", text);
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int
errors_so_far(void)
{
    pthread_mutex_lock(&err_mu);
    int n = err_count;
    pthread_mutex_unlock(&err_mu);
    return n;
}

static void
expect_refused(const char *user, const char *pass)
{
    natsConnection *nc = NULL;
    natsOptions *opts = user_opts(user, pass);
    natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (nc != NULL) natsConnection_Destroy(nc);
    assert_status(s, NATS_CONNECTION_AUTH_FAILED);
}

/* Proves a connection can publish to and receive on subject. */
static void
expect_roundtrip(natsConnection *nc, const char *subject)
{
    natsSubscription *sub = interop_subscribe(nc, subject);
    assert_status(natsConnection_PublishString(nc, subject, "hi"), NATS_OK);
    interop_expect_msg(sub, subject, "hi");
    natsSubscription_Destroy(sub);
}

static void
test_passwords(void **state)
{
    (void)state;
    natsConnection *nc = connect_as("alice", "alice-pw");
    expect_roundtrip(nc, "anything.at.all");
    natsConnection_Destroy(nc);
    nc = connect_as("bob", "s3cret");
    expect_roundtrip(nc, "bob.too");
    natsConnection_Destroy(nc);
    expect_refused("alice", "nope");
    expect_refused("bob", "s3cret!");
    expect_refused("bob", BOB_HASH);
    expect_refused("mallory", "alice-pw");
}

static void
test_no_auth_user(void **state)
{
    (void)state;
    natsConnection *nc = connect_as(NULL, NULL);
    expect_roundtrip(nc, "public.news");
    int before = errors_so_far();
    assert_status(natsConnection_PublishString(nc, "private.news", "x"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    expect_async_error(before, "Permissions Violation for Publish to \"private.news\"");
    before = errors_so_far();
    natsSubscription *sub = NULL;
    assert_status(natsConnection_SubscribeSync(&sub, nc, "private.>"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    expect_async_error(before, "Permissions Violation for Subscription to \"private.>\"");
    natsSubscription_Destroy(sub);
    /* the connection stays and keeps working */
    assert_true(natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED);
    expect_roundtrip(nc, "public.more");
    natsConnection_Destroy(nc);
}

/* The service: answers every request on svc.echo once, then tries a second answer. */
static void
on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    const char *reply = natsMsg_GetReply(msg);
    if (reply != NULL) {
        natsConnection_PublishString(nc, reply, "pong");
        natsConnection_PublishString(nc, reply, "again");
    }
    natsMsg_Destroy(msg);
}

static void
test_allow_responses(void **state)
{
    (void)state;
    natsConnection *svc = connect_as("svc", "svc-pw");
    natsSubscription *ssub = NULL;
    assert_status(natsConnection_Subscribe(&ssub, svc, "svc.echo", on_request, NULL), NATS_OK);
    assert_status(natsConnection_FlushTimeout(svc, 2000), NATS_OK);
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetUserInfo(opts, "alice", "alice-pw"), NATS_OK);
    natsConnection *cli = interop_connect_opts(opts);
    int before = errors_so_far();
    natsMsg *reply = NULL;
    assert_status(natsConnection_RequestString(&reply, cli, "svc.echo", "ping", 2000), NATS_OK);
    assert_string_equal(natsMsg_GetData(reply), "pong");
    natsMsg_Destroy(reply);
    /* one answer per request (allow_responses: true), so the second is refused */
    expect_async_error(before, "Permissions Violation for Publish to \"_INBOX.");
    before = errors_so_far();
    assert_status(natsConnection_PublishString(svc, "svc.echo", "not a reply"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(svc, 2000), NATS_OK);
    expect_async_error(before, "Permissions Violation for Publish to \"svc.echo\"");
    natsSubscription_Destroy(ssub);
    natsConnection_Destroy(cli);
    natsConnection_Destroy(svc);
}

static void
test_deny_filter_and_queues(void **state)
{
    (void)state;
    natsConnection *svc = connect_as("svc", "svc-pw");
    natsSubscription *all = interop_subscribe(svc, "svc.>");
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetUserInfo(opts, "alice", "alice-pw"), NATS_OK);
    natsConnection *pub = interop_connect_opts(opts);
    assert_status(natsConnection_PublishString(pub, "svc.private", "secret"), NATS_OK);
    assert_status(natsConnection_PublishString(pub, "svc.open", "hello"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(pub, 2000), NATS_OK);
    interop_expect_msg(all, "svc.open", "hello");
    interop_expect_none(all, 200);
    natsSubscription_Destroy(all);
    natsConnection_Destroy(svc);
    /* a worker may join the queue group its entry names, and no other */
    natsConnection *worker = connect_as("worker", "worker-pw");
    natsSubscription *q = NULL;
    assert_status(natsConnection_QueueSubscribeSync(&q, worker, "jobs", "workers"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(worker, 2000), NATS_OK);
    int before = errors_so_far();
    natsSubscription *other = NULL;
    assert_status(natsConnection_QueueSubscribeSync(&other, worker, "jobs", "others"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(worker, 2000), NATS_OK);
    expect_async_error(before,
                       "Permissions Violation for Subscription to \"jobs\" using queue \"others\"");
    assert_status(natsConnection_PublishString(pub, "jobs", "job-1"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(pub, 2000), NATS_OK);
    interop_expect_msg(q, "jobs", "job-1");
    natsSubscription_Destroy(other);
    natsSubscription_Destroy(q);
    natsConnection_Destroy(worker);
    natsConnection_Destroy(pub);
}

static natsOptions *
nkey_opts(const char *pub)
{
    const char *seed = getenv("INTEROP_NKEY_SEED");
    if (seed == NULL) fail_msg("INTEROP_NKEY_SEED is not set");
    natsOptions *opts = user_opts(NULL, NULL);
    assert_status(natsOptions_SetNKeyFromSeed(opts, pub, seed), NATS_OK);
    return opts;
}

static void
test_nkey(void **state)
{
    (void)state;
    natsConnection *nc = interop_connect_opts(nkey_opts(NKEY));
    expect_roundtrip(nc, "nk.hello");
    /* the nkey user's permissions hold */
    int before = errors_so_far();
    assert_status(natsConnection_PublishString(nc, "other", "x"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    expect_async_error(before, "Permissions Violation for Publish to \"other\"");
    natsConnection_Destroy(nc);
    /* a key whose seed did not sign the nonce is refused */
    natsConnection *bad = NULL;
    natsOptions *opts = nkey_opts(NKEY2);
    natsStatus s = natsConnection_Connect(&bad, opts);
    natsOptions_Destroy(opts);
    if (bad != NULL) natsConnection_Destroy(bad);
    assert_status(s, NATS_CONNECTION_AUTH_FAILED);
}

int
interop_run_users(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_no_auth_user),
        cmocka_unit_test(test_allow_responses),
        cmocka_unit_test(test_deny_filter_and_queues),
        cmocka_unit_test(test_nkey),
    };
    return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
