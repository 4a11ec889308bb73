/*
 * libbroker internals shared by its modules. Nothing outside libbroker includes this file.
 */
#ifndef NB_INT_H
#define NB_INT_H

#include "nb.h"
#include "nb_map.h"
#include "nb_sublist.h"
#include "np.h"

#include <stdarg.h>

/* ---- outbound queue (nb_outq.c) ---------------------------------------------------------------- */

/* A block of unsent output; chunks of the standard size are recycled through the server's pool. */
struct nb_chunk {
    struct nb_chunk *next;
    uint32_t len; /* bytes written into data */
    uint32_t off; /* bytes of data already sent */
    uint32_t cap;
    char data[];
};

#define NB_CHUNK_SIZE  (32 * 1024)
#define NB_POOL_CHUNKS 128 /* idle standard chunks kept for reuse (4 MiB at most) */

struct nb_chunk_pool {
    struct nb_chunk *free;
    uint32_t nfree;
};

/* A connection's unsent output: a list of chunks, head sent first. */
struct nb_outq {
    struct nb_chunk *head, *tail;
    uint64_t pending;  /* bytes queued and not yet confirmed sent */
    uint64_t inflight; /* bytes handed to a uv_write that has not completed */
};

/* Returns n contiguous writable bytes at the tail (a new chunk if needed), or NULL (no memory). */
char *nb__outq_reserve(struct nb_outq *q, struct nb_chunk_pool *pool, size_t n);
/* Commits n bytes written into the last reservation. */
void nb__outq_commit(struct nb_outq *q, size_t n);
/* Copies bytes to the tail, spanning chunks. Returns 0 or -ENOMEM. */
int nb__outq_append(struct nb_outq *q, struct nb_chunk_pool *pool, const void *data, size_t len);
/* Fills up to max buffers with unsent bytes not already in flight; returns how many were filled. */
unsigned nb__outq_bufs(const struct nb_outq *q, uv_buf_t *bufs, unsigned max);
/* Marks n bytes (from the head) as sent, recycling finished chunks. */
void nb__outq_consume(struct nb_outq *q, struct nb_chunk_pool *pool, size_t n);
/* Frees every chunk of q (to the pool or the heap). */
void nb__outq_release(struct nb_outq *q, struct nb_chunk_pool *pool);
void nb__pool_release(struct nb_chunk_pool *pool);

/* ---- clients (nb_client.c) ---------------------------------------------------------------------- */

/* Why a connection ended; the text is nats-server's closed-connection reason. */
#define NB_CLOSE_MAP(X)                                                                            \
    X(CLIENT_CLOSED, "Client Closed")                                                              \
    X(AUTH_TIMEOUT, "Authentication Timeout")                                                      \
    X(AUTH_FAILURE, "Authentication Failure")                                                      \
    X(SLOW_PENDING, "Slow Consumer (Pending Bytes)")                                               \
    X(SLOW_DEADLINE, "Slow Consumer (Write Deadline)")                                             \
    X(WRITE_ERROR, "Write Error")                                                                  \
    X(READ_ERROR, "Read Error")                                                                    \
    X(PARSE_ERROR, "Parse Error")                                                                  \
    X(STALE, "Stale Connection")                                                                   \
    X(PROTOCOL, "Protocol Violation")                                                              \
    X(BAD_PROTOCOL, "Bad Client Protocol Version")                                                 \
    X(MAX_CONNECTIONS, "Maximum Connections Exceeded")                                             \
    X(MAX_PAYLOAD, "Maximum Message Payload Exceeded")                                             \
    X(MAX_CONTROL_LINE, "Maximum Control Line Exceeded")                                           \
    X(SHUTDOWN, "Server Shutdown")                                                                 \
    X(NO_RESPONDERS_HDR, "No Responders Requires Headers")                                         \
    X(NO_MEMORY, "Out of Memory")

enum nb_close_reason {
#define NB__CLOSE_ENUM(name, text) NB_CLOSE_##name,
    NB_CLOSE_MAP(NB__CLOSE_ENUM)
#undef NB__CLOSE_ENUM
};

const char *nb__close_reason_text(enum nb_close_reason r);

struct nb_client {
    uv_tcp_t tcp; /* first, so a handle pointer is a client pointer */
    struct nb_server *srv;
    struct nb_client *next, *prev; /* all clients of the server */
    struct nb_client *flush_next;  /* pending-flush list, valid while in_flush_list */
    struct nb_client *close_next;  /* deferred-teardown list, valid while in_close_list */
    uint64_t cid;
    struct np_parser parser;
    struct nb_outq out;
    struct nb_map subs; /* sid -> struct nb_sub * */
    uv_write_t wreq;
    uv_shutdown_t sreq;
    uint64_t write_started_ms; /* when the in-flight uv_write began */
    uint64_t next_ping_ms;
    uint64_t auth_deadline_ms;  /* 0 when no CONNECT is awaited */
    uint64_t close_deadline_ms; /* a closing client's output is abandoned after this */
    uint64_t in_msgs, out_msgs, in_bytes, out_bytes;
    uint32_t pings_out; /* PINGs sent and not answered */
    char ip[46];
    char *name; /* CONNECT name, for logs */
    enum nb_close_reason close_reason;
    unsigned connected : 1; /* CONNECT received */
    unsigned verbose : 1, pedantic : 1, echo : 1, headers : 1, no_responders : 1;
    unsigned protocol : 1;
    unsigned in_flush_list : 1;
    unsigned writing : 1; /* a uv_write is in flight */
    unsigned closing : 1; /* on its way out: no more input, output flushed then closed */
    unsigned flush_on_close : 1;
    unsigned handle_closed : 1;
    unsigned activity : 1;      /* a message, SUB or UNSUB arrived since the last ping check */
    unsigned client_pinged : 1; /* the client sent a PING since the last ping check */
    unsigned rtt_known : 1;     /* the client has answered a PING */
    unsigned in_close_list : 1;
    unsigned lingering : 1;       /* closing: FIN sent, input discarded until the peer closes */
    unsigned stalled : 1;         /* reads paused because a receiver of its messages is backed up */
    struct nb_client *stall_next; /* the server's stalled list, valid while stalled */
    uint64_t stall_until_ms;
};

/* Accepts a connection from the listener; on failure the connection is dropped. */
void nb__client_accept(struct nb_server *srv, uv_stream_t *listener);
/*
 * Starts closing c. With flush, pending output (e.g. an -ERR) is written first. The teardown
 * (subscriptions removed, handle closed) runs later, outside any message delivery, so callers may
 * close clients while iterating a match result.
 */
void nb__client_close(struct nb_client *c, enum nb_close_reason reason, bool flush);
/* Queues "-ERR '<text>'" to c. */
void nb__client_send_err(struct nb_client *c, const char *text);
/* Queues raw protocol bytes to c and schedules a flush. */
void nb__client_send(struct nb_client *c, const char *data, size_t len);
/* Writes c's pending output (one writev); called once per loop iteration for each client. */
void nb__client_flush(struct nb_client *c);
/* The periodic check: pings, stale connections, auth timeout, write deadline. */
void nb__client_tick(struct nb_client *c, uint64_t now_ms);
/* Tears down a closing client (removes subscriptions, closes the handle). */
void nb__client_teardown(struct nb_client *c);
/*
 * Pauses reading from a publisher whose messages are piling up at a receiver (more than half of
 * max_pending queued), for at most a second, so a fast producer cannot push a receiver that is
 * merely slower over the slow-consumer limit.
 */
void nb__client_stall(struct nb_client *c);
/* Resumes every stalled publisher; called when a backed-up receiver drains or goes away. */
void nb__resume_stalled(struct nb_server *srv);
/* Removes one subscription of c from the sublist and c's sid table, and frees it. */
void nb__sub_remove(struct nb_client *c, struct nb_sub *sub);

/* ---- server (nb_server.c) ----------------------------------------------------------------------- */

struct nb_server {
    uv_loop_t *loop;
    struct nb_config cfg;
    uv_tcp_t listener;
    uv_check_t flusher;   /* flushes pending output once per loop iteration */
    uv_timer_t ticker;    /* pings, timeouts and deadlines for every client */
    struct nb_http *http; /* the monitoring port, NULL when off */
    struct nb_sublist *sublist;
    struct nb_client clients_head; /* sentinel of the circular client list (only next/prev used) */
    struct nb_client *flush_list;
    struct nb_client *close_list;
    struct nb_client *stall_list; /* publishers whose reads are paused (fast-producer stall) */
    struct nb_chunk_pool pool;
    struct nb_sub **deferred_unsubs; /* auto-unsubscribes that reached their max during delivery */
    size_t ndeferred, deferred_cap;
    char server_id[57];
    char read_buf[64 * 1024]; /* shared by every connection: reads are processed at once */
    bool read_buf_busy;
    uint64_t next_cid;
    uint64_t rng;
    int port;
    int open_handles; /* server handles not yet closed */
    bool housekeeping_open, stopping;
    void (*stop_done)(struct nb_server *, void *);
    void *stop_ud;
    struct nb_stats stats;
    char start_error[300]; /* why nb_server_start() failed, "" when it did not */
};

uint64_t nb__now_ms(const struct nb_server *srv);
/* A cheap pseudo-random number (xorshift), for queue member choice and jitter. */
uint64_t nb__rand(struct nb_server *srv);
void nb__log(struct nb_server *srv, enum nb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds c to the pending-flush list (once). */
void nb__schedule_flush(struct nb_client *c);
/* Called by a client whose handle has closed, so the server can finish a stop. */
void nb__server_client_gone(struct nb_server *srv);
/* Called when one of the server's own handles has closed, so a stop can finish. */
void nb__server_handle_closed(struct nb_server *srv);
/* Builds the INFO line for a new client into a malloc'd string. */
char *nb__server_info(struct nb_server *srv, const struct nb_client *c);

/* ---- monitoring port (nb_http.c) --------------------------------------------------------------- */

struct nb_http;
/* Listens for HTTP on addr. Returns 0 or a negative libuv code (the handle is closed by stop). */
int nb__http_start(struct nb_server *srv, const struct sockaddr *addr);
/* Closes the listener and every open HTTP connection. */
void nb__http_stop(struct nb_http *http);

/* ---- delivery (nb_deliver.c) -------------------------------------------------------------------- */

/* Delivers a published message; returns how many subscriptions got it. */
size_t nb__deliver(struct nb_client *from, const struct np_op *op);

#endif
