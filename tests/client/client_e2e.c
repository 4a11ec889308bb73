/*
 * End-to-end tests of the client connection (libproto/client/) against a live server.
 *
 * Usage: client-e2e GROUP URL. run.sh starts the servers and passes each group the URL of the
 * one it needs; credentials come from NATS_TEST_TOKEN, NATS_TEST_USER and NATS_TEST_PASS. The
 * reconnect group ignores URL and runs its own server from NATS_TEST_SERVER_CMD (a binary and
 * leading arguments separated by spaces) on a fixed free port, so it can kill and restart it.
 *
 * Every wait runs the loop under a deadline timer, so a lost callback fails a test instead of
 * hanging it, and every test ends by checking that the loop has no handle left open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "np_client.h"

#define WAIT_MS 5000

static uv_loop_t loop;
static const char *url;

/* ---------------------------------------------------------------------------------------------- */
/* Harness                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

static void
on_deadline(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop until *done or ms have passed; returns *done. */
static bool
run_until(const bool *done, uint64_t ms)
{
    uv_timer_t t;
    bool expired = false;
    uv_timer_init(&loop, &t);
    t.data = &expired;
    uv_timer_start(&t, on_deadline, ms, 0);
    while (!*done && !expired)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return *done;
}

static void
sleep_loop(uint64_t ms)
{
    bool never = false;
    run_until(&never, ms);
}

struct done {
    bool fired;
    int status;
};

static void
on_done(struct np_client *c, int status, void *ud)
{
    struct done *d = ud;
    (void)c;
    d->fired = true;
    d->status = status;
}

#define MAX_EVENTS 16

struct events {
    int n;
    enum np_client_event ev[MAX_EVENTS];
    int status[MAX_EVENTS];
};

static void
on_event(struct np_client *c, enum np_client_event ev, int status, void *ud)
{
    struct events *e = ud;
    (void)c;
    if (e->n == MAX_EVENTS) return;
    e->ev[e->n] = ev;
    e->status[e->n++] = status;
}

static bool
saw_event(const struct events *e, enum np_client_event ev, int from)
{
    for (int i = from; i < e->n; i++)
        if (e->ev[i] == ev) return true;
    return false;
}

/* Connects with opts (servers defaulting to url) and returns the status the connect cb got. */
static int
try_connect(struct np_client **out, struct np_client_opts o)
{
    struct done d = {0};
    if (!o.servers) o.servers = url;
    assert_int_equal(np_client_new(out, &loop, &o), 0);
    int rc = np_client_connect(*out, on_done, &d);
    if (rc != 0) return rc;
    assert_true(run_until(&d.fired, WAIT_MS));
    return d.status;
}

static struct np_client *
connect_ok(struct np_client_opts o)
{
    struct np_client *c;
    int rc = try_connect(&c, o);
    if (rc != 0) fail_msg("connect to %s: %s", o.servers ? o.servers : url, np_client_strerror(rc));
    return c;
}

static void
close_client(struct np_client *c)
{
    struct done d = {0};
    np_client_close(c, on_done, &d);
    assert_true(run_until(&d.fired, WAIT_MS));
    assert_int_equal(d.status, 0);
}

static void
flush_ok(struct np_client *c)
{
    struct done d = {0};
    assert_int_equal(np_client_flush(c, on_done, &d), 0);
    assert_true(run_until(&d.fired, WAIT_MS));
    assert_int_equal(d.status, 0);
}

/* Every test leaves the loop as it found it: no handle of a closed client may survive. */
static int
check_loop_empty(void **state)
{
    (void)state;
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_alive(&loop), 0);
    return 0;
}

static struct np_str
str(const char *s)
{
    return (struct np_str){s, strlen(s)};
}

static const struct np_str none = {NULL, 0};

/* Received messages: a count and a copy of the last one. */
struct inbox {
    int n;
    char subject[128], data[256], hval[64];
    int status;
    int64_t sid;
    bool unsub_self, close_self;
};

static void
copy_view(char *dst, size_t cap, struct np_str v)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    if (n) memcpy(dst, v.ptr, n);
    dst[n] = '\0';
}

static void
on_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct inbox *in = ud;
    in->n++;
    copy_view(in->subject, sizeof in->subject, m->subject);
    copy_view(in->data, sizeof in->data, m->data);
    in->status = m->status;
    in->hval[0] = '\0';
    struct np_hdr h;
    struct np_str v;
    if (m->headers.len && np_hdr_parse(&h, m->headers.ptr, m->headers.len) == 0 &&
        np_hdr_get(&h, "X-Test", &v))
        copy_view(in->hval, sizeof in->hval, v);
    if (in->unsub_self) assert_int_equal(np_client_unsubscribe(c, in->sid), 0);
    if (in->close_self) np_client_close(c, NULL, NULL);
}

/* ---------------------------------------------------------------------------------------------- */
/* Group basic                                                                                    */
/* ---------------------------------------------------------------------------------------------- */

static void
test_connect_close(void **state)
{
    (void)state;
    struct events ev = {0};
    struct np_client *c =
        connect_ok((struct np_client_opts){.name = "e2e", .on_event = on_event, .ud = &ev});
    const struct np_info *info = np_client_info(c);
    assert_non_null(info);
    assert_non_null(info->server_id);
    assert_true(info->headers);
    assert_true(info->max_payload > 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0], NP_CLIENT_CONNECTED);
    close_client(c);
    assert_int_equal(ev.n, 1);
}

static void
test_pubsub(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {0};
    int64_t sid = np_client_subscribe(c, "e2e.ps.*", NULL, 0, on_msg, &in);
    assert_true(sid > 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(np_client_publish(c, "e2e.ps.x", NULL, none, str("hello")), 0);
    assert_int_equal(np_client_publish(c, "e2e.other", NULL, none, str("no")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 3);
    assert_string_equal(in.subject, "e2e.ps.x");
    assert_string_equal(in.data, "hello");
    assert_int_equal(in.status, 0);
    assert_int_equal(np_client_unsubscribe(c, sid), 0);
    assert_int_equal(np_client_publish(c, "e2e.ps.x", NULL, none, str("late")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 3);
    close_client(c);
}

static void
test_no_echo(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){.no_echo = true});
    struct np_client *p = connect_ok((struct np_client_opts){0});
    struct inbox in = {0};
    assert_true(np_client_subscribe(c, "e2e.echo", NULL, 0, on_msg, &in) > 0);
    flush_ok(c);
    assert_int_equal(np_client_publish(c, "e2e.echo", NULL, none, str("self")), 0);
    flush_ok(c);
    assert_int_equal(np_client_publish(p, "e2e.echo", NULL, none, str("other")), 0);
    flush_ok(p);
    flush_ok(c);
    assert_int_equal(in.n, 1);
    assert_string_equal(in.data, "other");
    close_client(p);
    close_client(c);
}

static void
test_queue(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox q1 = {0}, q2 = {0}, plain = {0};
    assert_true(np_client_subscribe(c, "e2e.q", "workers", 0, on_msg, &q1) > 0);
    assert_true(np_client_subscribe(c, "e2e.q", "workers", 0, on_msg, &q2) > 0);
    assert_true(np_client_subscribe(c, "e2e.q", NULL, 0, on_msg, &plain) > 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(np_client_publish(c, "e2e.q", NULL, none, str("job")), 0);
    flush_ok(c);
    assert_int_equal(q1.n + q2.n, 20);
    assert_int_equal(plain.n, 20);
    close_client(c);
}

static void
test_auto_unsub(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {0};
    int64_t sid = np_client_subscribe(c, "e2e.max", NULL, 2, on_msg, &in);
    assert_true(sid > 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(np_client_publish(c, "e2e.max", NULL, none, str("m")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 2);
    assert_int_equal(np_client_unsubscribe(c, sid), NP_EINVAL);
    close_client(c);
}

static void
test_unsub_in_callback(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {.unsub_self = true};
    in.sid = np_client_subscribe(c, "e2e.self", NULL, 0, on_msg, &in);
    assert_true(in.sid > 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(np_client_publish(c, "e2e.self", NULL, none, str("m")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 1);
    close_client(c);
}

static void
test_close_in_callback(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {.close_self = true};
    assert_true(np_client_subscribe(c, "e2e.close", NULL, 0, on_msg, &in) > 0);
    struct done fl = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(np_client_publish(c, "e2e.close", NULL, none, str("m")), 0);
    assert_int_equal(np_client_flush(c, on_done, &fl), 0);
    assert_true(run_until(&fl.fired, WAIT_MS));
    assert_int_equal(fl.status, NP_CLIENT_ECLOSED);
    assert_int_equal(in.n, 1);
    sleep_loop(50);
}

static void
test_headers(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {0};
    assert_true(np_client_subscribe(c, "e2e.hdr", NULL, 0, on_msg, &in) > 0);
    struct np_hdr_builder b;
    struct np_str hdr;
    np_hdr_builder_init(&b, 0, NULL);
    np_hdr_builder_add(&b, str("X-Test"), str("value 1"));
    assert_int_equal(np_hdr_builder_finish(&b, &hdr), 0);
    assert_int_equal(np_client_publish(c, "e2e.hdr", NULL, hdr, str("body")), 0);
    assert_int_equal(np_client_publish(c, "e2e.hdr", NULL, hdr, none), 0);
    np_hdr_builder_release(&b);
    flush_ok(c);
    assert_int_equal(in.n, 2);
    assert_string_equal(in.data, "");
    assert_string_equal(in.hval, "value 1");
    close_client(c);
}

static void
test_flush_order(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {0};
    struct done d[3] = {{0}};
    assert_true(np_client_subscribe(c, "e2e.fl", NULL, 0, on_msg, &in) > 0);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 100; j++)
            assert_int_equal(np_client_publish(c, "e2e.fl", NULL, none, str("x")), 0);
        assert_int_equal(np_client_flush(c, on_done, &d[i]), 0);
    }
    assert_true(run_until(&d[2].fired, WAIT_MS));
    assert_true(d[0].fired && d[1].fired);
    assert_int_equal(d[0].status + d[1].status + d[2].status, 0);
    assert_int_equal(in.n, 300);
    close_client(c);
}

struct reply {
    bool fired;
    int status;
    char data[64];
    uint64_t at;
};

static void
on_reply(struct np_client *c, int status, const struct np_msg *m, void *ud)
{
    struct reply *r = ud;
    (void)c;
    r->fired = true;
    r->status = status;
    r->at = uv_now(&loop);
    if (m) copy_view(r->data, sizeof r->data, m->data);
}

static void
on_service(struct np_client *c, const struct np_msg *m, void *ud)
{
    char out[300];
    (void)ud;
    int n = snprintf(out, sizeof out, "re:%.*s", (int)m->data.len, m->data.ptr);
    char reply[128];
    copy_view(reply, sizeof reply, m->reply);
    assert_int_equal(np_client_publish(c, reply, NULL, none, (struct np_str){out, (size_t)n}), 0);
}

static void
test_request(void **state)
{
    (void)state;
    struct np_client *svc = connect_ok((struct np_client_opts){0});
    struct np_client *c = connect_ok((struct np_client_opts){0});
    assert_true(np_client_subscribe(svc, "e2e.svc", NULL, 0, on_service, NULL) > 0);
    flush_ok(svc);
    struct reply r[2] = {{0}};
    assert_int_equal(np_client_request(c, "e2e.svc", none, str("one"), 2000, on_reply, &r[0]), 0);
    assert_int_equal(np_client_request(c, "e2e.svc", none, str("two"), 2000, on_reply, &r[1]), 0);
    assert_true(run_until(&r[1].fired, WAIT_MS));
    assert_true(run_until(&r[0].fired, WAIT_MS));
    assert_int_equal(r[0].status, 0);
    assert_string_equal(r[0].data, "re:one");
    assert_int_equal(r[1].status, 0);
    assert_string_equal(r[1].data, "re:two");
    close_client(c);
    close_client(svc);
}

static void
test_no_responders(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct reply r = {0};
    uint64_t start = uv_now(&loop);
    assert_int_equal(np_client_request(c, "e2e.nobody", none, str("?"), 4000, on_reply, &r), 0);
    assert_true(run_until(&r.fired, WAIT_MS));
    assert_int_equal(r.status, NP_CLIENT_ENO_RESPONDERS);
    assert_true(r.at - start < 1000);
    close_client(c);
}

static void
ignore_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    (void)c;
    (void)m;
    (void)ud;
}

static void
test_request_timeout(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    assert_true(np_client_subscribe(c, "e2e.silent", NULL, 0, ignore_msg, NULL) > 0);
    flush_ok(c);
    struct reply r = {0};
    uint64_t start = uv_now(&loop);
    assert_int_equal(np_client_request(c, "e2e.silent", none, str("?"), 200, on_reply, &r), 0);
    assert_true(run_until(&r.fired, WAIT_MS));
    assert_int_equal(r.status, NP_CLIENT_ETIMEOUT);
    assert_true(r.at - start >= 200 && r.at - start < 1500);
    struct reply pending = {0};
    assert_int_equal(np_client_request(c, "e2e.silent", none, str("?"), 4000, on_reply, &pending),
                     0);
    close_client(c);
    assert_true(pending.fired);
    assert_int_equal(pending.status, NP_CLIENT_ECLOSED);
}

/* Reads from fd until the bytes seen end with tail (or the peer closes); true when they do. */
static bool
read_until(int fd, const char *tail)
{
    char buf[4096];
    size_t have = 0, tl = strlen(tail);
    while (have < sizeof buf) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0) return false;
        have += (size_t)n;
        if (have >= tl && memcmp(buf + have - tl, tail, tl) == 0) return true;
    }
    return false;
}

/*
 * Publishes n messages from a plain blocking socket and waits for the server's PONG, without
 * running the loop: when it returns the messages sit unread in our client's socket.
 */
static void
raw_publish(const char *subject, const char *data, int n)
{
    struct np_url u;
    assert_int_equal(np_url_parse(&u, url), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)u.port)};
    assert_int_equal(inet_pton(AF_INET, u.host, &a.sin_addr), 1);
    np_url_release(&u);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_true(read_until(fd, "\r\n"));
    char msg[256];
    int len = snprintf(msg, sizeof msg, "PUB %s %zu\r\n%s\r\n", subject, strlen(data), data);
    const char *hello = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
    assert_int_equal(write(fd, hello, strlen(hello)), (ssize_t)strlen(hello));
    for (int i = 0; i < n; i++)
        assert_int_equal(write(fd, msg, (size_t)len), len);
    assert_int_equal(write(fd, "PING\r\n", 6), 6);
    assert_true(read_until(fd, "PONG\r\n"));
    close(fd);
}

static void
test_drain(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    struct inbox in = {0};
    assert_true(np_client_subscribe(c, "e2e.drain", NULL, 0, on_msg, &in) > 0);
    flush_ok(c);
    raw_publish("e2e.drain", "in flight", 200);
    assert_int_equal(in.n, 0);
    struct done d = {0};
    assert_int_equal(np_client_drain(c, on_done, &d), 0);
    assert_int_equal(np_client_publish(c, "e2e.drain", NULL, none, str("x")), NP_CLIENT_ECLOSED);
    assert_int_equal(np_client_drain(c, on_done, &d), NP_CLIENT_ECLOSED);
    assert_true(run_until(&d.fired, WAIT_MS));
    assert_int_equal(d.status, 0);
    assert_int_equal(in.n, 200);
    assert_string_equal(in.data, "in flight");
}

static void
test_max_payload(void **state)
{
    (void)state;
    struct np_client *c = connect_ok((struct np_client_opts){0});
    size_t max = (size_t)np_client_info(c)->max_payload;
    char *big = calloc(1, max + 1);
    assert_non_null(big);
    assert_int_equal(np_client_publish(c, "e2e.big", NULL, none, (struct np_str){big, max + 1}),
                     NP_CLIENT_EMAX_PAYLOAD);
    struct inbox in = {0};
    assert_true(np_client_subscribe(c, "e2e.big", NULL, 0, on_msg, &in) > 0);
    assert_int_equal(np_client_publish(c, "e2e.big", NULL, none, (struct np_str){big, max}), 0);
    flush_ok(c);
    assert_int_equal(in.n, 1);
    free(big);
    close_client(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* Group servers                                                                                  */
/* ---------------------------------------------------------------------------------------------- */

/* A port nothing listens on: bound once by us, then released. */
static int
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void
test_dead_first(void **state)
{
    (void)state;
    char list[512];
    snprintf(list, sizeof list, "nats://127.0.0.1:%d, %s", free_port(), url);
    struct np_client *c = connect_ok((struct np_client_opts){.servers = list});
    struct inbox in = {0};
    assert_true(np_client_subscribe(c, "e2e.list", NULL, 0, on_msg, &in) > 0);
    assert_int_equal(np_client_publish(c, "e2e.list", NULL, none, str("ok")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 1);
    close_client(c);
}

/* A host name goes through the resolver. */
static void
test_hostname(void **state)
{
    (void)state;
    struct np_url u;
    char name[64];
    assert_int_equal(np_url_parse(&u, url), 0);
    snprintf(name, sizeof name, "nats://localhost:%d", u.port);
    np_url_release(&u);
    struct np_client *c = connect_ok((struct np_client_opts){.servers = name});
    flush_ok(c);
    close_client(c);
}

static void
test_all_dead(void **state)
{
    (void)state;
    char list[128];
    snprintf(list, sizeof list, "127.0.0.1:%d,127.0.0.1:%d", free_port(), free_port());
    struct np_client *c;
    struct done fl = {0};
    assert_int_equal(try_connect(&c, (struct np_client_opts){.servers = list}),
                     NP_CLIENT_ENO_SERVERS);
    assert_int_equal(np_client_flush(c, on_done, &fl), NP_CLIENT_ECLOSED);
    close_client(c);
}

static void
test_bad_url(void **state)
{
    (void)state;
    struct np_client *c;
    assert_int_equal(try_connect(&c, (struct np_client_opts){.servers = "ws://127.0.0.1:1"}),
                     NP_EURL_SCHEME);
    close_client(c);
}

/* ---------------------------------------------------------------------------------------------- */
/* Groups token and userpass                                                                      */
/* ---------------------------------------------------------------------------------------------- */

static const char *
env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) fail_msg("%s is not set", name);
    return v;
}

/* url with "userinfo@" inserted after the scheme. */
static void
url_with(char *out, size_t cap, const char *userinfo)
{
    const char *rest = strstr(url, "://");
    rest = rest ? rest + 3 : url;
    snprintf(out, cap, "nats://%s@%s", userinfo, rest);
}

static void
expect_auth(struct np_client_opts o, int want)
{
    struct np_client *c;
    int rc = try_connect(&c, o);
    if (rc != want)
        fail_msg("connect gave %s, want %s", np_client_strerror(rc), np_client_strerror(want));
    if (rc == NP_CLIENT_EAUTH)
        assert_string_equal(np_client_last_error(c), "Authorization Violation");
    close_client(c);
}

static void
test_token(void **state)
{
    (void)state;
    char u[512];
    expect_auth((struct np_client_opts){.token = env("NATS_TEST_TOKEN")}, 0);
    expect_auth((struct np_client_opts){.token = "wrong"}, NP_CLIENT_EAUTH);
    expect_auth((struct np_client_opts){0}, NP_CLIENT_EAUTH);
    url_with(u, sizeof u, env("NATS_TEST_TOKEN"));
    expect_auth((struct np_client_opts){.servers = u, .token = "wrong"}, 0);
}

static void
test_userpass(void **state)
{
    (void)state;
    const char *user = env("NATS_TEST_USER"), *pass = env("NATS_TEST_PASS");
    char u[512], info[256];
    expect_auth((struct np_client_opts){.user = user, .pass = pass}, 0);
    expect_auth((struct np_client_opts){.user = user, .pass = "wrong"}, NP_CLIENT_EAUTH);
    expect_auth((struct np_client_opts){0}, NP_CLIENT_EAUTH);
    snprintf(info, sizeof info, "%s:%s", user, pass);
    url_with(u, sizeof u, info);
    expect_auth((struct np_client_opts){.servers = u, .user = user, .pass = "wrong"}, 0);
    url_with(u, sizeof u, "nobody:wrong");
    expect_auth((struct np_client_opts){.servers = u, .user = user, .pass = pass}, NP_CLIENT_EAUTH);
}

/* ---------------------------------------------------------------------------------------------- */
/* Group reconnect                                                                                */
/* ---------------------------------------------------------------------------------------------- */

static bool
port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Starts NATS_TEST_SERVER_CMD on port, requiring token when it is not NULL. */
static pid_t
start_server(int port, const char *token)
{
    char *cmd = strdup(env("NATS_TEST_SERVER_CMD")), *argv[16], portbuf[16];
    int argc = 0;
    for (char *tok = strtok(cmd, " "); tok && argc < 10; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    snprintf(portbuf, sizeof portbuf, "%d", port);
    argv[argc++] = "-a";
    argv[argc++] = "127.0.0.1";
    argv[argc++] = "-p";
    argv[argc++] = portbuf;
    if (token) {
        argv[argc++] = "--auth";
        argv[argc++] = (char *)token;
    }
    argv[argc] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    free(cmd);
    for (int i = 0; i < 200 && !port_accepts(port); i++)
        usleep(25 * 1000);
    assert_true(port_accepts(port));
    return pid;
}

static void
kill_server(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static bool
wait_event(struct np_client *c, const struct events *e, enum np_client_event ev, int from)
{
    (void)c;
    for (int i = 0; i < WAIT_MS / 50 && !saw_event(e, ev, from); i++)
        sleep_loop(50);
    return saw_event(e, ev, from);
}

static void
test_reconnect(void **state)
{
    (void)state;
    int port = free_port();
    char u[64];
    snprintf(u, sizeof u, "nats://127.0.0.1:%d", port);
    pid_t pid = start_server(port, NULL);
    struct events ev = {0};
    struct np_client *c = connect_ok((struct np_client_opts){.servers = u,
                                                             .max_reconnects = -1,
                                                             .reconnect_wait_ms = 50,
                                                             .on_event = on_event,
                                                             .ud = &ev});
    struct inbox in = {0}, once = {0};
    assert_true(np_client_subscribe(c, "e2e.rc", NULL, 0, on_msg, &in) > 0);
    assert_true(np_client_subscribe(c, "e2e.rc.max", NULL, 2, on_msg, &once) > 0);
    assert_int_equal(np_client_publish(c, "e2e.rc", NULL, none, str("before")), 0);
    assert_int_equal(np_client_publish(c, "e2e.rc.max", NULL, none, str("1")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 1);

    kill_server(pid);
    assert_true(wait_event(c, &ev, NP_CLIENT_DISCONNECTED, 1));
    assert_int_equal(ev.status[1], 0);
    assert_null(np_client_info(c));
    assert_int_equal(np_client_publish(c, "e2e.rc", NULL, none, str("buffered")), 0);
    struct done fl = {0};
    assert_int_equal(np_client_flush(c, on_done, &fl), 0);
    sleep_loop(300);

    pid = start_server(port, NULL);
    assert_true(wait_event(c, &ev, NP_CLIENT_RECONNECTED, 2));
    assert_true(run_until(&fl.fired, WAIT_MS));
    assert_int_equal(fl.status, 0);
    assert_int_equal(in.n, 2);
    assert_string_equal(in.data, "buffered");
    for (int i = 0; i < 3; i++)
        assert_int_equal(np_client_publish(c, "e2e.rc.max", NULL, none, str("n")), 0);
    assert_int_equal(np_client_publish(c, "e2e.rc", NULL, none, str("after")), 0);
    flush_ok(c);
    assert_int_equal(in.n, 3);
    assert_string_equal(in.data, "after");
    assert_int_equal(once.n, 2);
    close_client(c);
    kill_server(pid);
}

static void
test_reconnect_gives_up(void **state)
{
    (void)state;
    int port = free_port();
    char u[64];
    snprintf(u, sizeof u, "nats://127.0.0.1:%d", port);
    pid_t pid = start_server(port, NULL);
    struct events ev = {0};
    struct np_client *c = connect_ok((struct np_client_opts){.servers = u,
                                                             .max_reconnects = 2,
                                                             .reconnect_wait_ms = 20,
                                                             .on_event = on_event,
                                                             .ud = &ev});
    struct reply r = {0};
    assert_int_equal(np_client_request(c, "e2e.none", none, none, 4000, on_reply, &r), 0);
    kill_server(pid);
    for (int i = 0; i < 100 && ev.n < 3; i++)
        sleep_loop(50);
    assert_int_equal(ev.n, 3);
    assert_int_equal(ev.ev[1], NP_CLIENT_DISCONNECTED);
    assert_int_equal(ev.status[1], 0);
    assert_int_equal(ev.ev[2], NP_CLIENT_DISCONNECTED);
    assert_int_equal(ev.status[2], NP_CLIENT_ENO_SERVERS);
    assert_true(r.fired);
    assert_true(r.status == NP_CLIENT_ECLOSED || r.status == NP_CLIENT_ENO_RESPONDERS);
    assert_int_equal(np_client_publish(c, "e2e.x", NULL, none, none), NP_CLIENT_ECLOSED);
    close_client(c);
}

/* A server that comes back refusing our credentials twice in a row is not retried forever. */
static void
test_reconnect_auth_ban(void **state)
{
    (void)state;
    int port = free_port();
    char u[64];
    snprintf(u, sizeof u, "nats://127.0.0.1:%d", port);
    pid_t pid = start_server(port, NULL);
    struct events ev = {0};
    struct np_client *c = connect_ok((struct np_client_opts){.servers = u,
                                                             .max_reconnects = -1,
                                                             .reconnect_wait_ms = 20,
                                                             .on_event = on_event,
                                                             .ud = &ev});
    kill_server(pid);
    pid = start_server(port, "another-token");
    for (int i = 0; i < 100 && ev.n < 3; i++)
        sleep_loop(50);
    assert_int_equal(ev.n, 3);
    assert_int_equal(ev.ev[1], NP_CLIENT_DISCONNECTED);
    assert_int_equal(ev.status[1], 0);
    assert_int_equal(ev.ev[2], NP_CLIENT_DISCONNECTED);
    assert_int_equal(ev.status[2], NP_CLIENT_EAUTH);
    assert_string_equal(np_client_last_error(c), "Authorization Violation");
    close_client(c);
    kill_server(pid);
}

/* ---------------------------------------------------------------------------------------------- */

#define T(f) cmocka_unit_test_teardown(f, check_loop_empty)

static const struct CMUnitTest basic[] = {
    T(test_connect_close),
    T(test_pubsub),
    T(test_no_echo),
    T(test_queue),
    T(test_auto_unsub),
    T(test_unsub_in_callback),
    T(test_close_in_callback),
    T(test_headers),
    T(test_flush_order),
    T(test_request),
    T(test_no_responders),
    T(test_request_timeout),
    T(test_drain),
    T(test_max_payload),
};
static const struct CMUnitTest servers[] = {T(test_dead_first), T(test_hostname), T(test_all_dead),
                                            T(test_bad_url)};
static const struct CMUnitTest token[] = {T(test_token)};
static const struct CMUnitTest userpass[] = {T(test_userpass)};
static const struct CMUnitTest reconnect[] = {T(test_reconnect), T(test_reconnect_gives_up),
                                              T(test_reconnect_auth_ban)};

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: client-e2e basic|servers|token|userpass|reconnect URL\n");
        return 2;
    }
    url = argv[2];
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    int rc = 2;
    const char *g = argv[1];
    if (strcmp(g, "basic") == 0) rc = cmocka_run_group_tests_name("basic", basic, NULL, NULL);
    if (strcmp(g, "servers") == 0) rc = cmocka_run_group_tests_name("servers", servers, NULL, NULL);
    if (strcmp(g, "token") == 0) rc = cmocka_run_group_tests_name("token", token, NULL, NULL);
    if (strcmp(g, "userpass") == 0)
        rc = cmocka_run_group_tests_name("userpass", userpass, NULL, NULL);
    if (strcmp(g, "reconnect") == 0)
        rc = cmocka_run_group_tests_name("reconnect", reconnect, NULL, NULL);
    if (rc == 2 && strcmp(g, "basic") && strcmp(g, "servers") && strcmp(g, "token") &&
        strcmp(g, "userpass") && strcmp(g, "reconnect"))
        fprintf(stderr, "client-e2e: unknown group '%s'\n", g);
    uv_loop_close(&loop);
    return rc;
}
