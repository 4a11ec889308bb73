/*
 * A timed visit to a server. Round trips are timed one at a time, each PING sent only after the
 * previous PONG, so that each measures a full round trip rather than the pipelining of several.
 * The clock is uv_hrtime(): monotonic, nanoseconds.
 */
#include "cli_probe.h"
#include "cli_conn.h"
#include "cli_host.h"

#include <stdio.h>
#include <string.h>

struct probe_run {
    struct cli_probe *p;
    uv_loop_t own, *loop; /* its own, or the shell's (cli_host.h) */
    struct np_client *nc;
    uv_timer_t timer; /* the message's deadline */
    uint64_t t0, total;
    int done;
    bool finished, closed, hosted;
    char inbox[64];
    char payload[100];
};

static void
on_closed(struct np_client *c, int status, void *ud)
{
    struct probe_run *r = ud;
    (void)c;
    (void)status;
    r->closed = true;
}

static void
finish(struct probe_run *r, int status, const char *where)
{
    if (r->finished) return;
    r->finished = true;
    r->p->status = status;
    if (status != 0) {
        r->p->where = where;
        if (!*r->p->why) snprintf(r->p->why, sizeof r->p->why, "%s", np_client_strerror(status));
    }
    if (r->hosted) cli_host_listen(NULL, NULL);
    uv_close((uv_handle_t *)&r->timer, NULL);
    np_client_close(r->nc, on_closed, r);
}

static void
on_interrupt(void *ud)
{
    struct probe_run *r = ud;
    r->p->interrupted = true;
    finish(r, NP_CLIENT_ECLOSED, "interrupted");
}

static void
on_timeout(uv_timer_t *t)
{
    finish(t->data, NP_CLIENT_ETIMEOUT, "message");
}

static void
on_msg(struct np_client *c, const struct np_msg *m, void *ud)
{
    struct probe_run *r = ud;
    (void)c;
    r->p->message_ns = uv_hrtime() - r->t0;
    r->p->message_ok =
        m->data.len == sizeof r->payload && memcmp(m->data.ptr, r->payload, m->data.len) == 0;
    finish(r, 0, NULL);
}

/* natscli sends 100 random characters; any content that changes from run to run will do. */
static void
fill_payload(struct probe_run *r)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t x = uv_hrtime() | 1;
    for (size_t i = 0; i < sizeof r->payload; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r->payload[i] = chars[x % (sizeof chars - 1)];
    }
}

static void
send_message(struct probe_run *r)
{
    np_client_new_inbox(r->nc, r->inbox, sizeof r->inbox);
    fill_payload(r);
    int64_t sid = np_client_subscribe(r->nc, r->inbox, NULL, 1, on_msg, r);
    if (sid < 0) {
        finish(r, (int)sid, "message");
        return;
    }
    r->t0 = uv_hrtime();
    struct np_str data = {r->payload, sizeof r->payload};
    int rc = np_client_publish(r->nc, r->inbox, NULL, (struct np_str){NULL, 0}, data);
    if (rc != 0) {
        finish(r, rc, "message");
        return;
    }
    uv_timer_start(&r->timer, on_timeout, r->p->env->timeout_ms, 0);
}

static void
after_pings(struct probe_run *r)
{
    r->p->rtt_ns = r->done ? r->total / (uint64_t)r->done : 0;
    if (r->p->message)
        send_message(r);
    else
        finish(r, 0, NULL);
}

static void ping(struct probe_run *r);

static void
on_pong(struct np_client *c, int status, void *ud)
{
    struct probe_run *r = ud;
    (void)c;
    if (r->finished) return;
    if (status != 0) {
        finish(r, status, "rtt");
        return;
    }
    r->total += uv_hrtime() - r->t0;
    if (++r->done < r->p->pings)
        ping(r);
    else
        after_pings(r);
}

static void
ping(struct probe_run *r)
{
    r->t0 = uv_hrtime();
    int rc = np_client_flush(r->nc, on_pong, r);
    if (rc != 0) finish(r, rc, "rtt");
}

static void
on_connect(struct np_client *c, int status, void *ud)
{
    struct probe_run *r = ud;
    if (r->finished) return;
    if (status != 0) {
        cli_conn_why(r->p->env, c, status, r->p->why, sizeof r->p->why);
        finish(r, status, "connect");
        return;
    }
    r->p->connect_ns = uv_hrtime() - r->t0;
    if (r->p->pings > 0)
        ping(r);
    else
        after_pings(r);
}

static bool
closed(void *ud)
{
    struct probe_run *r = ud;
    return r->closed;
}

static void
start(struct probe_run *r)
{
    struct cli_probe *p = r->p;
    struct np_client_opts o = cli_conn_client_opts(p->env);
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    int rc = np_client_new(&r->nc, r->loop, &o);
    if (rc != 0) {
        r->finished = r->closed = true;
        p->status = rc;
        p->where = "connect";
        snprintf(p->why, sizeof p->why, "%s", np_client_strerror(rc));
        uv_close((uv_handle_t *)&r->timer, NULL);
        return;
    }
    r->t0 = uv_hrtime();
    rc = np_client_connect(r->nc, on_connect, r);
    if (rc != 0) {
        cli_conn_why(p->env, r->nc, rc, p->why, sizeof p->why);
        finish(r, rc, "connect");
    } else if (r->hosted && cli_host_listen(on_interrupt, r)) {
        on_interrupt(r);
    }
}

int
cli_probe_run(struct cli_probe *p)
{
    struct probe_run r = {.p = p, .loop = cli_host_loop()};
    p->status = 0;
    p->where = NULL;
    p->why[0] = '\0';
    p->interrupted = false;
    r.hosted = r.loop != NULL;
    if (!r.hosted) {
        r.loop = &r.own;
        if (uv_loop_init(r.loop) != 0) return p->status = NP_ENOMEM;
    }
    start(&r);
    if (r.hosted) {
        cli_host_run(closed, &r);
    } else {
        uv_run(r.loop, UV_RUN_DEFAULT);
        uv_loop_close(r.loop);
    }
    return p->status;
}
