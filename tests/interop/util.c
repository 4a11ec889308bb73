/*
 * Helpers shared by the interop groups. Connections never reconnect, so a server that drops one
 * surfaces as an error in the test that caused it. Raw sockets exist for what libnats hides: the
 * exact bytes the server sends and whether it closed the connection. Every read is bounded by poll
 * deadlines.
 */
#include "interop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct interop_env interop_env;

void
interop_assert_status(natsStatus got, natsStatus want, const char *file, int line)
{
    if (got == want) return;
    natsStatus last = NATS_OK;
    const char *detail = nats_GetLastError(&last);
    fail_msg("%s:%d: status %s (%d), expected %s (%d); last error: %s", file, line,
             natsStatus_GetText(got), (int)got, natsStatus_GetText(want), (int)want,
             detail != NULL ? detail : "none");
}

int64_t
interop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

natsOptions *
interop_opts(void)
{
    natsOptions *opts = NULL;
    assert_status(natsOptions_Create(&opts), NATS_OK);
    assert_status(natsOptions_SetURL(opts, interop_env.url), NATS_OK);
    assert_status(natsOptions_SetTimeout(opts, 2000), NATS_OK);
    assert_status(natsOptions_SetAllowReconnect(opts, false), NATS_OK);
    return opts;
}

natsConnection *
interop_connect_opts(natsOptions *opts)
{
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    assert_status(s, NATS_OK);
    return nc;
}

natsConnection *
interop_connect(void)
{
    return interop_connect_opts(interop_opts());
}

natsSubscription *
interop_subscribe(natsConnection *nc, const char *subject)
{
    natsSubscription *sub = NULL;
    assert_status(natsConnection_SubscribeSync(&sub, nc, subject), NATS_OK);
    assert_status(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    return sub;
}

void
interop_expect_msg(natsSubscription *sub, const char *subject, const char *data)
{
    natsMsg *msg = NULL;
    assert_status(natsSubscription_NextMsg(&msg, sub, 2000), NATS_OK);
    char got_subject[256];
    char got_data[256];
    snprintf(got_subject, sizeof(got_subject), "%s", natsMsg_GetSubject(msg));
    snprintf(got_data, sizeof(got_data), "%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
    natsMsg_Destroy(msg);
    assert_string_equal(got_subject, subject);
    assert_string_equal(got_data, data);
}

void
interop_expect_none(natsSubscription *sub, int64_t wait_ms)
{
    natsMsg *msg = NULL;
    natsStatus s = natsSubscription_NextMsg(&msg, sub, wait_ms);
    if (s == NATS_OK) {
        char got[256];
        snprintf(got, sizeof(got), "%s '%.*s'", natsMsg_GetSubject(msg), natsMsg_GetDataLength(msg),
                 natsMsg_GetData(msg));
        natsMsg_Destroy(msg);
        fail_msg("unexpected message %s", got);
    }
    assert_status(s, NATS_TIMEOUT);
}

/* The port of a nats://host:port URL; run.sh always hands over 127.0.0.1. */
static int
url_port(const char *url)
{
    const char *colon = strrchr(url, ':');
    assert_non_null(colon);
    int port = atoi(colon + 1);
    assert_in_range(port, 1, 65535);
    return port;
}

int
interop_raw_connect(int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_port = htons((uint16_t)url_port(interop_env.url));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

int
interop_raw_open(int rcvbuf)
{
    int fd = interop_raw_connect(rcvbuf);
    char info[4096];
    int eof = 0;
    interop_raw_read(fd, info, sizeof(info), "\r\n", 2000, &eof);
    assert_int_equal(eof, 0);
    assert_memory_equal(info, "INFO {", 6);
    return fd;
}

void
interop_raw_send(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        assert_true(n > 0);
        text += n;
        len -= (size_t)n;
    }
}

/*
 * One bounded read: waits until data, close or the deadline. Returns bytes read, 0 on timeout,
 * and sets *eof when the peer closed or reset the connection.
 */
static size_t
read_some(int fd, char *buf, size_t cap, int64_t deadline, int *eof)
{
    int64_t left = deadline - interop_now_ms();
    if (left <= 0) return 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, (int)left);
    if (ready < 0 && errno == EINTR) return 0;
    assert_true(ready >= 0);
    if (ready == 0) return 0;
    ssize_t n = recv(fd, buf, cap, 0);
    if (n > 0) return (size_t)n;
    if (n == 0 || errno == ECONNRESET) {
        *eof = 1;
        return 0;
    }
    assert_true(errno == EINTR || errno == EAGAIN);
    return 0;
}

size_t
interop_raw_read(int fd, char *buf, size_t cap, const char *suffix, int timeout_ms, int *eof)
{
    int64_t deadline = interop_now_ms() + timeout_ms;
    size_t len = 0;
    size_t slen = suffix != NULL ? strlen(suffix) : 0;
    *eof = 0;
    while (len + 1 < cap && !*eof && interop_now_ms() < deadline) {
        len += read_some(fd, buf + len, cap - 1 - len, deadline, eof);
        buf[len] = '\0';
        if (slen > 0 && len >= slen && memcmp(buf + len - slen, suffix, slen) == 0) break;
    }
    buf[len] = '\0';
    return len;
}

size_t
interop_raw_drain(int fd, int timeout_ms, int *eof)
{
    static char sink[65536];
    int64_t deadline = interop_now_ms() + timeout_ms;
    size_t total = 0;
    *eof = 0;
    while (!*eof && interop_now_ms() < deadline)
        total += read_some(fd, sink, sizeof(sink), deadline, eof);
    return total;
}

struct interop_js
interop_js_open(void)
{
    struct interop_js j = {.nc = interop_connect()};
    jsOptions o;
    assert_status(jsOptions_Init(&o), NATS_OK);
    o.Wait = 2000;
    assert_status(natsConnection_JetStream(&j.js, j.nc, &o), NATS_OK);
    return j;
}

void
interop_js_close(struct interop_js *j)
{
    jsCtx_Destroy(j->js);
    natsConnection_Destroy(j->nc);
}
