/*
 * Size and scale limits of a default server: the largest allowed payload crosses intact, one byte
 * more is refused by libnats and, on the wire, by the server itself; and one publish fans out to
 * many concurrent connections. libnats spends two threads and one descriptor per connection, so
 * the fan-out test raises the descriptor limit first.
 */
#include "interop.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_PAYLOAD 1048576
#define FANOUT      500

static void
test_max_payload_roundtrip(void **state)
{
    (void)state;
    char *payload = malloc(MAX_PAYLOAD + 1);
    assert_non_null(payload);
    for (size_t i = 0; i < MAX_PAYLOAD + 1; i++)
        payload[i] = (char)((i * 31 + 7) & 0xff);
    natsConnection *sub_nc = interop_connect();
    natsConnection *pub_nc = interop_connect();
    assert_int_equal(natsConnection_GetMaxPayload(pub_nc), MAX_PAYLOAD);
    natsSubscription *sub = interop_subscribe(sub_nc, "big");
    assert_status(natsConnection_Publish(pub_nc, "big", payload, MAX_PAYLOAD), NATS_OK);
    assert_status(natsConnection_FlushTimeout(pub_nc, 5000), NATS_OK);
    natsMsg *msg = NULL;
    assert_status(natsSubscription_NextMsg(&msg, sub, 5000), NATS_OK);
    int len = natsMsg_GetDataLength(msg);
    int same = len == MAX_PAYLOAD && memcmp(natsMsg_GetData(msg), payload, MAX_PAYLOAD) == 0;
    natsMsg_Destroy(msg);
    assert_int_equal(len, MAX_PAYLOAD);
    assert_true(same);
    natsStatus s = natsConnection_Publish(pub_nc, "big", payload, MAX_PAYLOAD + 1);
    free(payload);
    assert_status(s, NATS_MAX_PAYLOAD);
    interop_expect_none(sub, 100);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub_nc);
    natsConnection_Destroy(sub_nc);
}

/* CONNECT {} leaves verbose on, hence the +OK before the refusal. */
static void
test_max_payload_wire(void **state)
{
    (void)state;
    int fd = interop_raw_open(0);
    interop_raw_send(fd, "CONNECT {}\r\nPUB foo 1048577\r\n");
    char buf[256];
    int eof = 0;
    interop_raw_read(fd, buf, sizeof(buf), NULL, 3000, &eof);
    close(fd);
    assert_string_equal(buf, "+OK\r\n-ERR 'Maximum Payload Violation'\r\n");
    assert_int_equal(eof, 1);
}

static void
raise_fd_limit(rlim_t need)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    assert_true(rl.rlim_cur >= need);
}

static void
test_fanout_many_connections(void **state)
{
    (void)state;
    raise_fd_limit(FANOUT + 64);
    natsConnection **conns = calloc(FANOUT, sizeof(*conns));
    natsSubscription **subs = calloc(FANOUT, sizeof(*subs));
    assert_non_null(conns);
    assert_non_null(subs);
    for (int i = 0; i < FANOUT; i++) {
        conns[i] = interop_connect();
        subs[i] = interop_subscribe(conns[i], "fan.out");
    }
    natsConnection *pub_nc = interop_connect();
    assert_status(natsConnection_PublishString(pub_nc, "fan.out", "to-everyone"), NATS_OK);
    assert_status(natsConnection_FlushTimeout(pub_nc, 5000), NATS_OK);
    for (int i = 0; i < FANOUT; i++)
        interop_expect_msg(subs[i], "fan.out", "to-everyone");
    for (int i = 0; i < FANOUT; i++)
        interop_expect_none(subs[i], 0);
    natsConnection_Destroy(pub_nc);
    for (int i = 0; i < FANOUT; i++) {
        natsSubscription_Destroy(subs[i]);
        natsConnection_Destroy(conns[i]);
    }
    free(subs);
    free(conns);
}

int
interop_run_limits(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_payload_roundtrip),
        cmocka_unit_test(test_max_payload_wire),
        cmocka_unit_test(test_fanout_many_connections),
    };
    return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
