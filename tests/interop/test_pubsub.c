/*
 * Core delivery through libnats: ordering, wildcard matching, queue-group distribution, headers,
 * auto-unsubscribe and echo suppression. Every test uses its own connections, so subscriptions of
 * one test never see another's traffic. A publisher's flush returning means the server has routed
 * its messages; a subscriber's flush after that means they are in libnats' queue, which is what
 * lets the short "no more messages" waits be decisive.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_roundtrip_in_order(void **state)
{
    (void)state;
    natsConnection *sub_nc = interop_connect();
    natsConnection *pub_nc = interop_connect();
    natsSubscription *sub = interop_subscribe(sub_nc, "rt.subj");
    char data[32];
    for (int i = 0; i < 10; i++) {
        snprintf(data, sizeof(data), "msg-%d", i);
        assert_status(natsConnection_PublishString(pub_nc, "rt.subj", data), NATS_OK);
    }
    assert_status(natsConnection_PublishRequestString(pub_nc, "rt.subj", "rt.reply", "with-reply"),
                  NATS_OK);
    assert_status(natsConnection_Publish(pub_nc, "rt.subj", NULL, 0), NATS_OK);
    assert_status(natsConnection_FlushTimeout(pub_nc, 2000), NATS_OK);
    for (int i = 0; i < 10; i++) {
        snprintf(data, sizeof(data), "msg-%d", i);
        interop_expect_msg(sub, "rt.subj", data);
    }
    natsMsg *msg = NULL;
    assert_status(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    assert_string_equal(natsMsg_GetReply(msg), "rt.reply");
    assert_int_equal(natsMsg_GetDataLength(msg), 10);
    assert_memory_equal(natsMsg_GetData(msg), "with-reply", 10);
    natsMsg_Destroy(msg);
    assert_status(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    assert_int_equal(natsMsg_GetDataLength(msg), 0);
    assert_null(natsMsg_GetReply(msg));
    natsMsg_Destroy(msg);
    interop_expect_none(sub, 100);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub_nc);
    natsConnection_Destroy(sub_nc);
}

/* Published in this order; each wildcard subscription expects the listed subset, in order. */
static const char *const wildcard_subjects[] = {
    "foo",     "foo.bar",  "foo.bar.baz",      "foo.qux.baz",
    "bar.foo", "xfoo.bar", "foo.bar.baz.deep", "foobar.x",
};

static void
expect_subjects(natsSubscription *sub, const char *const *subjects, size_t n)
{
    for (size_t i = 0; i < n; i++)
        interop_expect_msg(sub, subjects[i], subjects[i]);
    interop_expect_none(sub, 100);
}

static void
test_wildcards(void **state)
{
    (void)state;
    natsConnection *nc = interop_connect();
    natsSubscription *star = interop_subscribe(nc, "foo.*");
    natsSubscription *tail = interop_subscribe(nc, "foo.>");
    natsSubscription *lead = interop_subscribe(nc, "*.bar");
    natsSubscription *mid = interop_subscribe(nc, "foo.*.baz");
    size_t n = sizeof(wildcard_subjects) / sizeof(wildcard_subjects[0]);
    for (size_t i = 0; i < n; i++)
        assert_status(natsConnection_PublishString(nc, wildcard_subjects[i], wildcard_subjects[i]),
                      NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);

    static const char *const want_star[] = {"foo.bar"};
    static const char *const want_tail[] = {"foo.bar", "foo.bar.baz", "foo.qux.baz",
                                            "foo.bar.baz.deep"};
    static const char *const want_lead[] = {"foo.bar", "xfoo.bar"};
    static const char *const want_mid[] = {"foo.bar.baz", "foo.qux.baz"};
    expect_subjects(star, want_star, 1);
    expect_subjects(tail, want_tail, 4);
    expect_subjects(lead, want_lead, 2);
    expect_subjects(mid, want_mid, 2);
    natsSubscription_Destroy(star);
    natsSubscription_Destroy(tail);
    natsSubscription_Destroy(lead);
    natsSubscription_Destroy(mid);
    natsConnection_Destroy(nc);
}

#define QUEUE_MEMBERS 3
#define QUEUE_MSGS    300

/*
 * Reads sub until it stays quiet for 200 ms. Counts each payload index into seen and checks that
 * this subscription saw the indexes in publish order. Returns how many messages it read.
 */
static int
drain_indexes(natsSubscription *sub, int *seen)
{
    int count = 0;
    int last = -1;
    natsMsg *msg = NULL;
    natsStatus s;
    while ((s = natsSubscription_NextMsg(&msg, sub, 200)) == NATS_OK) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
        natsMsg_Destroy(msg);
        int idx = atoi(buf);
        assert_in_range(idx, 0, QUEUE_MSGS - 1);
        assert_true(idx > last);
        last = idx;
        seen[idx]++;
        count++;
    }
    assert_status(s, NATS_TIMEOUT);
    return count;
}

/* Publishes the payloads "0" .. QUEUE_MSGS-1 and waits until the server has routed them. */
static void
publish_indexes(natsConnection *nc, const char *subject)
{
    char data[16];
    for (int i = 0; i < QUEUE_MSGS; i++) {
        snprintf(data, sizeof(data), "%d", i);
        assert_status(natsConnection_PublishString(nc, subject, data), NATS_OK);
    }
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
}

static void
test_queue_group_spread(void **state)
{
    (void)state;
    natsConnection *member_nc[QUEUE_MEMBERS];
    natsSubscription *member[QUEUE_MEMBERS];
    for (int i = 0; i < QUEUE_MEMBERS; i++) {
        member_nc[i] = interop_connect();
        assert_status(natsConnection_QueueSubscribeSync(&member[i], member_nc[i], "work", "q"),
                      NATS_OK);
        assert_status(natsConnection_FlushTimeout(member_nc[i], 2000), NATS_OK);
    }
    natsConnection *plain_nc = interop_connect();
    natsSubscription *plain = interop_subscribe(plain_nc, "work");
    natsConnection *pub_nc = interop_connect();
    publish_indexes(pub_nc, "work");
    int plain_seen[QUEUE_MSGS] = {0};
    assert_int_equal(drain_indexes(plain, plain_seen), QUEUE_MSGS);
    int group_seen[QUEUE_MSGS] = {0};
    int total = 0;
    for (int i = 0; i < QUEUE_MEMBERS; i++) {
        int got = drain_indexes(member[i], group_seen);
        assert_true(got > 0);
        total += got;
    }
    assert_int_equal(total, QUEUE_MSGS);
    for (int i = 0; i < QUEUE_MSGS; i++) {
        assert_int_equal(plain_seen[i], 1);
        assert_int_equal(group_seen[i], 1);
    }
    for (int i = 0; i < QUEUE_MEMBERS; i++) {
        natsSubscription_Destroy(member[i]);
        natsConnection_Destroy(member_nc[i]);
    }
    natsSubscription_Destroy(plain);
    natsConnection_Destroy(plain_nc);
    natsConnection_Destroy(pub_nc);
}

/* Fails unless key holds exactly the n values, in order. */
static void
expect_header_values(natsMsg *msg, const char *key, const char *const *want, int n)
{
    const char **values = NULL;
    int count = 0;
    assert_status(natsMsgHeader_Values(msg, key, &values, &count), NATS_OK);
    int match = count == n;
    for (int i = 0; match && i < n; i++)
        match = strcmp(values[i], want[i]) == 0;
    free((void *)values);
    assert_int_equal(count, n);
    assert_true(match);
}

static void
publish_with_headers(natsConnection *nc)
{
    natsMsg *msg = NULL;
    assert_status(natsMsg_Create(&msg, "hdr.subj", "hdr.reply", "payload", 7), NATS_OK);
    assert_status(natsMsgHeader_Set(msg, "X-Single", "one"), NATS_OK);
    assert_status(natsMsgHeader_Add(msg, "X-Multi", "a"), NATS_OK);
    assert_status(natsMsgHeader_Add(msg, "X-Multi", "b b"), NATS_OK);
    assert_status(natsMsgHeader_Add(msg, "X-Multi", "c"), NATS_OK);
    assert_status(natsMsgHeader_Add(msg, "x-multi", "lower"), NATS_OK);
    assert_status(natsMsgHeader_Set(msg, "X-Replaced", "old"), NATS_OK);
    assert_status(natsMsgHeader_Set(msg, "X-Replaced", "new"), NATS_OK);
    assert_status(natsConnection_PublishMsg(nc, msg), NATS_OK);
    natsMsg_Destroy(msg);
    assert_status(natsMsg_Create(&msg, "hdr.subj", NULL, NULL, 0), NATS_OK);
    assert_status(natsMsgHeader_Set(msg, "Only", "header"), NATS_OK);
    assert_status(natsConnection_PublishMsg(nc, msg), NATS_OK);
    natsMsg_Destroy(msg);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
}

static void
check_full_headers(natsMsg *msg)
{
    assert_string_equal(natsMsg_GetReply(msg), "hdr.reply");
    assert_int_equal(natsMsg_GetDataLength(msg), 7);
    assert_memory_equal(natsMsg_GetData(msg), "payload", 7);
    const char *value = NULL;
    assert_status(natsMsgHeader_Get(msg, "X-Single", &value), NATS_OK);
    assert_string_equal(value, "one");
    static const char *const multi[] = {"a", "b b", "c"};
    expect_header_values(msg, "X-Multi", multi, 3);
    static const char *const lower[] = {"lower"};
    expect_header_values(msg, "x-multi", lower, 1);
    static const char *const replaced[] = {"new"};
    expect_header_values(msg, "X-Replaced", replaced, 1);
    assert_status(natsMsgHeader_Get(msg, "X-Absent", &value), NATS_NOT_FOUND);
    const char **keys = NULL;
    int count = 0;
    assert_status(natsMsgHeader_Keys(msg, &keys, &count), NATS_OK);
    free((void *)keys);
    assert_int_equal(count, 4);
}

static void
test_headers_roundtrip(void **state)
{
    (void)state;
    natsConnection *sub_nc = interop_connect();
    natsConnection *pub_nc = interop_connect();
    natsSubscription *sub = interop_subscribe(sub_nc, "hdr.subj");
    publish_with_headers(pub_nc);
    natsMsg *msg = NULL;
    assert_status(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    check_full_headers(msg);
    natsMsg_Destroy(msg);
    assert_status(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    assert_int_equal(natsMsg_GetDataLength(msg), 0);
    const char *value = NULL;
    assert_status(natsMsgHeader_Get(msg, "Only", &value), NATS_OK);
    assert_string_equal(value, "header");
    natsMsg_Destroy(msg);
    interop_expect_none(sub, 100);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub_nc);
    natsConnection_Destroy(sub_nc);
}

static void
test_auto_unsubscribe(void **state)
{
    (void)state;
    natsConnection *nc = interop_connect();
    natsSubscription *sub = NULL;
    assert_status(natsConnection_SubscribeSync(&sub, nc, "auto.subj"), NATS_OK);
    assert_status(natsSubscription_AutoUnsubscribe(sub, 2), NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    assert_status(natsConnection_PublishString(nc, "auto.subj", "a"), NATS_OK);
    assert_status(natsConnection_PublishString(nc, "auto.subj", "b"), NATS_OK);
    assert_status(natsConnection_PublishString(nc, "auto.subj", "c"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    interop_expect_msg(sub, "auto.subj", "a");
    interop_expect_msg(sub, "auto.subj", "b");
    natsMsg *msg = NULL;
    assert_status(natsSubscription_NextMsg(&msg, sub, 100), NATS_MAX_DELIVERED_MSGS);
    assert_false(natsSubscription_IsValid(sub));
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

/* libnats also counts deliveries itself, so the server's own UNSUB max is checked on the wire. */
static void
test_auto_unsubscribe_wire(void **state)
{
    (void)state;
    int fd = interop_raw_open(0);
    interop_raw_send(fd, "CONNECT {\"verbose\":false}\r\nSUB auto.wire 7\r\nUNSUB 7 2\r\n"
                         "PUB auto.wire 1\r\na\r\nPUB auto.wire 1\r\nb\r\nPUB auto.wire 1\r\nc\r\n"
                         "PING\r\n");
    char buf[256];
    int eof = 0;
    interop_raw_read(fd, buf, sizeof(buf), "PONG\r\n", 2000, &eof);
    close(fd);
    assert_string_equal(buf, "MSG auto.wire 7 1\r\na\r\nMSG auto.wire 7 1\r\nb\r\nPONG\r\n");
    assert_int_equal(eof, 0);
}

static void
test_no_echo(void **state)
{
    (void)state;
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetNoEcho(opts, true), NATS_OK);
    natsConnection *quiet_nc = interop_connect_opts(opts);
    natsConnection *other_nc = interop_connect();
    natsSubscription *quiet = interop_subscribe(quiet_nc, "echo.subj");
    natsSubscription *other = interop_subscribe(other_nc, "echo.subj");
    assert_status(natsConnection_PublishString(quiet_nc, "echo.subj", "from-quiet"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(quiet_nc, 2000), NATS_OK);
    assert_status(natsConnection_PublishString(other_nc, "echo.subj", "from-other"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(other_nc, 2000), NATS_OK);
    interop_expect_msg(quiet, "echo.subj", "from-other");
    interop_expect_none(quiet, 100);
    interop_expect_msg(other, "echo.subj", "from-quiet");
    interop_expect_msg(other, "echo.subj", "from-other");
    interop_expect_none(other, 100);
    natsSubscription_Destroy(quiet);
    natsSubscription_Destroy(other);
    natsConnection_Destroy(quiet_nc);
    natsConnection_Destroy(other_nc);
}

int
interop_run_pubsub(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_in_order),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_queue_group_spread),
        cmocka_unit_test(test_headers_roundtrip),
        cmocka_unit_test(test_auto_unsubscribe),
        cmocka_unit_test(test_auto_unsubscribe_wire),
        cmocka_unit_test(test_no_echo),
    };
    return cmocka_run_group_tests_name("pubsub", tests, NULL, NULL);
}
