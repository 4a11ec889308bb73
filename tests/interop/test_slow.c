/*
 * Slow-consumer handling, against a server started with max_pending 262144 and write_deadline 2s.
 * A raw subscriber with a tiny receive buffer never reads, so either its pending bytes pass the
 * limit or a write to it misses the deadline (nats-server hits the deadline first, as its
 * publisher stall keeps pending low); either way it must be disconnected, while a libnats
 * subscriber on the same subject keeps up and receives every message in order. The stream is far larger than what the kernel
 * buffers between the server and the stalled socket can hold, so the cut is certain; it still fits
 * libnats' default per-subscription queue (65536 messages, 64 MiB), so the test can read it after
 * publishing without libnats dropping anything.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOW_MSGS  20000
#define SLOW_SIZE  1024
#define SLOW_BATCH 25

/* A subscriber that has told the server about its interest and then stops reading. */
static int
stalled_subscriber(void)
{
    int fd = interop_raw_open(4096);
    interop_raw_send(fd, "CONNECT {\"verbose\":false}\r\nSUB slow.data 1\r\nPING\r\n");
    char buf[64];
    int eof = 0;
    interop_raw_read(fd, buf, sizeof(buf), "PONG\r\n", 2000, &eof);
    assert_string_equal(buf, "PONG\r\n");
    return fd;
}

/*
 * Flushing every SLOW_BATCH messages keeps at most ~26 KiB in flight, a tenth of max_pending, so a
 * subscriber that reads promptly can never legitimately be over the limit, whether or not the
 * server also slows the publisher down (nats-server does, past half of max_pending).
 */
static void
publish_stream(natsConnection *nc)
{
    char payload[SLOW_SIZE];
    memset(payload, 'x', sizeof(payload));
    for (int i = 0; i < SLOW_MSGS; i++) {
        char seq[16];
        int n = snprintf(seq, sizeof(seq), "%08d", i);
        memcpy(payload, seq, (size_t)n);
        assert_status(natsConnection_Publish(nc, "slow.data", payload, SLOW_SIZE), NATS_OK);
        if ((i + 1) % SLOW_BATCH == 0)
            assert_status(natsConnection_FlushTimeout(nc, 10000), NATS_OK);
    }
}

/* Every message, in order, with its sequence number and full size. */
static void
expect_stream(natsSubscription *sub)
{
    for (int i = 0; i < SLOW_MSGS; i++) {
        natsMsg *msg = NULL;
        assert_status(natsSubscription_NextMsg(&msg, sub, 5000), NATS_OK);
        char want[16];
        snprintf(want, sizeof(want), "%08d", i);
        int len = natsMsg_GetDataLength(msg);
        int seq_ok = len == SLOW_SIZE && memcmp(natsMsg_GetData(msg), want, 8) == 0;
        natsMsg_Destroy(msg);
        assert_int_equal(len, SLOW_SIZE);
        if (!seq_ok) fail_msg("message %d out of order", i);
    }
    interop_expect_none(sub, 100);
    int64_t dropped = -1;
    assert_status(natsSubscription_GetDropped(sub, &dropped), NATS_OK);
    assert_int_equal(dropped, 0);
}

static void
test_slow_consumer_cut_off(void **state)
{
    (void)state;
    int fd = stalled_subscriber();
    natsConnection *sub_nc = interop_connect();
    natsSubscription *sub = interop_subscribe(sub_nc, "slow.data");
    natsConnection *pub_nc = interop_connect();
    publish_stream(pub_nc);
    expect_stream(sub);
    int eof = 0;
    size_t got = interop_raw_drain(fd, 10000, &eof);
    close(fd);
    assert_int_equal(eof, 1);
    assert_true(got < (size_t)SLOW_MSGS * SLOW_SIZE);
    assert_int_equal(natsConnection_Status(sub_nc), NATS_CONN_STATUS_CONNECTED);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub_nc);
    natsConnection_Destroy(sub_nc);
}

int
interop_run_slow(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_consumer_cut_off),
    };
    return cmocka_run_group_tests_name("slow", tests, NULL, NULL);
}
