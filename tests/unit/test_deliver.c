/*
 * The message path with receivers of every kind: internal subscriptions (callbacks after the
 * delivery, queue groups, unsubscribing while messages wait), route receivers (one RMSG per route
 * naming its queue groups, headers stripped for a route without them, never a second hop), and a
 * real client on a socket talking to an internal responder and getting no-responders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_deliver.h"
#include "nb_srv.h"

struct fixture {
    uv_loop_t loop;
    struct nb_server *srv;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct nb_config cfg;
    nb_config_init(&cfg);
    cfg.port = 0;
    assert_int_equal(nb_server_new(&f->srv, &f->loop, &cfg), 0);
    nb_config_release(&cfg);
    assert_int_equal(nb_server_start(f->srv), 0);
    *state = f;
    return 0;
}

static void
on_stopped(struct nb_server *srv, void *ud)
{
    (void)srv;
    *(bool *)ud = true;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    bool stopped = false;
    nb_server_stop(f->srv, on_stopped, &stopped);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(stopped);
    nb_server_free(f->srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* ---- internal subscriptions ---------------------------------------------------------------------- */

/* Which recorder ran, in order, across all of them. */
static char order[64];

/* What a callback saw, one "subject|reply|headers|body" line per message. */
struct recorder {
    char name;
    char seen[16][128];
    int n;
    struct nb_isub *self;
    struct nb_isub *unsub_on_first; /* a subscription the first message ends */
    bool publish_from_callback;
};

static void
record(struct nb_server *srv, const struct nb_msg *m, void *ud)
{
    struct recorder *r = ud;
    assert_true(r->n < 16);
    size_t len = strlen(order);
    if (r->name && len + 1 < sizeof order) order[len] = r->name;
    snprintf(r->seen[r->n++], sizeof r->seen[0], "%.*s|%.*s|%.*s|%.*s", (int)m->subject_len,
             m->subject, (int)m->reply_len, m->reply ? m->reply : "", (int)m->hdr_len,
             m->data ? m->data : "", (int)(m->len - m->hdr_len),
             m->data ? m->data + m->hdr_len : "");
    if (r->unsub_on_first && r->n == 1) nb_server_unsubscribe(srv, r->unsub_on_first);
    if (r->publish_from_callback) {
        r->publish_from_callback = false;
        struct nb_msg reply = {.subject = "echo.back", .subject_len = 9, .data = "pong", .len = 4};
        assert_int_equal(nb_server_publish(srv, &reply), 1);
    }
}

static struct nb_msg
msg(const char *subject, const char *reply, const char *data)
{
    return (struct nb_msg){
        .subject = subject,
        .subject_len = strlen(subject),
        .reply = reply,
        .reply_len = reply ? strlen(reply) : 0,
        .data = data,
        .len = data ? strlen(data) : 0,
    };
}

static void
test_internal_subscriptions(void **state)
{
    struct fixture *f = *state;
    struct recorder lit = {0}, wild = {0};
    struct nb_isub *a, *b;
    assert_int_equal(nb_server_subscribe(f->srv, "svc.a", NULL, record, &lit, &a), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "svc.*", NULL, record, &wild, &b), 0);
    struct nb_msg m = msg("svc.a", "_INBOX.1", "hello");
    assert_int_equal(nb_server_publish(f->srv, &m), 2);
    struct nb_msg h = {.subject = "svc.b",
                       .subject_len = 5,
                       .data = "NATS/1.0\r\n\r\nx",
                       .len = 13,
                       .hdr_len = 12};
    assert_int_equal(nb_server_publish(f->srv, &h), 1);
    assert_int_equal(lit.n, 1);
    assert_string_equal(lit.seen[0], "svc.a|_INBOX.1||hello");
    assert_int_equal(wild.n, 2);
    assert_string_equal(wild.seen[1], "svc.b||NATS/1.0\r\n\r\n|x");
    nb_server_unsubscribe(f->srv, a);
    assert_int_equal(nb_server_publish(f->srv, &m), 1);
    assert_int_equal(lit.n, 1);
    nb_server_unsubscribe(f->srv, b);
    assert_int_equal(nb_server_publish(f->srv, &m), 0);
}

static void
test_invalid_subjects_are_refused(void **state)
{
    struct fixture *f = *state;
    struct recorder r = {0};
    struct nb_isub *s;
    assert_int_equal(nb_server_subscribe(f->srv, "a..b", NULL, record, &r, &s), NB_ECONFIG);
    assert_int_equal(nb_server_subscribe(f->srv, "a.b", "bad queue", record, &r, &s), NB_ECONFIG);
    struct nb_msg wild = msg("a.*", NULL, "x");
    assert_int_equal(nb_server_publish(f->srv, &wild), NB_ECONFIG);
}

static void
test_internal_queue_group_gets_each_message_once(void **state)
{
    struct fixture *f = *state;
    struct recorder r1 = {0}, r2 = {0}, plain = {0};
    struct nb_isub *s1, *s2, *s3;
    assert_int_equal(nb_server_subscribe(f->srv, "work", "q", record, &r1, &s1), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "work", "q", record, &r2, &s2), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "work", NULL, record, &plain, &s3), 0);
    struct nb_msg m = msg("work", NULL, "job");
    for (int i = 0; i < 12; i++)
        assert_int_equal(nb_server_publish(f->srv, &m), 2);
    assert_int_equal(r1.n + r2.n, 12);
    assert_int_equal(plain.n, 12);
}

/* A callback that publishes runs after the delivery that called it, and its message arrives. */
static void
test_callback_may_publish_and_unsubscribe(void **state)
{
    struct fixture *f = *state;
    struct recorder svc = {.name = 's', .publish_from_callback = true}, back = {.name = 'b'},
                    other = {.name = 'o'};
    order[0] = '\0';
    struct nb_isub *s1, *s2, *s3;
    assert_int_equal(nb_server_subscribe(f->srv, "echo", NULL, record, &svc, &s1), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "echo.back", NULL, record, &back, &s2), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "echo", NULL, record, &other, &s3), 0);
    /* The first callback ends the other subscription, whose copy is already queued. */
    svc.unsub_on_first = s3;
    struct nb_msg m = msg("echo", NULL, "ping");
    assert_int_equal(nb_server_publish(f->srv, &m), 2);
    assert_int_equal(svc.n, 1);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.seen[0], "echo.back|||pong");
    /* Callbacks run in delivery order, and what one publishes runs after those already queued. */
    if (order[0] == 's') {
        assert_string_equal(order, "sb"); /* o's copy was dropped: it had unsubscribed */
    } else {
        assert_string_equal(order, "osb");
    }
    assert_int_equal(nb_server_publish(f->srv, &m), 1);
}

static uint64_t
matches(struct nb_server *srv)
{
    struct nb_sublist_stats st;
    nb_sublist_stats(srv->sublist, &st);
    return st.matches;
}

/* An ack skips the match while its subscription is alone, and is matched again beside a sniffer. */
static void
test_acks_reach_their_subscription_directly(void **state)
{
    struct fixture *f = *state;
    struct recorder acks = {.name = 'a', .publish_from_callback = true}, sniff = {.name = 's'},
                    back = {.name = 'b'};
    struct nb_isub *a, *s, *b;
    assert_int_equal(nb__subscribe_acks(f->srv, "$JS.ACK.S.C", record, &acks, &a), NB_ECONFIG);
    assert_int_equal(nb__subscribe_acks(f->srv, "$JS.ACK.S.C.>", record, &acks, &a), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "echo.back", NULL, record, &back, &b), 0);
    struct nb_msg m = msg("$JS.ACK.S.C.1.2.2.0.0", "_INBOX.x", "+ACK");
    uint64_t before = matches(f->srv);
    assert_int_equal(nb_server_publish(f->srv, &m), 1);
    assert_int_equal(acks.n, 1);
    assert_string_equal(acks.seen[0], "$JS.ACK.S.C.1.2.2.0.0|_INBOX.x||+ACK");
    assert_int_equal(back.n, 1); /* what the callback published was delivered after it */
    assert_int_equal(matches(f->srv), before + 1);
    assert_int_equal(nb_server_subscribe(f->srv, "$JS.>", NULL, record, &sniff, &s), 0);
    assert_int_equal(nb_server_publish(f->srv, &m), 2);
    assert_int_equal(sniff.n, 1);
    assert_int_equal(acks.n, 2);
    nb_server_unsubscribe(f->srv, s);
    before = matches(f->srv);
    assert_int_equal(nb_server_publish(f->srv, &m), 1);
    assert_int_equal(matches(f->srv), before);
    assert_int_equal(acks.n, 3);
    nb_server_unsubscribe(f->srv, a);
    assert_int_equal(nb_server_publish(f->srv, &m), 0);
    assert_int_equal(acks.n, 3);
}

/* ---- routes -------------------------------------------------------------------------------------- */

static void
route_noop(struct nb_conn *c)
{
    (void)c;
}

static const struct nb_proto fake_route_proto = {
    .id_label = "rid", .kind_name = "Router", .teardown = route_noop, .destroy = route_noop};

struct route {
    struct nb_conn conn;
    struct nb_rsub *subs[4];
};

static void
route_init(struct fixture *f, struct route *r, bool headers)
{
    memset(r, 0, sizeof *r);
    r->conn.srv = f->srv;
    r->conn.proto = &fake_route_proto;
    r->conn.headers = headers;
    strcpy(r->conn.addr, "test");
}

/* The peer's interest in subject (queue: weight members of that group), as nb_route.c keeps it. */
static void
route_qsub(struct fixture *f, struct route *r, int i, const char *subject, const char *queue,
           uint32_t weight)
{
    r->subs[i] = calloc(1, sizeof *r->subs[i]);
    assert_non_null(r->subs[i]);
    r->subs[i]->weight = weight;
    r->subs[i]->sub = (struct nb_sub){.owner = &r->conn,
                                      .kind = NB_RECV_ROUTE,
                                      .subject = subject,
                                      .subject_len = (uint32_t)strlen(subject),
                                      .queue = queue,
                                      .queue_len = queue ? (uint32_t)strlen(queue) : 0,
                                      .sid = ""};
    assert_int_equal(nb_sublist_insert(f->srv->sublist, &r->subs[i]->sub), 0);
}

static void
route_sub(struct fixture *f, struct route *r, int i, const char *subject, const char *queue)
{
    route_qsub(f, r, i, subject, queue, 1);
}

/* Takes what was queued for r, as text, and empties its queue. */
static void
route_take(struct fixture *f, struct route *r, char *out, size_t cap)
{
    uv_buf_t bufs[8];
    unsigned n = nb__outq_bufs(&r->conn.out, bufs, 8);
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(len + bufs[i].len < cap);
        memcpy(out + len, bufs[i].base, bufs[i].len);
        len += bufs[i].len;
    }
    out[len] = '\0';
    nb__outq_consume(&r->conn.out, &f->srv->pool, len);
}

static void
route_done(struct fixture *f, struct route *r)
{
    for (int i = 0; i < 4; i++) {
        if (r->subs[i]) nb_sublist_remove(f->srv->sublist, &r->subs[i]->sub);
        free(r->subs[i]);
    }
    nb__outq_release(&r->conn.out, &f->srv->pool);
    f->srv->flush_list = NULL;
}

static void
test_route_gets_one_rmsg_per_message(void **state)
{
    struct fixture *f = *state;
    struct route a, b;
    route_init(f, &a, true);
    route_init(f, &b, false);
    route_sub(f, &a, 0, "foo", NULL);
    route_sub(f, &a, 1, "foo.>", NULL); /* no match for "foo" */
    route_sub(f, &a, 2, "*", NULL);     /* a second key of the same route */
    route_sub(f, &b, 0, ">", NULL);
    struct nb_msg m = msg("foo", "rep", "hi");
    assert_int_equal(nb_server_publish(f->srv, &m), 3);
    char out[512];
    route_take(f, &a, out, sizeof out);
    assert_string_equal(out, "RMSG $G foo rep 2\r\nhi\r\n");
    route_take(f, &b, out, sizeof out);
    assert_string_equal(out, "RMSG $G foo rep 2\r\nhi\r\n");
    struct nb_msg h = {
        .subject = "foo", .subject_len = 3, .data = "NATS/1.0\r\n\r\nhi", .len = 14, .hdr_len = 12};
    nb_server_publish(f->srv, &h);
    route_take(f, &a, out, sizeof out);
    assert_string_equal(out, "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
    route_take(f, &b, out, sizeof out);
    assert_string_equal(out, "RMSG $G foo 2\r\nhi\r\n"); /* b did not ask for headers */
    route_done(f, &a);
    route_done(f, &b);
}

static void
test_route_queue_members_are_named(void **state)
{
    struct fixture *f = *state;
    struct route a;
    route_init(f, &a, true);
    route_sub(f, &a, 0, "q", "g1");
    route_sub(f, &a, 1, "q", "g2");
    struct nb_msg m = msg("q", "r", "x");
    assert_int_equal(nb_server_publish(f->srv, &m), 2);
    char out[512];
    route_take(f, &a, out, sizeof out);
    /* Queue groups come in the sublist's order; either is a correct line. */
    assert_true(strcmp(out, "RMSG $G q + r g1 g2 1\r\nx\r\n") == 0 ||
                strcmp(out, "RMSG $G q + r g2 g1 1\r\nx\r\n") == 0);
    struct nb_msg noreply = msg("q", NULL, "y");
    nb_server_publish(f->srv, &noreply);
    route_take(f, &a, out, sizeof out);
    assert_true(strncmp(out, "RMSG $G q | g", 13) == 0);
    route_done(f, &a);
}

static void
test_route_message_never_goes_to_another_route(void **state)
{
    struct fixture *f = *state;
    struct route in, out_route;
    route_init(f, &in, true);
    route_init(f, &out_route, true);
    route_sub(f, &out_route, 0, "foo", NULL);
    struct recorder local = {0};
    struct nb_isub *s;
    assert_int_equal(nb_server_subscribe(f->srv, "foo", NULL, record, &local, &s), 0);
    struct nb_msg m = msg("foo", NULL, "hop");
    assert_int_equal(nb__publish(f->srv, &in.conn, &m), 1);
    assert_int_equal(local.n, 1);
    assert_int_equal(out_route.conn.out.pending, 0);
    route_done(f, &in);
    route_done(f, &out_route);
}

/* A member on this server takes the message; a route's member only gets what no local one can. */
static void
test_queue_prefers_a_local_member(void **state)
{
    struct fixture *f = *state;
    struct route a;
    route_init(f, &a, true);
    route_qsub(f, &a, 0, "q", "g", 5);
    struct recorder local = {0};
    struct nb_isub *s;
    assert_int_equal(nb_server_subscribe(f->srv, "q", "g", record, &local, &s), 0);
    for (int i = 0; i < 10; i++) {
        struct nb_msg m = msg("q", NULL, "x");
        assert_int_equal(nb_server_publish(f->srv, &m), 1);
    }
    assert_int_equal(local.n, 10);
    assert_int_equal(a.conn.out.pending, 0);
    nb_server_unsubscribe(f->srv, s);
    struct nb_msg m = msg("q", NULL, "y");
    assert_int_equal(nb_server_publish(f->srv, &m), 1);
    char out[512];
    route_take(f, &a, out, sizeof out);
    assert_string_equal(out, "RMSG $G q | g 1\r\ny\r\n");
    route_done(f, &a);
}

/* Routes get a group's messages in proportion to the members they announced. */
static void
test_route_queue_weights(void **state)
{
    struct fixture *f = *state;
    struct route a, b;
    route_init(f, &a, true);
    route_init(f, &b, true);
    route_qsub(f, &a, 0, "q", "g", 1);
    route_qsub(f, &b, 0, "q", "g", 3);
    for (int i = 0; i < 4000; i++) {
        struct nb_msg m = msg("q", NULL, "");
        assert_int_equal(nb_server_publish(f->srv, &m), 1);
    }
    uint64_t na = a.conn.out_msgs, nb = b.conn.out_msgs;
    assert_int_equal(na + nb, 4000);
    assert_true(na > 700 && na < 1300); /* 1000 expected */
    route_done(f, &a);
    route_done(f, &b);
}

/* A route's message goes to the groups it names, each served here, and to no other group. */
static void
test_route_message_serves_only_named_groups(void **state)
{
    struct fixture *f = *state;
    struct route in;
    route_init(f, &in, true);
    struct recorder g1 = {0}, g2 = {0}, plain = {0};
    struct nb_isub *s1, *s2, *s3;
    assert_int_equal(nb_server_subscribe(f->srv, "q", "g1", record, &g1, &s1), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "q", "g2", record, &g2, &s2), 0);
    assert_int_equal(nb_server_subscribe(f->srv, "q", NULL, record, &plain, &s3), 0);
    struct nb_msg m = msg("q", NULL, "x");
    assert_int_equal(nb__publish_routed(f->srv, f->srv->gacc, &in.conn, &m, (struct np_str){0}), 1);
    assert_int_equal(
        nb__publish_routed(f->srv, f->srv->gacc, &in.conn, &m, NP_STR_LIT(" g1  other")), 2);
    assert_int_equal(nb__publish_routed(f->srv, f->srv->gacc, &in.conn, &m, NP_STR_LIT("g2 g1")),
                     3);
    assert_int_equal(g1.n, 2);
    assert_int_equal(g2.n, 1);
    assert_int_equal(plain.n, 3);
    route_done(f, &in);
}

/*
 * A stream message for a consumer's inbox on another server keeps its subject; the inbox travels
 * after the $JS.ACK reply ("<reply>@<inbox>"), and the receiving side matches it there.
 */
static void
test_consumer_delivery_crosses_a_route(void **state)
{
    struct fixture *f = *state;
    struct route a;
    route_init(f, &a, true);
    route_sub(f, &a, 0, "_INBOX.x", NULL);
    struct nb_msg m = msg("orders.new", "$JS.ACK.S.C.1.1.1.0.0", "hi");
    assert_int_equal(nb_server_deliver(f->srv, "_INBOX.x", 8, &m), 1);
    char out[512];
    route_take(f, &a, out, sizeof out);
    assert_string_equal(out, "RMSG $G orders.new $JS.ACK.S.C.1.1.1.0.0@_INBOX.x 2\r\nhi\r\n");
    route_done(f, &a);
    struct route in;
    route_init(f, &in, true);
    struct recorder inbox = {0};
    struct nb_isub *s;
    assert_int_equal(nb_server_subscribe(f->srv, "_INBOX.y", NULL, record, &inbox, &s), 0);
    struct nb_msg routed = msg("orders.new", "$JS.ACK.S.C.1.1.1.0.0@_INBOX.y", "hi");
    assert_int_equal(
        nb__publish_routed(f->srv, f->srv->gacc, &in.conn, &routed, (struct np_str){0}), 1);
    assert_int_equal(inbox.n, 1);
    assert_string_equal(inbox.seen[0], "orders.new|$JS.ACK.S.C.1.1.1.0.0||hi");
    route_done(f, &in);
}

/* ---- a client on a socket ------------------------------------------------------------------------ */

static void
responder(struct nb_server *srv, const struct nb_msg *m, void *ud)
{
    (void)ud;
    struct nb_msg reply = {
        .subject = m->reply, .subject_len = m->reply_len, .data = "answer", .len = 6};
    nb_server_publish(srv, &reply);
}

static int
dial(struct fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)nb_server_port(f->srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Runs the loop and reads from fd until want appears in what was read (two seconds at most). */
static void
expect(struct fixture *f, int fd, const char *want)
{
    char buf[4096];
    size_t len = 0;
    for (int i = 0; i < 2000; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1) == 1) {
            ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
            assert_true(n > 0);
            len += (size_t)n;
            buf[len] = '\0';
            if (strstr(buf, want)) return;
        }
    }
    fail_msg("never saw \"%s\" in \"%s\"", want, buf);
}

static void
send_text(int fd, const char *text)
{
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void
test_client_request_to_internal_responder(void **state)
{
    struct fixture *f = *state;
    struct nb_isub *svc;
    assert_int_equal(nb_server_subscribe(f->srv, "svc.time", "workers", responder, NULL, &svc), 0);
    int fd = dial(f);
    expect(f, fd, "INFO {");
    send_text(fd, "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                  "SUB _INBOX.me.* 7\r\nPUB svc.time _INBOX.me.1 3\r\nnow\r\n");
    expect(f, fd, "MSG _INBOX.me.1 7 6\r\nanswer\r\n");
    /* Nobody serves svc.none: the requester hears so at once, as from nats-server. */
    send_text(fd, "PUB svc.none _INBOX.me.2 0\r\n\r\n");
    expect(f, fd, "HMSG _INBOX.me.2 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
    /* Once the internal responder is gone, the requester hears that nobody is listening. */
    nb_server_unsubscribe(f->srv, svc);
    send_text(fd, "PUB svc.time _INBOX.me.3 0\r\n\r\nPING\r\n");
    expect(f, fd, "HMSG _INBOX.me.3 7 16 16\r\n");
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_internal_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_subjects_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_queue_group_gets_each_message_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_callback_may_publish_and_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acks_reach_their_subscription_directly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_route_gets_one_rmsg_per_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_queue_members_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_prefers_a_local_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_delivery_crosses_a_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_queue_weights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_message_serves_only_named_groups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_route_message_never_goes_to_another_route, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_request_to_internal_responder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
