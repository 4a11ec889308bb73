/*
 * Lame duck mode (spec 3.5), as nats-server 2.9's lameDuckMode(). A server about to go away stops
 * accepting clients and tells its routes and its clients, with an INFO carrying "ldm": true; the
 * clients' INFO lists only the other servers, so that they reconnect there. After the grace period
 * it closes its clients one at a time (or a batch at a time when there are very many), spread
 * over the rest of lame_duck_duration, so that they do not all land on the survivors at once; then
 * it shuts down. Routes stay up to the end: the clients still here keep their traffic.
 *
 * The closes follow one timer, which the server's stop closes, so an interrupt in the middle (a
 * SIGINT) ends lame duck mode as any stop would.
 */
#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_srv.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_MS  1000000LL
#define NS_PER_SEC 1000000000LL

struct nb_ldm {
    uv_timer_t timer; /* the grace period, then the pause before each close */
    struct nb_server *srv;
    void (*done)(struct nb_server *, void *); /* the stop's callback at the end */
    void *ud;
    int64_t pause_ns; /* the longest pause between two closes (nats-server's si) */
    uint64_t batch;   /* clients closed without a pause in between */
    uint64_t closed;  /* clients closed so far */
};

/* A client not already on its way out; no new ones arrive once the listener is closed. */
static struct nb_conn *
next_client(struct nb_server *srv)
{
    for (struct nb_conn *c = srv->conns; c; c = c->next) {
        if (nb__conn_is_client(c) && !c->closing) return c;
    }
    return NULL;
}

static uint64_t
count_clients(struct nb_server *srv)
{
    uint64_t n = 0;
    for (struct nb_conn *c = srv->conns; c; c = c->next)
        n += nb__conn_is_client(c) && !c->closing;
    return n;
}

/*
 * nats-server's spacing: what the duration leaves after the grace period (at least 1 s) is shared
 * among the clients, but a pause never exceeds 1 s; with more clients than nanoseconds, several
 * close per pause.
 */
static void
plan(struct nb_ldm *l, const struct nb_config *cfg, uint64_t nclients)
{
    int64_t dur = (cfg->lame_duck_duration_ms - cfg->lame_duck_grace_ms) * NS_PER_MS;
    if (dur <= 0) dur = NS_PER_SEC;
    l->batch = 1;
    l->pause_ns = dur / (int64_t)nclients;
    if (l->pause_ns < 1) {
        l->pause_ns = 1;
        l->batch = nclients / (uint64_t)dur;
    } else if (l->pause_ns > NS_PER_SEC) {
        l->pause_ns = NS_PER_SEC;
    }
}

/* A random pause between half the longest and the longest, as nats-server draws it. */
static uint64_t
pause_ms(struct nb_ldm *l)
{
    int64_t v = (int64_t)(nb__rand(l->srv) % (uint64_t)l->pause_ns);
    if (v < l->pause_ns / 2) v = l->pause_ns / 2;
    return (uint64_t)(v / NS_PER_MS);
}

static void
finish(struct nb_ldm *l)
{
    nb_server_stop(l->srv, l->done, l->ud);
}

static void
on_timer(uv_timer_t *t)
{
    struct nb_ldm *l = t->data;
    struct nb_server *srv = l->srv;
    if (l->closed == 0) nb__log(srv, NB_LOG_INFO, "Closing existing clients");
    for (;;) {
        struct nb_conn *c = next_client(srv);
        if (!c) {
            finish(l);
            return;
        }
        nb__conn_close(c, NB_CLOSE_SHUTDOWN, true);
        uint64_t i = l->closed++;
        if (!next_client(srv)) {
            finish(l);
            return;
        }
        if (l->batch == 1 || i % l->batch == 0) {
            uv_timer_start(t, on_timer, pause_ms(l), 0);
            return;
        }
    }
}

/* The route INFO with "ldm": true, once to each registered route, as nats-server sends it. */
static void
tell_routes(struct nb_server *srv)
{
    if (!srv->cluster) return;
    char *json = nb__cluster_info_json(srv);
    size_t n = json ? strlen(json) : 0;
    char *line = json ? malloc(n + 8) : NULL;
    if (line) {
        size_t len = np_enc_info(line, n + 8, (struct np_str){json, n});
        size_t it = 0, klen;
        const char *key;
        void *route;
        while (np_map_next(&srv->cluster->remotes, &it, &key, &klen, &route))
            nb__route_send(route, line, len);
    }
    free(line);
    free(json);
}

/*
 * Every client that takes async INFOs gets "ldm": true and connect_urls without this server's
 * own URLs, which later INFOs leave out too (nb__curls_list).
 */
static void
tell_clients(struct nb_server *srv)
{
    if (srv->cluster) srv->cluster->urls_gen++;
    for (struct nb_conn *c = srv->conns; c; c = c->next) {
        if (nb__conn_is_client(c) && !c->closing) nb__client_async_info(nb__client_of(c));
    }
}

static void
on_listener_closed(uv_handle_t *h)
{
    nb__server_handle_closed(h->data);
}

static void
on_timer_closed(uv_handle_t *h)
{
    struct nb_ldm *l = h->data;
    struct nb_server *srv = l->srv;
    free(l);
    nb__server_handle_closed(srv);
}

int
nb_server_lame_duck(struct nb_server *srv, void (*done)(struct nb_server *srv, void *ud), void *ud)
{
    if (!srv->started || srv->stopping || srv->lame_duck) return NB_ESTATE;
    struct nb_ldm *l = calloc(1, sizeof *l);
    if (!l) return NB_ENOMEM;
    nb__log(srv, NB_LOG_INFO, "Entering lame duck mode, stop accepting new clients");
    srv->lame_duck = true;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    uint64_t n = count_clients(srv);
    if (n == 0) {
        free(l);
        nb_server_stop(srv, done, ud);
        return 0;
    }
    l->srv = srv;
    l->done = done;
    l->ud = ud;
    plan(l, &srv->cfg, n);
    uv_timer_init(srv->loop, &l->timer);
    l->timer.data = l;
    srv->open_handles++;
    srv->ldm = l;
    srv->ldm_info = true;
    tell_routes(srv);
    tell_clients(srv);
    srv->ldm_info = false;
    uv_timer_start(&l->timer, on_timer, (uint64_t)srv->cfg.lame_duck_grace_ms, 0);
    return 0;
}

bool
nb_server_in_lame_duck(const struct nb_server *srv)
{
    return srv->lame_duck;
}

void
nb__ldm_stop(struct nb_server *srv)
{
    if (!srv->ldm) return;
    uv_close((uv_handle_t *)&srv->ldm->timer, on_timer_closed);
    srv->ldm = NULL;
}
