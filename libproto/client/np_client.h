/*
 * The NATS client connection, on libuv. Unlike the core of libproto this part does I/O, so it
 * lives in libproto/client/ with its own header and is the only part of libproto built with
 * libuv's include path: np.h stays free of libuv.
 *
 * Threading: every function, and every callback, runs on the thread of the loop given to
 * np_client_new(). Errors are negative codes: NP_E* from np.h, NP_CLIENT_E* below, or libuv's
 * (negated errno). np_client_strerror() describes all of them. Nothing here prints.
 *
 * Lifetime: a client is created with np_client_new(), connected with np_client_connect(), and
 * ended with np_client_close() or np_client_drain(); its memory is released when the close
 * callback has run (the client pointer is invalid after that callback returns). No callback
 * fires after the close callback. A call that fails synchronously never invokes its callback.
 */
#ifndef NP_CLIENT_H
#define NP_CLIENT_H

#include "np.h"
#include "np_url.h"

#include <uv.h>

#define NP_CLIENT_ERR_MAP(X)                                                                       \
    X(NO_SERVERS, "no server could be reached")                                                    \
    X(AUTH, "authorization violation")                                                             \
    X(TIMEOUT, "timed out")                                                                        \
    X(NO_RESPONDERS, "no responders")                                                              \
    X(CLOSED, "connection closed")                                                                 \
    X(SERVER_ERR, "the server sent an error")                                                      \
    X(MAX_PAYLOAD, "message larger than the server's max_payload")                                 \
    X(TLS, "TLS handshake failed")                                                                 \
    X(SECURE, "secure connection not available: the server does not offer TLS")                    \
    X(TLS_FILES, "cannot load the TLS certificate, key or CA file")                                \
    X(CREDS_FILES, "cannot load the nkey seed or credentials file")

enum np_client_err {
    NP_CLIENT__ERR_FIRST = -300,
#define NP__CLIENT_ERR_ENUM(name, text) NP_CLIENT_E##name,
    NP_CLIENT_ERR_MAP(NP__CLIENT_ERR_ENUM)
#undef NP__CLIENT_ERR_ENUM
};

/*
 * Describes an NP_CLIENT_E*, NP_E* or libuv code (a negated errno or a UV_EAI_* resolver code),
 * never with "unknown error": what neither library names is shown by its number.
 */
const char *np_client_strerror(int err);

enum np_client_event {
    NP_CLIENT_CONNECTED,    /* first connection established (after INFO/CONNECT/PING/PONG) */
    NP_CLIENT_DISCONNECTED, /* status 0: the connection dropped, reconnecting; status < 0: the
                               client gave up (max_reconnects 0 or reached, every server refused
                               the credentials) and only np_client_close() remains */
    NP_CLIENT_RECONNECTED,  /* back, subscriptions re-sent */
    NP_CLIENT_SERVER_ERROR, /* a non-fatal -ERR; np_client_last_error() has the text */
    NP_CLIENT_LAME_DUCK,    /* the server is in lame duck mode (INFO "ldm": true): it will close
                               the connection soon, and the client then reconnects to another
                               server of the cluster, as after any disconnect */
};

struct np_client;

struct np_client_opts {
    const char *servers;        /* comma-separated URLs; NULL = NP_DEFAULT_URL */
    const char *user, *pass;    /* used when a URL carries none */
    const char *token;          /* used when neither a URL nor user/pass give credentials */
    const char *name;           /* CONNECT name */
    uint64_t timeout_ms;        /* handshake, flush and drain timeout; 0 = NP_DEFAULT_TIMEOUT_MS */
    int max_reconnects;         /* attempts per outage, -1 = forever, 0 = no reconnect */
    uint64_t reconnect_wait_ms; /* base of the exponential backoff (capped at 2 s); 0 = 250 */
    bool no_echo;
    /*
     * TLS: PEM files of the CAs that server certificates must chain to (NULL: the system's), and
     * of the client certificate and key the server may ask for. Giving any of them, or a tls://
     * URL, asks for TLS, as nats.go's options do; a server whose INFO requires TLS gets it anyway.
     */
    const char *tls_ca, *tls_cert, *tls_key;
    /*
     * An nkey seed file (CONNECT sends its public key) or a .creds file (CONNECT sends its user
     * JWT), read at each handshake to sign the server's nonce; at most one of the two.
     */
    const char *nkey_file, *creds_file;
    /* Connection events, status 0 or the reason. Optional. */
    void (*on_event)(struct np_client *c, enum np_client_event ev, int status, void *ud);
    void *ud;
};

/* A received message: views valid only during the callback. */
struct np_msg {
    struct np_str subject, reply;
    struct np_str headers; /* the raw header block, len 0 when none (np_hdr_parse() reads it) */
    struct np_str data;
    int status; /* the header status code (503, 408, ...), 0 when none */
};

typedef void (*np_msg_cb)(struct np_client *c, const struct np_msg *m, void *ud);
typedef void (*np_done_cb)(struct np_client *c, int status, void *ud);
/*
 * A request's outcome: status 0 with the reply, or NP_CLIENT_ENO_RESPONDERS/ETIMEOUT/ECLOSED with
 * reply NULL.
 */
typedef void (*np_reply_cb)(struct np_client *c, int status, const struct np_msg *reply, void *ud);

/* Creates an unconnected client on loop with a copy of opts. Returns 0 or NP_ENOMEM. */
int np_client_new(struct np_client **out, uv_loop_t *loop, const struct np_client_opts *opts);
/*
 * Connects to the first server of the list that completes the handshake (INFO, the TLS handshake
 * when wanted or required, CONNECT+PING, PONG) within the timeout, trying each in order. Returns
 * an NP_EURL* code (cb not called) when the server list does not parse, NP_CLIENT_ETLS_FILES
 * (np_client_last_error() says which file and why) when the TLS files do not load,
 * NP_CLIENT_ECREDS_FILES (likewise, never with the file's text) when the nkey or creds file does
 * not give a seed,
 * NP_CLIENT_ECLOSED when connect was already called. Otherwise cb gets 0, NP_CLIENT_EAUTH (a
 * server refused the credentials and none accepted) or NP_CLIENT_ENO_SERVERS; after a failure only
 * np_client_close() remains. After a later disconnect the client reconnects through the list and
 * the connect_urls servers announce, with backoff.
 */
int np_client_connect(struct np_client *c, np_done_cb cb, void *ud);
/* The server's INFO of the current connection, or NULL while not connected. */
const struct np_info *np_client_info(const struct np_client *c);
/*
 * The text of the last -ERR from the server (without quotes), or "". After NP_CLIENT_ETLS_FILES
 * or NP_CLIENT_ECREDS_FILES from np_client_connect(), why a TLS, nkey or creds file did not load.
 */
const char *np_client_last_error(const struct np_client *c);
/*
 * Why the last connection attempt on the i-th server of opts.servers failed, so a caller can say
 * more than NP_CLIENT_ENO_SERVERS: a negative libuv code (UV_ECONNREFUSED, UV_EAI_NONAME, ...),
 * NP_CLIENT_ETIMEOUT (no TCP connection or no handshake within timeout_ms), NP_CLIENT_EAUTH,
 * NP_CLIENT_ETLS or NP_CLIENT_ESECURE.
 * 0 when that server was not tried, or its last attempt succeeded, or i is out of range.
 */
int np_client_attempt_error(const struct np_client *c, size_t i);
/* After NP_CLIENT_ETLS from np_client_attempt_error(c, i), why the handshake failed; else "". */
const char *np_client_attempt_detail(const struct np_client *c, size_t i);

/*
 * Subscribes; queue may be NULL. max > 0 unsubscribes automatically after max messages. Returns a
 * positive subscription id, or a negative code (NP_ESUBJECT for an invalid subject). The callback
 * runs for each message until np_client_unsubscribe() or the max. Subscriptions made while not
 * connected are sent once the connection is up.
 */
int64_t np_client_subscribe(struct np_client *c, const char *subject, const char *queue,
                            uint64_t max, np_msg_cb cb, void *ud);
/* Returns 0, or NP_EINVAL when sid is not a live subscription. Safe inside its own callback. */
int np_client_unsubscribe(struct np_client *c, int64_t sid);

/*
 * Publishes (headers may be empty). The bytes are queued and written from the loop; while
 * disconnected up to 8 MiB are kept for the next connection. Returns 0, NP_ESUBJECT,
 * NP_CLIENT_EMAX_PAYLOAD, NP_CLIENT_ECLOSED, NP_EINVAL (headers on a server without header
 * support) or NP_ENOSPACE (the disconnected buffer is full).
 */
int np_client_publish(struct np_client *c, const char *subject, const char *reply,
                      struct np_str headers, struct np_str data);
/*
 * Calls cb once everything published so far has been processed by the server (PING/PONG), with
 * 0, NP_CLIENT_ETIMEOUT after timeout_ms, or NP_CLIENT_ECLOSED.
 */
int np_client_flush(struct np_client *c, np_done_cb cb, void *ud);
/*
 * Sends a request through the connection's one muxed inbox subscription (_INBOX.<id>.*), created
 * on first use, and calls cb once with the first reply, a no-responders status, or a timeout
 * (timeout_ms 0 = the client's timeout).
 */
int np_client_request(struct np_client *c, const char *subject, struct np_str headers,
                      struct np_str data, uint64_t timeout_ms, np_reply_cb cb, void *ud);
/* A fresh unique inbox subject "_INBOX.<22 chars>" into out (at least 30 bytes, else ""). */
void np_client_new_inbox(struct np_client *c, char *out, size_t cap);

/*
 * Drains: unsubscribes everything, waits for messages in flight to be delivered and for published
 * data to be flushed, then closes. cb gets 0 or the reason it ended early (NP_CLIENT_ECLOSED when
 * not connected or closed meanwhile, NP_CLIENT_ETIMEOUT, a disconnect's code); the client is
 * freed after cb returns. Returns NP_CLIENT_ECLOSED (cb not called) when already closing.
 */
int np_client_drain(struct np_client *c, np_done_cb cb, void *ud);
/*
 * Closes at once (pending output dropped; pending requests and flushes get NP_CLIENT_ECLOSED
 * first). cb (optional) runs with 0 once every handle is closed. A second close is ignored.
 */
void np_client_close(struct np_client *c, np_done_cb cb, void *ud);

#endif
