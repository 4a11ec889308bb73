/*
 * TLS for the server's connections, on OpenSSL, as a layer under the protocol: the transport
 * (nb_conn.c, and the monitoring port's nb_http.c) reads ciphertext from libuv into the layer and
 * gets plaintext back, and hands plaintext to it and writes the records it produces. OpenSSL never
 * touches a socket: it reads from the slice just read and writes into a chunk queue, so reads and
 * writes stay on libuv and the once-per-iteration flush batches the records as it batches MSGs.
 *
 * The configuration side (cipher and curve names as nats-server spells them, and checking that
 * the certificate files load) is here too, so that OpenSSL is used in this file only.
 */
#ifndef NB_TLS_H
#define NB_TLS_H

#include "nb.h"
#include "nb_outq.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- configuration ----------------------------------------------------------------------------- */

/* nats-server's TLS_TIMEOUT: how long the handshake may take unless the configuration says. */
#define NB_TLS_TIMEOUT_MS 2000

/* nats-server's defaults: off, handshake within NB_TLS_TIMEOUT_MS, TLS 1.2 and up. */
void nb__tls_config_init(struct nb_tls_config *tls);
void nb__tls_config_release(struct nb_tls_config *tls);
/* dst (whose strings are not owned) = src with copies of the strings. Returns 0 or NB_ENOMEM. */
int nb__tls_config_copy(struct nb_tls_config *dst, const struct nb_tls_config *src);

enum nb_tls_name {
    NB_TLS_NAME_OK,      /* a known name; *out is OpenSSL's (NULL: a TLS 1.3 suite, always on) */
    NB_TLS_NAME_UNKNOWN, /* not a name nats-server knows */
    NB_TLS_NAME_UNAVAILABLE, /* known, but broken (RC4, 3DES) and not built into natsctl */
};

/* Maps a cipher_suites entry (Go's name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). */
enum nb_tls_name nb__tls_cipher_name(const char *go_name, const char **out);
/* Maps a curve_preferences entry (X25519, CurveP256, CurveP384, CurveP521). */
enum nb_tls_name nb__tls_curve_name(const char *go_name, const char **out);

/*
 * Checks that tls would make a working context: the certificate and key load and match, the CA
 * file parses, the cipher and curve lists are accepted. Returns 0, or NB_ECONFIG with msg in
 * nats-server's words ("error parsing X509 certificate/key pair: open x: no such file or
 * directory").
 */
int nb__tls_check(const struct nb_tls_config *tls, char *msg, size_t cap);

/* ---- contexts ----------------------------------------------------------------------------------- */

/* The certificate, settings and scratch one kind of listener shares (client port, https port). */
struct nb_tls_ctx;

/*
 * Creates a context from tls; for_monitor leaves out client certificates (a browser has none), as
 * nats-server does on its https port. Returns 0, NB_ENOMEM, or NB_ECONFIG with msg.
 */
int nb__tls_ctx_new(struct nb_tls_ctx **out, const struct nb_tls_config *tls, bool for_monitor,
                    char *msg, size_t cap);
/*
 * A context for routes, which accept and dial with one certificate: the peer's certificate is
 * always required and verified (insecure skips it for dialed peers only), as in nats-server.
 */
int nb__tls_ctx_new_routes(struct nb_tls_ctx **out, const struct nb_tls_config *tls, char *msg,
                           size_t cap);
/* Drops the owner's reference: the context goes once the last session made from it is freed. */
void nb__tls_ctx_free(struct nb_tls_ctx *ctx);
/* Whether two contexts serve the same certificate and key (a reload compares what the files hold). */
bool nb__tls_ctx_same_pair(const struct nb_tls_ctx *a, const struct nb_tls_ctx *b);

/* ---- connections -------------------------------------------------------------------------------- */

struct nb_tls;

/* A server-side TLS session whose records go to a queue of chunks from pool. NULL: no memory. */
struct nb_tls *nb__tls_new(struct nb_tls_ctx *ctx, struct nb_chunk_pool *pool);
/*
 * A client-side session to a peer dialed at host (an IP address or a name its certificate must
 * carry), its ClientHello already queued. NULL: no memory.
 */
struct nb_tls *nb__tls_connect(struct nb_tls_ctx *ctx, struct nb_chunk_pool *pool,
                               const char *host);
/* Frees t and its queued records. */
void nb__tls_free(struct nb_tls *t);

/* nb__tls_read()'s result when the peer closed the session (close_notify). */
#define NB_TLS_EOF (-1)
/* A failure; nb__tls_error() says what, in nats-server's words. */
#define NB_TLS_FAIL (-2)

/*
 * Takes bytes read from the socket (valid during the call and the nb__tls_read() calls that
 * follow it) and advances the handshake. Returns 1 once the handshake is complete (this call or
 * before), 0 while it needs more input, or NB_TLS_FAIL. The handshake's own records are queued.
 */
int nb__tls_input(struct nb_tls *t, const char *raw, size_t len);
/*
 * Decrypts into buf. Returns the bytes written, 0 once everything taken in so far is consumed,
 * NB_TLS_EOF or NB_TLS_FAIL. Call it until it returns 0 after each nb__tls_input(): what stays in
 * OpenSSL's buffers would otherwise wait for the next read from the socket.
 */
ssize_t nb__tls_read(struct nb_tls *t, char *buf, size_t cap);
/* Encrypts len bytes into records on the queue. Returns 0 or NB_TLS_FAIL (no memory). */
int nb__tls_write(struct nb_tls *t, const void *data, size_t len);
/* Queues bytes that go out as they are, before any record that follows (the INFO line). */
int nb__tls_write_clear(struct nb_tls *t, const void *data, size_t len);
/* Queues the close_notify alert, once. */
void nb__tls_shutdown(struct nb_tls *t);
/* What goes on the socket next. */
struct nb_outq *nb__tls_wire(struct nb_tls *t);
/*
 * A buffer for decrypted input, shared by every session of t's context: a read is processed
 * completely before the next one, as the server's read buffer is.
 */
char *nb__tls_scratch(struct nb_tls *t, size_t *cap);
bool nb__tls_ready(const struct nb_tls *t);
/* Why the session failed ("tls: client didn't provide a certificate"), "" when it did not. */
const char *nb__tls_error(const struct nb_tls *t);
/* The negotiated version ("1.3") and suite (nats-server's name), once ready. */
const char *nb__tls_version(const struct nb_tls *t);
const char *nb__tls_cipher(const struct nb_tls *t);

/* ---- the peer's certificate (verify_and_map) ------------------------------------------------ */

/* Where a name of nb__tls_each_alt_name() comes from in the certificate's subjectAltName. */
enum nb_tls_alt { NB_TLS_ALT_EMAIL, NB_TLS_ALT_DNS, NB_TLS_ALT_URI };

/* How many certificates the peer sent (its own first), 0 without one. */
int nb__tls_peer_count(const struct nb_tls *t);
/*
 * Calls fn with the peer certificate's e-mail addresses, then its DNS names, then its URIs, until
 * fn returns true. Returns whether one did (false without a peer certificate).
 */
bool nb__tls_each_alt_name(const struct nb_tls *t,
                           bool (*fn)(void *ud, enum nb_tls_alt kind, const char *name), void *ud);
/*
 * Whether the peer certificate's subject is the distinguished name dn (RFC 4514 text, as
 * nats-server's LDAP parser reads it): RDN by RDN in order, or (any_order) in any order of the
 * RDNs. False when dn does not parse, or the subject has an attribute that parser does not know.
 */
bool nb__tls_subject_is(const struct nb_tls *t, const char *dn, bool any_order);
/*
 * The peer certificate's subject as Go prints it (RFC 2253: C, ST, L, STREET, POSTALCODE, O, OU,
 * CN, SERIALNUMBER, last first), with ",DC=..." of its domain components appended when with_dc.
 * Returns false without a certificate, when with_dc and there is none, or when cap is too small.
 */
bool nb__tls_subject(const struct nb_tls *t, bool with_dc, char *buf, size_t cap);

#endif
