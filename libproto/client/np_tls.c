/*
 * Client TLS sessions on OpenSSL (np_tls.h). One BIO of our own serves both directions: reading
 * returns bytes of the slice np_conn.c just read from libuv, writing appends to the session's
 * output buffer, which np_conn.c writes with libuv. The server's certificate is checked as nats.go
 * checks it: against the given CAs or the system's, and for the host name or IP address dialled.
 */
#include "np_tls.h"
#include "np_client.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct np__tls_ctx {
    SSL_CTX *ssl;
    BIO_METHOD *bio;
};

struct np__tls {
    SSL *ssl;
    struct np_buf out;
    const char *in; /* the unread rest of the slice np_conn.c read */
    size_t in_len;
    bool ready, failed;
    char err[200];
};

/* Where Go looks for the system's CA bundle when OpenSSL's own directory has none (not Debian). */
static const char *const system_bundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Gentoo, Arch */
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* CentOS, RHEL 7 */
    "/etc/ssl/cert.pem",                                 /* Alpine */
};

/* ---- the BIO ----------------------------------------------------------------------------------- */

static int
bio_read(BIO *b, char *buf, size_t len, size_t *done)
{
    struct np__tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (t->in_len == 0) {
        BIO_set_retry_read(b);
        return 0;
    }
    size_t n = len < t->in_len ? len : t->in_len;
    memcpy(buf, t->in, n);
    t->in += n;
    t->in_len -= n;
    *done = n;
    return 1;
}

static int
bio_write(BIO *b, const char *buf, size_t len, size_t *done)
{
    struct np__tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (np_buf_add(&t->out, buf, len) != 0) return 0;
    *done = len;
    return 1;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *
bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "natsctl client");
    if (m && (!BIO_meth_set_read_ex(m, bio_read) || !BIO_meth_set_write_ex(m, bio_write) ||
              !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

/* ---- contexts ---------------------------------------------------------------------------------- */

static int files_error(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
files_error(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    ERR_clear_error();
    return NP_CLIENT_ETLS_FILES;
}

/* OpenSSL's reason for the last failure, or what it was doing. */
static const char *
reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : fallback;
}

static bool
readable(const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        files_error(err, cap, "%s: %s", path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

static int
load_files(SSL_CTX *ssl, const char *cert, const char *key, const char *ca, char *err, size_t cap)
{
    if (!cert != !key)
        return files_error(err, cap,
                           "a client certificate needs its key (--tlscert with --tlskey)");
    if (cert) {
        if (!readable(cert, err, cap) || !readable(key, err, cap)) return NP_CLIENT_ETLS_FILES;
        if (SSL_CTX_use_certificate_chain_file(ssl, cert) != 1)
            return files_error(err, cap, "%s: no certificate: %s", cert, reason("bad PEM"));
        if (SSL_CTX_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) != 1)
            return files_error(err, cap, "%s: no private key, or not the certificate's: %s", key,
                               reason("bad PEM"));
    }
    if (ca) {
        if (!readable(ca, err, cap)) return NP_CLIENT_ETLS_FILES;
        if (SSL_CTX_load_verify_locations(ssl, ca, NULL) != 1)
            return files_error(err, cap, "%s: no CA certificate: %s", ca, reason("bad PEM"));
        return 0;
    }
    SSL_CTX_set_default_verify_paths(ssl);
    for (size_t i = 0; i < sizeof system_bundles / sizeof system_bundles[0]; i++) {
        FILE *f = fopen(system_bundles[i], "r");
        if (!f) continue;
        fclose(f);
        SSL_CTX_load_verify_locations(ssl, system_bundles[i], NULL);
        break;
    }
    ERR_clear_error();
    return 0;
}

void
np__tls_ctx_free(struct np__tls_ctx *ctx)
{
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl);
    BIO_meth_free(ctx->bio);
    free(ctx);
}

int
np__tls_ctx_new(struct np__tls_ctx **out, const char *cert, const char *key, const char *ca,
                char *err, size_t cap)
{
    *out = NULL;
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    struct np__tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NP_ENOMEM;
    ctx->ssl = SSL_CTX_new(TLS_client_method());
    ctx->bio = bio_method();
    int rc = ctx->ssl && ctx->bio ? 0 : NP_ENOMEM;
    if (rc == 0) {
        SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_mode(ctx->ssl, SSL_MODE_RELEASE_BUFFERS);
        rc = load_files(ctx->ssl, cert, key, ca, err, cap);
    }
    if (rc != 0) {
        if (rc == NP_ENOMEM) snprintf(err, cap, "out of memory");
        np__tls_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

/* ---- sessions ---------------------------------------------------------------------------------- */

static int fail(struct np__tls *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct np__tls *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    t->failed = true;
    ERR_clear_error();
    return NP__TLS_FAIL;
}

/* The certificate must be for host: its IP address or DNS name, as nats.go requires. */
static bool
expect_host(SSL *ssl, const char *host)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1) return true;
    ERR_clear_error();
    return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
}

struct np__tls *
np__tls_new(struct np__tls_ctx *ctx, const char *host)
{
    struct np__tls *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ssl = SSL_new(ctx->ssl);
    BIO *b = BIO_new(ctx->bio);
    if (!t->ssl || !b || !expect_host(t->ssl, host)) {
        BIO_free(b);
        np__tls_free(t);
        return NULL;
    }
    BIO_set_data(b, t);
    SSL_set_bio(t->ssl, b, b);
    SSL_set_connect_state(t->ssl);
    if (np__tls_input(t, NULL, 0) == NP__TLS_FAIL) {
        np__tls_free(t);
        return NULL;
    }
    return t;
}

void
np__tls_free(struct np__tls *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    np_buf_release(&t->out);
    free(t);
}

/* A failure in people's words: an untrusted certificate, or what the server said. */
static int
failed(struct np__tls *t)
{
    long verify = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_peek_last_error();
    int r = ERR_GET_REASON(e);
    if (verify != X509_V_OK)
        return fail(t, "the server's certificate is not trusted: %s",
                    X509_verify_cert_error_string(verify));
    if (r > SSL_AD_REASON_OFFSET) {
        char alert[64];
        snprintf(alert, sizeof alert, "%s", SSL_alert_desc_string_long(r - SSL_AD_REASON_OFFSET));
        for (char *p = alert; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        return fail(t, "refused by the server (%s)", alert);
    }
    if (e) return fail(t, "%s", reason("handshake failure"));
    return fail(t, "the server closed the connection during the TLS handshake");
}

int
np__tls_input(struct np__tls *t, const char *raw, size_t len)
{
    if (t->failed) return NP__TLS_FAIL;
    t->in = raw;
    t->in_len = len;
    if (t->ready) return 1;
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        t->ready = true;
        return 1;
    }
    if (SSL_get_error(t->ssl, rc) == SSL_ERROR_WANT_READ) return 0;
    return failed(t);
}

ssize_t
np__tls_read(struct np__tls *t, char *buf, size_t cap)
{
    if (t->failed) return NP__TLS_FAIL;
    if (!t->ready) return 0;
    size_t n = 0;
    ERR_clear_error();
    int rc = SSL_read_ex(t->ssl, buf, cap, &n);
    if (rc == 1) return (ssize_t)n;
    int err = SSL_get_error(t->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) return 0;
    if (err == SSL_ERROR_ZERO_RETURN) return NP__TLS_EOF;
    return failed(t);
}

int
np__tls_write(struct np__tls *t, const void *data, size_t len)
{
    size_t n;
    if (t->failed) return NP__TLS_FAIL;
    if (len == 0) return 0;
    ERR_clear_error();
    return SSL_write_ex(t->ssl, data, len, &n) == 1 ? 0 : fail(t, "cannot encrypt: out of memory");
}

struct np_buf *
np__tls_output(struct np__tls *t)
{
    return &t->out;
}

const char *
np__tls_error(const struct np__tls *t)
{
    return t->err;
}
