/*
 * The server object: listener, the per-iteration flusher, the housekeeping ticker and shutdown.
 *
 * One libuv loop owns everything. Output produced while handling reads and timers is only queued;
 * the check handle (which runs right after the loop polls for I/O) then writes every connection on
 * the pending-flush list once, so a connection costs one system call per iteration however many
 * messages it got. Connections that must close are torn down from the same place, never in the
 * middle of delivering a message.
 */
#include "nb_account.h"
#include "nb_auth.h"
#include "nb_client.h"
#include "nb_cluster.h"
#include "nb_http.h"
#include "nb_js.h"
#include "nb_monitor.h"
#include "nb_srv.h"
#include "nb_sys.h"
#include "nb_tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 100

uint64_t
nb__now_ms(const struct nb_server *srv)
{
    return uv_now(srv->loop);
}

int64_t
nb__wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t
nb__rand(struct nb_server *srv)
{
    return np_rand_next(&srv->rng);
}

bool
nb__log_enabled(const struct nb_server *srv, enum nb_log_level level)
{
    if (!srv->cfg.log) return false;
    if (level == NB_LOG_DEBUG) return srv->cfg.debug;
    return level != NB_LOG_TRACE || srv->cfg.trace;
}

void
nb__vlog(const struct nb_server *srv, enum nb_log_level level, const char *prefix, const char *fmt,
         va_list ap)
{
    if (!nb__log_enabled(srv, level)) return;
    char msg[1024];
    size_t n = (size_t)snprintf(msg, sizeof msg, "%s", prefix);
    if (n < sizeof msg) vsnprintf(msg + n, sizeof msg - n, fmt, ap);
    srv->cfg.log(srv->cfg.log_ud, level, msg);
}

void
nb__log(const struct nb_server *srv, enum nb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nb__vlog(srv, level, "", fmt, ap);
    va_end(ap);
}

/* Seeds the generator from the system's randomness, or the clock where there is none. */
static void
seed_rand(struct np_rand *r)
{
    uint64_t seed;
    if (uv_random(NULL, NULL, &seed, sizeof seed, 0, NULL) != 0) seed = uv_hrtime();
    np_rand_seed(r, seed);
}

/* Server ids look like nats-server's: 'N' and 55 base32 characters. */
static void
make_server_id(struct np_rand *r, char *out)
{
    out[0] = 'N';
    np_rand_fill(r, out + 1, 55, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    out[56] = '\0';
}

int
nb_server_new(struct nb_server **out, uv_loop_t *loop, const struct nb_config *cfg)
{
    struct nb_server *srv = calloc(1, sizeof *srv);
    if (!srv) return NB_ENOMEM;
    srv->loop = loop;
    srv->port = -1;
    srv->http_port = -1;
    srv->next_id = 1;
    seed_rand(&srv->rng);
    if (nb_config_copy(&srv->cfg, cfg) != 0 || nb__accounts_new(&srv->cfg, &srv->accounts) != 0 ||
        (!srv->cfg.host && nb_config_set_str(&srv->cfg.host, "127.0.0.1") != 0) ||
        nb__auth_new(&srv->cfg, &srv->auth) != 0) {
        nb_server_free(srv);
        return NB_ENOMEM;
    }
    srv->gacc = nb__accounts_global(srv->accounts);
    srv->sublist = nb__account_sublist(srv->gacc);
    make_server_id(&srv->rng, srv->server_id);
    if (srv->cfg.cluster_port != 0 && nb__cluster_new(srv) != 0) {
        nb_server_free(srv);
        return NB_ENOMEM;
    }
    *out = srv;
    return 0;
}

static bool
system_users(const struct nb_server *srv)
{
    const char *sys = nb__account_name(nb__accounts_system(srv->accounts));
    for (size_t i = 0; i < srv->cfg.nusers; i++) {
        const char *acc = srv->cfg.users[i].account;
        if (acc && strcmp(acc, sys) == 0) return true;
    }
    return false;
}

static void
on_connection(uv_stream_t *listener, int status)
{
    struct nb_server *srv = listener->data;
    if (status < 0) {
        nb__log(srv, NB_LOG_ERROR, "Error accepting client connection: %s", uv_strerror(status));
        return;
    }
    nb__client_accept(srv, listener);
}

static void
process_closes(struct nb_server *srv)
{
    while (srv->close_list) {
        struct nb_conn *c = srv->close_list;
        srv->close_list = c->close_next;
        nb__conn_teardown(c);
    }
}

void
nb__flush_output(struct nb_server *srv)
{
    nb__js_before_flush(srv);
    while (srv->flush_list) {
        struct nb_conn *c = srv->flush_list;
        srv->flush_list = c->flush_next;
        c->in_flush_list = 0;
        nb__conn_flush(c);
    }
}

static void
on_check(uv_check_t *h)
{
    struct nb_server *srv = h->data;
    nb__flush_output(srv);
    process_closes(srv);
    if (srv->yield_list) nb__resume_yielded(srv);
}

static void
on_tick(uv_timer_t *h)
{
    struct nb_server *srv = h->data;
    uint64_t now = nb__now_ms(srv);
    for (struct nb_conn *c = srv->conns; c; c = c->next)
        nb__conn_tick(c, now);
    nb__js_tick(srv);
    nb__cluster_tick(srv, now);
    /* A stall never outlasts its limit: the receiver then has to keep up or be cut. */
    for (struct nb_conn *c = srv->stall_list; c; c = c->stall_next) {
        if (now >= c->stall_until_ms) {
            nb__resume_stalled(srv);
            break;
        }
    }
    process_closes(srv);
}

int
nb__resolve(uv_loop_t *loop, const char *host, int port, struct sockaddr_storage *addr)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) == 0) return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr) == 0) return 0;
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(loop, &req, NULL, host, NULL, &hints);
    if (rc) return rc;
    memcpy(addr, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

int
nb__bound_port(uv_tcp_t *tcp)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int
start_failed(struct nb_server *srv, const char *what, int port, int rc)
{
    snprintf(srv->start_error, sizeof srv->start_error, "cannot listen for %s on %s:%d: %s", what,
             srv->cfg.host, port, nb_strerror(rc));
    return rc;
}

int
nb_server_start(struct nb_server *srv)
{
    struct sockaddr_storage addr;
    srv->start_error[0] = '\0';
    srv->start_ns = nb__wall_ns();
    srv->config_load_ns = srv->start_ns;
    srv->start_loop_ms = nb__now_ms(srv);
    if (nb__auth_has_plaintext(&srv->cfg))
        nb__log(srv, NB_LOG_WARN, "Plaintext passwords detected, use nkeys or bcrypt");
    int rc = nb__resolve(srv->loop, srv->cfg.host, srv->cfg.port, &addr);
    if (rc) return start_failed(srv, "client connections", srv->cfg.port, rc);
    /* All three handles exist from here on, so nb_server_stop() has one shape to undo. */
    uv_tcp_init(srv->loop, &srv->listener);
    uv_check_init(srv->loop, &srv->flusher);
    uv_timer_init(srv->loop, &srv->ticker);
    srv->listener.data = srv->flusher.data = srv->ticker.data = srv;
    srv->open_handles = 3;
    srv->housekeeping_open = true;
    if (srv->cfg.tls.enabled) {
        char why[256];
        rc = nb__tls_ctx_new(&srv->tls, &srv->cfg.tls, false, why, sizeof why);
        if (rc) {
            snprintf(srv->start_error, sizeof srv->start_error, "cannot start TLS: %s", why);
            return rc;
        }
    }
    /* Only a user of the system account can ask it anything: without one it has no handlers. */
    if (system_users(srv) && (rc = nb__sys_start(srv)) != 0) return rc;
    /* Streams load before the listener accepts anyone, so no publish can miss its stream. */
    rc = nb__js_start(srv, srv->start_error, sizeof srv->start_error);
    if (rc) {
        if (!srv->start_error[0])
            snprintf(srv->start_error, sizeof srv->start_error, "cannot start JetStream: %s",
                     nb_strerror(rc));
        return rc;
    }
    rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection);
    if (rc) return start_failed(srv, "client connections", srv->cfg.port, rc);
    srv->port = nb__bound_port(&srv->listener);
    bool https = srv->cfg.http_port == 0;
    int mon_port = https ? srv->cfg.https_port : srv->cfg.http_port;
    if (mon_port != 0) {
        /* -1 asks for any free port, as in nats-server; /varz still reports the -1 asked for. */
        int want = mon_port < 0 ? 0 : mon_port;
        struct sockaddr_storage http_addr;
        rc = nb__resolve(srv->loop, srv->cfg.host, want, &http_addr);
        if (rc == 0) rc = nb__http_start(srv, (struct sockaddr *)&http_addr, https);
        if (rc) return start_failed(srv, "monitoring connections", mon_port, rc);
    }
    uv_check_start(&srv->flusher, on_check);
    uv_timer_start(&srv->ticker, on_tick, TICK_MS, TICK_MS);
    if (srv->cluster && (rc = nb__cluster_start(srv)) != 0) {
        if (!srv->start_error[0])
            snprintf(srv->start_error, sizeof srv->start_error, "cannot start clustering: %s",
                     nb_strerror(rc));
        return rc;
    }
    srv->started = true;
    nb__log(srv, NB_LOG_DEBUG, "Listening for client connections on %s:%d", srv->cfg.host,
            srv->port);
    return 0;
}

const char *
nb_server_start_error(const struct nb_server *srv)
{
    return srv->start_error[0] ? srv->start_error : NULL;
}

int
nb_server_port(const struct nb_server *srv)
{
    return srv->port;
}

int
nb_server_http_port(const struct nb_server *srv)
{
    return srv->http_port;
}

int
nb_server_cluster_port(const struct nb_server *srv)
{
    return srv->cluster && srv->cluster->listening ? srv->cluster->port : -1;
}

static void
finish_stop(struct nb_server *srv)
{
    if (srv->open_handles > 0 || srv->conns) return;
    if (srv->stop_done) {
        void (*done)(struct nb_server *, void *) = srv->stop_done;
        srv->stop_done = NULL;
        done(srv, srv->stop_ud);
    }
}

void
nb__server_handle_closed(struct nb_server *srv)
{
    srv->open_handles--;
    finish_stop(srv);
}

static void
on_server_handle_closed(uv_handle_t *h)
{
    nb__server_handle_closed(h->data);
}

/* The housekeeping handles go last, so that closing clients still get their output flushed. */
static void
close_housekeeping(struct nb_server *srv)
{
    if (!srv->housekeeping_open || srv->conns) return;
    srv->housekeeping_open = false;
    uv_close((uv_handle_t *)&srv->flusher, on_server_handle_closed);
    uv_close((uv_handle_t *)&srv->ticker, on_server_handle_closed);
}

void
nb__server_conn_gone(struct nb_server *srv)
{
    if (!srv->stopping) return;
    close_housekeeping(srv);
    finish_stop(srv);
}

void
nb_server_stop(struct nb_server *srv, void (*done)(struct nb_server *srv, void *ud), void *ud)
{
    if (srv->stopping) return;
    srv->stopping = true;
    srv->stop_done = done;
    srv->stop_ud = ud;
    if (srv->open_handles == 0) {
        finish_stop(srv);
        return;
    }
    /* A server that never started has nothing to shut down that an operator would care about. */
    if (srv->started) nb__log(srv, NB_LOG_INFO, "Initiating Shutdown...");
    if (!srv->lame_duck) uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
    nb__ldm_stop(srv);
    if (srv->http) nb__http_stop(srv->http);
    nb__cluster_stop(srv);
    nb__js_stop(srv);
    for (struct nb_conn *c = srv->conns; c; c = c->next)
        nb__conn_close(c, NB_CLOSE_SHUTDOWN, true);
    close_housekeeping(srv);
}

void
nb_server_free(struct nb_server *srv)
{
    if (!srv) return;
    nb__js_free(srv);
    nb__cluster_free(srv);
    nb__monitor_free(srv->mon);
    nb__tls_ctx_free(srv->tls);
    nb__delivery_release(&srv->delivery);
    nb__accounts_free(srv->accounts);
    nb__pool_release(&srv->pool);
    nb__auth_free(srv->auth);
    nb_config_release(&srv->cfg);
    free(srv);
}

void
nb_server_stats(const struct nb_server *srv, struct nb_stats *st)
{
    *st = srv->stats;
    st->subscriptions = 0;
    for (size_t i = 0; i < nb__accounts_count(srv->accounts); i++) {
        struct nb_sublist_stats ss;
        nb_sublist_stats(nb__account_sublist(nb__accounts_at(srv->accounts, i)), &ss);
        st->subscriptions += ss.count;
    }
}
