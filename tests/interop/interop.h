/*
 * Shared pieces of the libnats interop suite: the environment run.sh hands over, connection and
 * raw-socket helpers, and one runner per test group. Every helper that waits takes a bound, so a
 * broken server fails a test instead of hanging the suite.
 */
#ifndef INTEROP_H
#define INTEROP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <nats/nats.h>

/* What run.sh passed in: the server URL of this group and, for the auth groups, the secrets. */
struct interop_env {
    const char *url;
    const char *token;
    const char *user;
    const char *pass;
    const char *certs; /* the tls group's certificates (INTEROP_CERTS) */
};

extern struct interop_env interop_env;

/* Fails the running test unless got == want, naming both statuses and libnats' last error. */
#define assert_status(got, want) interop_assert_status((got), (want), __FILE__, __LINE__)

void interop_assert_status(natsStatus got, natsStatus want, const char *file, int line);

/* Milliseconds on a monotonic clock, for deadlines and latency checks. */
int64_t interop_now_ms(void);

/* Options for interop_env.url with a short connect timeout and no reconnects. */
natsOptions *interop_opts(void);

/* Connects with opts (then destroys them); the test fails unless the connect succeeds. */
natsConnection *interop_connect_opts(natsOptions *opts);

/* interop_connect_opts(interop_opts()). */
natsConnection *interop_connect(void);

/* A connection with its JetStream context, for the js and jsc groups (API wait 2 s). */
struct interop_js {
    natsConnection *nc;
    jsCtx *js;
};
struct interop_js interop_js_open(void);
void interop_js_close(struct interop_js *j);

/* A synchronous subscription whose interest the server has confirmed (a flush round trip). */
natsSubscription *interop_subscribe(natsConnection *nc, const char *subject);

/* Fails the test unless the next message on sub arrives within 2 s with this subject and data. */
void interop_expect_msg(natsSubscription *sub, const char *subject, const char *data);

/* Fails the test if sub has a message within wait_ms. */
void interop_expect_none(natsSubscription *sub, int64_t wait_ms);

/*
 * Raw TCP to the server of interop_env.url, bypassing libnats so the wire itself can be checked.
 * rcvbuf > 0 shrinks the receive buffer before connecting. The INFO line is read and dropped.
 * Returns the socket; the test fails on any error.
 */
int interop_raw_open(int rcvbuf);

/* Like interop_raw_open, but the INFO line is left for the caller to read. */
int interop_raw_connect(int rcvbuf);

/* Sends all of text; the test fails on error. */
void interop_raw_send(int fd, const char *text);

/*
 * Reads into buf (NUL-terminated, cap includes the NUL) until the data ends with suffix, the peer
 * closes, or timeout_ms passes. Returns the length read; *eof tells whether the peer closed
 * (orderly or by reset). A NULL suffix reads until close or timeout.
 */
size_t interop_raw_read(int fd, char *buf, size_t cap, const char *suffix, int timeout_ms,
                        int *eof);

/*
 * Reads and discards until the peer closes or timeout_ms passes. Returns the bytes discarded and
 * sets *eof like interop_raw_read.
 */
size_t interop_raw_drain(int fd, int timeout_ms, int *eof);

/* Group runners: each returns the number of failed tests, as cmocka_run_group_tests does. */
int interop_run_pubsub(void);
int interop_run_request(void);
int interop_run_limits(void);
int interop_run_slow(void);
int interop_run_token(void);
int interop_run_userpass(void);
int interop_run_users(void);
int interop_run_js(void);
int interop_run_jsc(void);
int interop_run_tls(void);

#endif
