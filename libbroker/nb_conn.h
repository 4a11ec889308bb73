/*
 * A connection: the socket, its outbound queue, flushing, closing and lingering, and the timers
 * every kind of peer needs (write deadline, close deadline, fast-producer stall). What the bytes
 * mean is the protocol's business: a client connection (nb_client.c) and a route connection
 * (nb_route.c) plug into the same transport through struct nb_proto.
 *
 * Closing is two-step: nb__conn_close() marks the connection (it stops reading, takes no more
 * output, and may still flush a last -ERR); nb__conn_teardown(), run later from the server's check
 * or tick, lets the protocol drop its subscriptions and closes the handle. That keeps match results
 * valid while a message is being delivered, whoever closes meanwhile.
 */
#ifndef NB_CONN_H
#define NB_CONN_H

#include "nb.h"
#include "nb_outq.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

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
    X(WRONG_PORT, "Incorrect Port")                                                                \
    X(WRONG_GATEWAY, "Wrong Gateway")                                                              \
    X(DUPLICATE_ROUTE, "Duplicate Route")                                                          \
    X(CLUSTER_NAME_CONFLICT, "Cluster Name Conflict")                                              \
    X(DUPLICATE_SERVER_NAME, "Duplicate Server Name")                                              \
    X(JETSTREAM_CONFLICT, "JetStream Conflict")                                                    \
    X(TLS_HANDSHAKE, "TLS Handshake Failure")                                                      \
    X(NO_MEMORY, "Out of Memory")

enum nb_close_reason {
#define NB__CLOSE_ENUM(name, text) NB_CLOSE_##name,
    NB_CLOSE_MAP(NB__CLOSE_ENUM)
#undef NB__CLOSE_ENUM
};

const char *nb__close_reason_text(enum nb_close_reason r);

struct nb_conn;
struct nb_tls;
struct nb_tls_ctx;

/* What a protocol does with its connection; the transport calls these on the loop thread. */
struct nb_proto {
    const char *id_label;  /* "cid" for clients, "rid" for routes: log lines say which */
    const char *kind_name; /* "Client" or "Router", as nats-server's log lines name them */
    /* nats-server logs a client's close at debug level, a route's at info level */
    enum nb_log_level close_level;
    const char *tls_kind; /* "route": "TLS route handshake error"; NULL: a client's wording */
    /* Bytes read from the socket, to parse and act on at once (they are not kept). */
    void (*input)(struct nb_conn *c, const char *data, size_t len);
    /* The periodic check, for the protocol's own timers (pings, authentication timeout). */
    void (*tick)(struct nb_conn *c, uint64_t now_ms);
    /* The connection is being torn down: remove its subscriptions and interest. */
    void (*teardown)(struct nb_conn *c);
    /* The handle has closed: free the object that embeds the connection. */
    void (*destroy)(struct nb_conn *c);
    /* The TLS handshake completed (NULL: nothing to do then). */
    void (*secured)(struct nb_conn *c);
};

struct nb_conn {
    uv_tcp_t tcp; /* first, so a handle pointer is a connection pointer */
    struct nb_server *srv;
    const struct nb_proto *proto;
    struct nb_conn *next, *prev; /* every connection of the server */
    struct nb_conn *flush_next;  /* pending-flush list, valid while in_flush_list */
    struct nb_conn *close_next;  /* deferred-teardown list, valid while in_close_list */
    struct nb_conn *stall_next;  /* the server's stalled list, valid while stalled */
    struct nb_conn *yield_next;  /* the server's yielded list, valid while yielded */
    uint64_t id;                 /* cid or rid */
    struct nb_outq out;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    uint64_t write_started_ms;  /* when the in-flight uv_write began */
    uint64_t close_deadline_ms; /* a closing connection's output is abandoned after this */
    uint64_t stall_until_ms;
    uint64_t in_msgs, out_msgs, in_bytes, out_bytes;
    uint64_t start_ms, last_ms; /* loop times of the accept and of the last read, for /connz */
    enum nb_close_reason close_reason;
    uint16_t port; /* the peer's */
    char ip[46];
    char addr[56];      /* "ip:port" ("[ip]:port" for IPv6), as nats-server's log lines show it */
    char *ident;        /* what the peer said it is ("v1.2:c:name"), NULL until it said */
    struct nb_tls *tls; /* NULL: plaintext; else out holds plaintext not yet sealed */
    uint64_t tls_deadline_ms; /* the TLS handshake must be done by then; 0 once it is */
    unsigned in_flush_list : 1;
    unsigned writing : 1; /* a uv_write is in flight */
    unsigned closing : 1; /* on its way out: no more input, output flushed then closed */
    unsigned flush_on_close : 1;
    unsigned handle_closed : 1;
    unsigned in_close_list : 1;
    unsigned lingering : 1; /* closing: FIN sent, input discarded until the peer closes */
    unsigned stalled : 1;   /* reads paused because a receiver of its messages is backed up */
    unsigned yielded : 1;   /* reads paused until the next loop iteration (nb__conn_yield) */
    unsigned paused : 1;    /* reads paused by the protocol until it resumes them */
    unsigned headers : 1;   /* the peer takes messages with headers (HMSG) */
};

/*
 * Makes c (zeroed, embedded in its protocol's object) a connection of srv with a new id, links it
 * into the server's list and accepts it from listener. Returns 0, or a libuv code after which c is
 * already closing (its destroy callback will run).
 */
int nb__conn_accept(struct nb_conn *c, struct nb_server *srv, const struct nb_proto *proto,
                    uv_stream_t *listener);
/*
 * Makes c (zeroed, embedded in its protocol's object) a connection of srv with a new id and links
 * it into the server's list, with its handle initialised but not connected: for a connection
 * this server dials. nb__conn_connected() completes it once the dial succeeded.
 */
void nb__conn_init(struct nb_conn *c, struct nb_server *srv, const struct nb_proto *proto);
/* A dialed connection is up: learns the peer's address. */
void nb__conn_connected(struct nb_conn *c);
/* Ends a connection that never carried anything (a dial that failed): no log line, no flush. */
void nb__conn_drop(struct nb_conn *c);
/* Starts reading; input goes to the protocol. */
void nb__conn_start(struct nb_conn *c);
/*
 * Puts c under TLS with ctx: what is queued already (the INFO line) goes out in clear, then the
 * client's handshake must complete within timeout_ms. Input reaches the protocol decrypted, and
 * output is sealed into records when flushed. Returns 0 or NB_ENOMEM; call before nb__conn_start().
 */
int nb__conn_start_tls(struct nb_conn *c, struct nb_tls_ctx *ctx, uint64_t timeout_ms);
/*
 * Puts a dialed c under TLS with ctx as the handshake's client, expecting the certificate to name
 * host: the ClientHello goes out first, and what is queued meanwhile waits for the handshake.
 * Returns 0 or NB_ENOMEM.
 */
int nb__conn_dial_tls(struct nb_conn *c, struct nb_tls_ctx *ctx, const char *host,
                      uint64_t timeout_ms);
/* Queues raw protocol bytes and schedules a flush. */
void nb__conn_send(struct nb_conn *c, const char *data, size_t len);
/* Queues "-ERR '<text>'", however long the text. */
void nb__conn_send_err(struct nb_conn *c, const char *text);
/* Starts closing c; with flush, pending output (e.g. an -ERR) is written first. */
void nb__conn_close(struct nb_conn *c, enum nb_close_reason reason, bool flush);
/* Adds c to the server's pending-flush list (once). */
void nb__conn_schedule_flush(struct nb_conn *c);
/* Writes c's pending output (one writev); called once per loop iteration for each connection. */
void nb__conn_flush(struct nb_conn *c);
/* The periodic check: write and close deadlines, then the protocol's timers. */
void nb__conn_tick(struct nb_conn *c, uint64_t now_ms);
/* Tears down a closing connection (the protocol's teardown, then the handle is closed). */
void nb__conn_teardown(struct nb_conn *c);
/*
 * Pauses reading from a publisher whose messages are piling up at a receiver (more than half of
 * max_pending queued), for at most a second, so a fast producer cannot push a receiver that is
 * merely slower over the slow-consumer limit.
 */
void nb__conn_stall(struct nb_conn *c);
/* Resumes every stalled publisher; called when a backed-up receiver drains or goes away. */
void nb__resume_stalled(struct nb_server *srv);
/*
 * Stops reading c for the rest of this loop iteration: libuv reads a busy socket up to 32 times
 * per iteration, and a publisher whose messages cost disk writes and PubAcks would keep the loop
 * from every other client for that long. nb__resume_yielded() restarts them once output is flushed.
 */
void nb__conn_yield(struct nb_conn *c);
void nb__resume_yielded(struct nb_server *srv);
/*
 * Stops reading c until nb__conn_resume(), whatever else would restart it: the protocol has input
 * it cannot act on yet (a CONNECT whose credentials are being checked on another thread).
 */
void nb__conn_pause(struct nb_conn *c);
void nb__conn_resume(struct nb_conn *c);
/* Logs "<addr> - <cid|rid>:<id> - ["<ident>" - ]<text>", nats-server's prefix for a connection. */
void nb__conn_log(const struct nb_conn *c, enum nb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
