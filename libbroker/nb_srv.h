/*
 * The server object's insides, for libbroker's modules. One libuv loop owns everything: output
 * produced while handling reads and timers is only queued, and the check handle then writes every
 * connection on the pending-flush list once per loop iteration.
 */
#ifndef NB_SRV_H
#define NB_SRV_H

#include "nb.h"
#include "nb_conn.h"
#include "nb_deliver.h"
#include "nb_outq.h"
#include "nb_sublist.h"
#include "np_rand.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct nb_account;
struct nb_accounts;
struct nb_auth;
struct nb_cluster;
struct nb_http;
struct nb_js;
struct nb_ldm;
struct nb_monitor;
struct nb_tls_ctx;

struct nb_server {
    uv_loop_t *loop;
    struct nb_config cfg;
    uv_tcp_t listener;
    uv_check_t flusher;         /* flushes pending output once per loop iteration */
    uv_timer_t ticker;          /* pings, timeouts and deadlines for every connection */
    struct nb_http *http;       /* the monitoring port, NULL when off */
    struct nb_monitor *mon;     /* what the monitoring endpoints keep, NULL when the port is off */
    struct nb_js *js;           /* streams and the JetStream API, NULL when off */
    struct nb_cluster *cluster; /* routes to other servers, NULL when clustering is off */
    struct nb_auth *auth;       /* credentials and users, from cfg */
    struct nb_tls_ctx *tls;     /* client connections' TLS, NULL when they are plaintext */
    struct nb_accounts *accounts; /* $G, the configured ones and the system account */
    struct nb_account *gacc;      /* $G: JetStream and the server's own publishes live there */
    struct nb_sublist *sublist;   /* $G's, owned by the account */
    struct nb_conn *conns;        /* every connection, newest first */
    struct nb_conn *flush_list;
    struct nb_conn *close_list;
    struct nb_conn *stall_list; /* publishers whose reads are paused (fast-producer stall) */
    struct nb_conn *yield_list; /* publishers that yielded the rest of this iteration */
    struct nb_chunk_pool pool;
    struct nb_delivery delivery; /* scratch and queues of the message path */
    char server_id[57];
    char read_buf[64 * 1024]; /* shared by every connection: reads are processed at once */
    uint64_t sys_seq;         /* the seq of the system account's answers */
    uint64_t next_id; /* the next cid (and rid: they share one sequence as in nats-server) */
    struct np_rand rng;
    int port;
    int http_port;    /* the monitoring port bound, -1 when off */
    int open_handles; /* server handles not yet closed */
    bool started, housekeeping_open, stopping;
    bool lame_duck;     /* in lame duck mode, to the end: the client listener is closed */
    bool ldm_info;      /* the INFOs being built now carry "ldm": true */
    struct nb_ldm *ldm; /* lame duck mode's timer, NULL when it is not running */
    void (*stop_done)(struct nb_server *, void *);
    void *stop_ud;
    struct nb_stats stats;
    int64_t start_ns;       /* wall clock at the start, for /varz */
    int64_t config_load_ns; /* wall clock of the start or the last applied reload, for /varz */
    uint64_t start_loop_ms; /* loop time at the start: loop times become wall times from it */
    char start_error[300];  /* why nb_server_start() failed, "" when it did not */
};

uint64_t nb__now_ms(const struct nb_server *srv);
/* The wall clock in Unix ns (stored message times, API and monitoring timestamps). */
int64_t nb__wall_ns(void);
/* A cheap pseudo-random number, for queue member choice and jitter. */
uint64_t nb__rand(struct nb_server *srv);
void nb__log(const struct nb_server *srv, enum nb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether a line at level would be logged: callers skip building lines nobody reads. */
bool nb__log_enabled(const struct nb_server *srv, enum nb_log_level level);
/* Like nb__log with a va_list, for modules that add their own prefix. */
void nb__vlog(const struct nb_server *srv, enum nb_log_level level, const char *prefix,
              const char *fmt, va_list ap);
/*
 * Writes what is pending: the streams' buffered appends (and the PubAcks they release), then every
 * connection on the flush list. The flusher runs it once per loop iteration.
 */
void nb__flush_output(struct nb_server *srv);
/* host:port as a socket address (a name is resolved, blocking: for listeners at the start). */
int nb__resolve(uv_loop_t *loop, const char *host, int port, struct sockaddr_storage *addr);
/* The port a listener is bound to, or -1. */
int nb__bound_port(uv_tcp_t *tcp);
/* Called by a connection whose handle has closed, so the server can finish a stop. */
void nb__server_conn_gone(struct nb_server *srv);
/* Called when one of the server's own handles has closed, so a stop can finish. */
void nb__server_handle_closed(struct nb_server *srv);
/* The server stops: lame duck mode's timer, if it runs, is closed (nb_ldm.c). */
void nb__ldm_stop(struct nb_server *srv);

#endif
