/*
 * What the two halves of the client share: the connection (np_conn.c: connect, handshake, output,
 * input, reconnect, close) and the API on top of it (np_client.c: subscriptions, publish, flush,
 * requests, drain). Not installed, not for callers: np_client.h is the interface.
 *
 * Invariants:
 * - Output is appended to `pend` only. The prepare handle hands `pend` to one uv_write at a time by
 *   swapping it with `inflight`, so publishing never writes and never allocates once the buffers
 *   have grown. Nothing is written unless the phase is UP. Under TLS, what the flusher takes is
 *   encrypted at once and written as one TLS write (np_conn.c); `writing` covers that write, so
 *   a fast publisher still has one batch on the wire at a time.
 * - SUB/UNSUB lines are queued only while CONNECTED; at every (re)connect the subscription table
 *   itself is replayed ahead of `pend`, so what was queued while down cannot be lost or doubled.
 * - Flush waiters form a FIFO matched one-to-one with PONGs. A waiter's `sent` is false exactly
 *   while its PING sits in `pend`; a sent PING is lost with its connection and replayed.
 * - Memory is released only when `refs` (handles and requests libuv still owns) drops to zero after
 *   close, and subscriptions removed during message dispatch wait in a graveyard until dispatch
 *   ends, so a callback may unsubscribe, drain or close freely.
 */
#ifndef NP_CLIENT_INT_H
#define NP_CLIENT_INT_H

#include "np_buf.h"
#include "np_client.h"
#include "np_map.h"
#include "np_rand.h"
#include "np_tls.h"

#include <stdlib.h>
#include <string.h>

#define NP__PEND_LIMIT      ((size_t)8 << 20) /* queued output while not connected */
#define NP__PEND_HARD_LIMIT ((size_t)1 << 30) /* ever: keeps one write's length in an unsigned */
#define NP__READ_BUF_SIZE   (64 * 1024)
#define NP__INBOX_PREFIX    "_INBOX."
#define NP__U64_DIGITS      20

/* A subscription; the map of subscriptions is keyed by the sid's decimal text, as MSG carries it. */
struct np__sub {
    struct np__sub *next; /* the graveyard chain once removed */
    uint64_t sid;
    char key[NP__U64_DIGITS + 1];
    size_t klen;
    char *subject, *queue;
    uint64_t max, delivered; /* max 0: no automatic unsubscribe */
    np_msg_cb cb;
    void *ud;
};

/* A request waiting for its reply; keyed by the last token of its reply subject. */
struct np__req {
    struct np__req *next; /* only while being completed */
    char key[NP__U64_DIGITS + 1];
    size_t klen;
    uint64_t deadline;
    np_reply_cb cb;
    void *ud;
};

struct np__waiter {
    struct np__waiter *next;
    np_done_cb cb; /* NULL for keepalive PINGs and waiters that already timed out */
    void *ud;
    uint64_t deadline; /* 0: none */
    bool sent;         /* the PING has left pend */
};

struct np__server {
    struct np_url url;
    char *auth_err; /* the last auth refusal; the same one twice in a row bans the server */
    char *tls_err;  /* why its last TLS handshake failed, for np_client_attempt_detail() */
    int last_err;   /* why the last attempt on it failed, for np_client_attempt_error() */
    bool banned;
};

enum np__state {
    NP__ST_NEW,
    NP__ST_CONNECTING,
    NP__ST_CONNECTED,
    NP__ST_RECONNECTING,
    NP__ST_DRAINING,
    NP__ST_DEAD, /* gave up: only close remains */
    NP__ST_CLOSED,
};

enum np__phase {
    NP__PH_IDLE,
    NP__PH_WAIT, /* backoff before the next attempt */
    NP__PH_RESOLVE,
    NP__PH_TCP,
    NP__PH_INFO,
    NP__PH_TLS, /* INFO said TLS (or we asked for it): the TLS handshake */
    NP__PH_PONG,
    NP__PH_UP,
};

struct np_client {
    uv_loop_t *loop;
    struct np_client_opts opts; /* its strings point at the owned copies below */
    char *servers, *user, *pass, *token, *name, *tls_ca, *tls_cert, *tls_key;
    char *nkey_file, *creds_file;
    enum np__state state;
    enum np__phase phase;
    int refs; /* handles and requests libuv still holds */
    struct np_rand rng;

    uv_tcp_t tcp;
    bool tcp_open, tcp_closing;
    bool resolving; /* gai_req is in flight */
    uv_connect_t connect_req;
    uv_getaddrinfo_t gai_req;
    uv_write_t hs_req, out_req;
    uv_timer_t conn_timer, req_timer, ping_timer;
    uv_prepare_t flusher;

    struct np__server *pool;
    size_t npool, cur;
    uint64_t tries; /* reconnect attempts in this outage */
    bool saw_auth;  /* an initial attempt was refused for its credentials */

    struct np__tls_ctx *tls_ctx; /* made at connect, or when a server first requires TLS */
    struct np__tls *tls;         /* the current connection's session, NULL in plaintext */
    char *tls_plain;             /* decrypted input, allocated with the first session */
    char tls_err[200];           /* why the current attempt's TLS failed */

    struct np_parser parser;
    struct np_info info;
    char *hs; /* CONNECT+PING of the current attempt, alive until its write completes */
    struct np_buf pend, inflight;
    bool writing;
    char rbuf[NP__READ_BUF_SIZE];

    struct np_map subs; /* struct np__sub by key */
    uint64_t next_sid;
    struct np__sub *grave;
    int dispatching;

    struct np_map reqs; /* struct np__req by key */
    uint64_t next_req, mux_sid, timer_due;
    char mux_prefix[sizeof NP__INBOX_PREFIX + NP_NUID_LEN + 1]; /* "_INBOX.<nuid>." */
    size_t mux_prefix_len;

    struct np__waiter *wq_head, *wq_tail;
    int pings_out;

    np_done_cb connect_cb, close_cb, drain_cb;
    void *connect_ud, *close_ud, *drain_ud;
    int end_status;
    char last_err[256];
};

static inline char *
np__dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Writes v in decimal (no NUL) and returns the length, at most NP__U64_DIGITS. */
size_t np__fmt_u64(char *out, uint64_t v);
uint64_t np__timeout(const struct np_client *c);
/* States in which the application may still queue work. */
bool np__usable(const struct np_client *c);

/* np_conn.c */
/* Starts the writer when there is output and a connection to take it. */
void np__kick(struct np_client *c);
/* Ends the client: everything pending fails with ECLOSED now, memory goes once libuv lets go. */
void np__close_with(struct np_client *c, int status);

/* np_client.c */
/* Appends SUB (and UNSUB <remaining> when remaining > 0) for s to b. */
int np__queue_sub(struct np_buf *b, const struct np__sub *s, uint64_t remaining);
/* Delivers a MSG/HMSG to its subscription. */
void np__dispatch(struct np_client *c, const struct np_op *op);
/* Frees the subscriptions removed during dispatch. */
void np__bury(struct np_client *c);
/* Frees every subscription (the client is being freed). */
void np__free_subs(struct np_client *c);
/* Queues a PING and its flush waiter together, so PINGs and waiters never get out of step. */
int np__queue_ping(struct np_client *c, np_done_cb cb, void *ud, uint64_t deadline);
struct np__waiter *np__waiter_pop(struct np_client *c);
/* A lost connection took the PONGs of sent PINGs with it; only live flushes are kept. */
void np__drop_lost_waiters(struct np_client *c);
/* Completes every request and flush still waiting (close and giving up). */
void np__fail_pending(struct np_client *c, int status);

#endif
