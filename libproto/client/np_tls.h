/*
 * The client connection's TLS, on OpenSSL: a context per client (its CAs, its certificate) and a
 * session per connection attempt. Like the server's layer (libbroker/nb_tls.h) it never touches a
 * socket: np_conn.c hands it what it read and writes what it produced, so all I/O stays on libuv.
 * Internal to libproto/client; np_client.h is the interface.
 */
#ifndef NP_TLS_H
#define NP_TLS_H

#include "np_buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct np__tls_ctx;
struct np__tls;

/*
 * A client context: server certificates are verified against ca (a PEM file) or, without one, the
 * system's CAs; cert and key (PEM, both or neither) are presented when the server asks. Returns 0,
 * NP_ENOMEM, or NP_CLIENT_ETLS_FILES with the reason in err ("open x: No such file or directory").
 */
int np__tls_ctx_new(struct np__tls_ctx **out, const char *cert, const char *key, const char *ca,
                    char *err, size_t cap);
void np__tls_ctx_free(struct np__tls_ctx *ctx);

/*
 * A session with the server named host (a DNS name or an IP address, which its certificate must
 * match), its ClientHello already in the output. NULL: no memory.
 */
struct np__tls *np__tls_new(struct np__tls_ctx *ctx, const char *host);
void np__tls_free(struct np__tls *t);

/* np__tls_read()'s result when the server closed the session (close_notify). */
#define NP__TLS_EOF (-1)
/* A failure; np__tls_error() says what. */
#define NP__TLS_FAIL (-2)

/*
 * Takes bytes read from the socket (valid until the np__tls_read() calls that follow return 0) and
 * advances the handshake. Returns 1 once it is complete, 0 while it needs more, or NP__TLS_FAIL.
 */
int np__tls_input(struct np__tls *t, const char *raw, size_t len);
/* Decrypts into buf: bytes written, 0 once everything taken in is consumed, NP__TLS_EOF or FAIL. */
ssize_t np__tls_read(struct np__tls *t, char *buf, size_t cap);
/* Encrypts len bytes into the output. Returns 0 or NP__TLS_FAIL. */
int np__tls_write(struct np__tls *t, const void *data, size_t len);
/* What must be written to the socket; the caller takes the bytes and empties it. */
struct np_buf *np__tls_output(struct np__tls *t);
/* Why the session failed, for people ("the server's certificate is not trusted: ..."). */
const char *np__tls_error(const struct np__tls *t);

#endif
