/*
 * TLS sessions on OpenSSL for the server's transports (nb_tls.h), and the checks of a TLS
 * configuration.
 *
 * Each session has one BIO of our own for both directions: reading returns bytes of the slice the
 * transport just read from libuv (and "retry" when it is used up), writing appends records to the
 * session's chunk queue. OpenSSL keeps a partial record in its own buffer, released when empty
 * (SSL_MODE_RELEASE_BUFFERS), so an idle session holds no buffers.
 *
 * Errors are reported in nats-server's words (Go's crypto/tls texts), since operators grep logs for
 * them: "tls: client didn't provide a certificate", "tls: failed to verify client certificate:
 * x509: certificate signed by unknown authority", "tls: first record does not look like a TLS
 * handshake".
 */
#include "nb_tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SCRATCH_SIZE (64 * 1024)
#define PIN_LEN      32 /* SHA-256 */

/* nats-server 2.9's cipher_suites names; ossl NULL marks one this build leaves out. */
static const struct {
    const char *go, *ossl;
    bool tls13; /* a TLS 1.3 suite: Go cannot configure those, so the name has no effect */
} ciphers[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", NULL, false},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", NULL, false},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", false},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", false},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", NULL, false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", NULL, false},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", NULL, false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
};

/* nats-server's defaults (defaultCipherSuites and defaultCurvePreferences). */
static const char default_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
static const char default_curves[] = "X25519:P-256:P-384:P-521";

static const struct {
    const char *go, *ossl;
} curves[] = {
    {"X25519", "X25519"},
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
};

struct nb_tls_ctx {
    /* The owner's reference and one per session: a reload replaces the owner's context while the
       sessions made from it keep it (and its scratch buffer) alive. */
    unsigned refs;
    SSL_CTX *ssl;
    BIO_METHOD *bio;
    unsigned char (*pins)[PIN_LEN]; /* pinned_certs, NULL: any key */
    size_t npins;
    bool insecure; /* routes: a dialed peer's certificate is not checked */
    char scratch[SCRATCH_SIZE];
};

struct nb_tls {
    struct nb_tls_ctx *ctx;
    SSL *ssl;
    struct nb_outq wire;
    struct nb_chunk_pool *pool;
    const char *in; /* the unread rest of the slice the transport read */
    size_t in_len;
    unsigned char head[5]; /* the first record header, to tell a plaintext client */
    unsigned nhead;
    bool dialed; /* the client side of the handshake: the peer's certificate is a server's */
    bool ready, failed, shut;
    char err[200];
    char host[256]; /* dialed: the name or address the peer's certificate must carry */
    bool misnamed;  /* dialed: err says the certificate does not name host, in Go's words */
};

/* ---- configuration ----------------------------------------------------------------------------- */

void
nb__tls_config_init(struct nb_tls_config *tls)
{
    *tls = (struct nb_tls_config){.timeout_ms = NB_TLS_TIMEOUT_MS, .min_version = TLS1_2_VERSION};
}

/* The owned strings of tls, for the functions that copy and free them all. */
#define TLS_STRINGS(tls)                                                                           \
    {                                                                                              \
        &(tls)->cert_file, &(tls)->key_file, &(tls)->ca_file, &(tls)->ciphers, &(tls)->curves,     \
            &(tls)->pinned                                                                         \
    }

void
nb__tls_config_release(struct nb_tls_config *tls)
{
    char **strs[] = TLS_STRINGS(tls);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

int
nb__tls_config_copy(struct nb_tls_config *dst, const struct nb_tls_config *src)
{
    *dst = *src;
    char **to[] = TLS_STRINGS(dst);
    char *const *from[] = TLS_STRINGS(src);
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
        *to[i] = NULL;
    int rc = 0;
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
        rc |= nb_config_set_str(to[i], *from[i]);
    if (!rc) return 0;
    nb__tls_config_release(dst);
    return NB_ENOMEM;
}

/* ---- names ------------------------------------------------------------------------------------- */

enum nb_tls_name
nb__tls_cipher_name(const char *go_name, const char **out)
{
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        if (strcmp(go_name, ciphers[i].go) != 0) continue;
        *out = ciphers[i].tls13 ? NULL : ciphers[i].ossl;
        return ciphers[i].ossl ? NB_TLS_NAME_OK : NB_TLS_NAME_UNAVAILABLE;
    }
    return NB_TLS_NAME_UNKNOWN;
}

enum nb_tls_name
nb__tls_curve_name(const char *go_name, const char **out)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++) {
        if (strcmp(go_name, curves[i].go) == 0) {
            *out = curves[i].ossl;
            return NB_TLS_NAME_OK;
        }
    }
    return NB_TLS_NAME_UNKNOWN;
}

/* ---- the BIO ----------------------------------------------------------------------------------- */

static int
bio_read(BIO *b, char *buf, size_t len, size_t *done)
{
    struct nb_tls *t = BIO_get_data(b);
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
    struct nb_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (nb__outq_append(&t->wire, t->pool, buf, len) != 0) return 0;
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
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "natsctl transport");
    if (m && (!BIO_meth_set_read_ex(m, bio_read) || !BIO_meth_set_write_ex(m, bio_write) ||
              !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

/* ---- contexts ---------------------------------------------------------------------------------- */

static int invalid(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
invalid(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return NB_ECONFIG;
}

/* "open PATH: no such file or directory", as Go words a file that cannot be read. */
static bool
readable(const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return true;
    }
    snprintf(why, cap, "open %s: %s", path, strerror(errno));
    char *text = strstr(why, ": ") + 2;
    *text = (char)tolower((unsigned char)*text);
    return false;
}

/* Why OpenSSL could not load a PEM input, in Go's words: its queue holds the cause and effects. */
static const char *
pem_reason(char *why, size_t cap, const char *input)
{
    unsigned long e, last = 0;
    bool no_pem = false, mismatch = false;
    while ((e = ERR_get_error()) != 0) {
        /* PEM's "no start line", or no decoder for what the PEM block holds */
        no_pem |=
            (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) ||
            (ERR_GET_LIB(e) == ERR_LIB_OSSL_DECODER && ERR_GET_REASON(e) == ERR_R_UNSUPPORTED);
        mismatch |= ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
        last = e;
    }
    if (mismatch)
        snprintf(why, cap, "tls: private key does not match public key");
    else if (no_pem)
        snprintf(why, cap, "tls: failed to find any PEM data in %s input", input);
    else
        snprintf(why, cap, "tls: %s", last ? ERR_reason_error_string(last) : "unknown error");
    return why;
}

static int
load_pair(SSL_CTX *ssl, const struct nb_tls_config *tls, char *msg, size_t cap)
{
    static const char pfx[] = "error parsing X509 certificate/key pair";
    char why[300];
    if (!tls->cert_file && !tls->key_file) {
        return invalid(msg, cap, "a TLS listener needs a certificate: set cert_file and key_file");
    }
    if (!tls->key_file) return invalid(msg, cap, "missing 'key_file' in TLS configuration");
    if (!tls->cert_file) return invalid(msg, cap, "missing 'cert_file' in TLS configuration");
    if (!readable(tls->cert_file, why, sizeof why) || !readable(tls->key_file, why, sizeof why))
        return invalid(msg, cap, "%s: %s", pfx, why);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ssl, tls->cert_file) != 1)
        return invalid(msg, cap, "%s: %s", pfx, pem_reason(why, sizeof why, "certificate"));
    if (SSL_CTX_use_PrivateKey_file(ssl, tls->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl) != 1)
        return invalid(msg, cap, "%s: %s", pfx, pem_reason(why, sizeof why, "key"));
    return 0;
}

/* Client certificates: required and checked against ca_file, or the system's CAs without one. */
static int
set_verify(SSL_CTX *ssl, const struct nb_tls_config *tls, char *msg, size_t cap)
{
    char why[300];
    if (tls->ca_file) {
        if (!readable(tls->ca_file, why, sizeof why)) return invalid(msg, cap, "%s", why);
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(tls->ca_file);
        if (!names || SSL_CTX_load_verify_locations(ssl, tls->ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return invalid(msg, cap, "failed to parse root ca certificate");
        }
        SSL_CTX_set_client_CA_list(ssl, names);
    } else if (tls->verify) {
        SSL_CTX_set_default_verify_paths(ssl);
    }
    if (tls->verify)
        SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return 0;
}

static int
set_protocol(SSL_CTX *ssl, const struct nb_tls_config *tls, char *msg, size_t cap)
{
    const char *list = tls->ciphers ? tls->ciphers : default_ciphers;
    int min = tls->min_version >= TLS1_3_VERSION || !*list ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ssl, min);
    if (*list && SSL_CTX_set_cipher_list(ssl, list) != 1)
        return invalid(msg, cap, "no cipher of cipher_suites is usable");
    /* Go's order for TLS 1.3: AES-128 first, the cheapest where AES is in hardware. */
    SSL_CTX_set_ciphersuites(ssl, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                                  "TLS_AES_256_GCM_SHA384");
    if (SSL_CTX_set1_groups_list(ssl, tls->curves ? tls->curves : default_curves) != 1)
        return invalid(msg, cap, "no curve of curve_preferences is usable");
    SSL_CTX_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    /* Tickets let a reconnecting client resume without the server keeping a session cache. */
    SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ssl, 1);
    return 0;
}

static int
hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* pinned: ','-joined 64-digit hex SHA-256 values (nb_config.c checked their form). */
static int
set_pins(struct nb_tls_ctx *ctx, const char *pinned)
{
    size_t n = 1;
    for (const char *p = pinned; *p; p++)
        n += *p == ',';
    ctx->pins = calloc(n, PIN_LEN);
    if (!ctx->pins) return NB_ENOMEM;
    for (const char *p = pinned; *p; p += *p == ',') {
        for (size_t i = 0; i < PIN_LEN && p[0] && p[1]; i++, p += 2)
            ctx->pins[ctx->npins][i] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
        ctx->npins++;
    }
    return 0;
}

void
nb__tls_ctx_free(struct nb_tls_ctx *ctx)
{
    if (!ctx || --ctx->refs > 0) return;
    SSL_CTX_free(ctx->ssl);
    BIO_meth_free(ctx->bio);
    free(ctx->pins);
    free(ctx);
}

bool
nb__tls_ctx_same_pair(const struct nb_tls_ctx *a, const struct nb_tls_ctx *b)
{
    X509 *ca = SSL_CTX_get0_certificate(a->ssl), *cb = SSL_CTX_get0_certificate(b->ssl);
    EVP_PKEY *ka = SSL_CTX_get0_privatekey(a->ssl), *kb = SSL_CTX_get0_privatekey(b->ssl);
    return ca && cb && ka && kb && X509_cmp(ca, cb) == 0 && EVP_PKEY_eq(ka, kb) == 1;
}

/*
 * A context with its owner's reference; ssl or bio may be NULL (out of memory), which the caller
 * checks after, so that nb__tls_ctx_free() cleans up either way.
 */
static struct nb_tls_ctx *
ctx_alloc(const SSL_METHOD *method)
{
    /* natsctl's TLS settings are its own options: no system openssl.cnf changes them. */
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    struct nb_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->refs = 1;
    ctx->ssl = SSL_CTX_new(method);
    ctx->bio = bio_method();
    return ctx;
}

int
nb__tls_ctx_new(struct nb_tls_ctx **out, const struct nb_tls_config *tls, bool for_monitor,
                char *msg, size_t cap)
{
    *out = NULL;
    struct nb_tls_ctx *ctx = ctx_alloc(TLS_server_method());
    if (!ctx) return NB_ENOMEM;
    int rc = ctx->ssl && ctx->bio ? 0 : NB_ENOMEM;
    if (!rc) rc = load_pair(ctx->ssl, tls, msg, cap);
    if (!rc) rc = set_protocol(ctx->ssl, tls, msg, cap);
    if (!rc && !for_monitor) rc = set_verify(ctx->ssl, tls, msg, cap);
    if (!rc && !for_monitor && tls->pinned) rc = set_pins(ctx, tls->pinned);
    ERR_clear_error();
    if (rc) {
        if (rc == NB_ENOMEM) snprintf(msg, cap, "out of memory");
        nb__tls_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

/*
 * nats-server's route TLS (its getTLSConfig): one configuration for both ends of a route, peers
 * always verified against ca_file (the system's CAs without one), the own certificate shown to
 * both accepted and dialed peers.
 */
int
nb__tls_ctx_new_routes(struct nb_tls_ctx **out, const struct nb_tls_config *tls, char *msg,
                       size_t cap)
{
    *out = NULL;
    struct nb_tls_ctx *ctx = ctx_alloc(TLS_method());
    if (!ctx) return NB_ENOMEM;
    struct nb_tls_config verified = *tls;
    verified.verify = true;
    ctx->insecure = tls->insecure;
    int rc = ctx->ssl && ctx->bio ? 0 : NB_ENOMEM;
    if (!rc) rc = load_pair(ctx->ssl, tls, msg, cap);
    if (!rc) rc = set_protocol(ctx->ssl, tls, msg, cap);
    if (!rc) rc = set_verify(ctx->ssl, &verified, msg, cap);
    if (!rc && tls->pinned) rc = set_pins(ctx, tls->pinned);
    ERR_clear_error();
    if (rc) {
        if (rc == NB_ENOMEM) snprintf(msg, cap, "out of memory");
        nb__tls_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int
nb__tls_check(const struct nb_tls_config *tls, char *msg, size_t cap)
{
    struct nb_tls_ctx *ctx;
    int rc = nb__tls_ctx_new(&ctx, tls, false, msg, cap);
    nb__tls_ctx_free(ctx);
    return rc;
}

/* ---- sessions ---------------------------------------------------------------------------------- */

static struct nb_tls *
session_new(struct nb_tls_ctx *ctx, struct nb_chunk_pool *pool)
{
    struct nb_tls *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ctx = ctx;
    ctx->refs++;
    t->pool = pool;
    t->ssl = SSL_new(ctx->ssl);
    BIO *b = BIO_new(ctx->bio);
    if (!t->ssl || !b) {
        BIO_free(b);
        nb__tls_free(t);
        return NULL;
    }
    BIO_set_data(b, t);
    SSL_set_bio(t->ssl, b, b);
    return t;
}

struct nb_tls *
nb__tls_new(struct nb_tls_ctx *ctx, struct nb_chunk_pool *pool)
{
    struct nb_tls *t = session_new(ctx, pool);
    if (t) SSL_set_accept_state(t->ssl);
    return t;
}

/* "a, b" of the certificate's IP addresses (ip) or DNS names in its subjectAltName. */
static void
alt_names(X509 *cert, bool ip, char *out, size_t cap)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && len < cap; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char text[INET6_ADDRSTRLEN + 1] = "";
        int n = ASN1_STRING_length(g->d.ia5);
        const unsigned char *p = ASN1_STRING_get0_data(g->d.ia5);
        if (ip && g->type == GEN_IPADD && (n == 4 || n == 16))
            inet_ntop(n == 4 ? AF_INET : AF_INET6, p, text, sizeof text);
        else if (!ip && g->type == GEN_DNS)
            snprintf(text, sizeof text, "%.*s", n, (const char *)p);
        if (text[0]) len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", text);
    }
    GENERAL_NAMES_free(names);
}

/* Go's x509.HostnameError for a dialed peer's certificate that does not name t->host. */
static void
host_mismatch(struct nb_tls *t, X509 *cert, bool ip)
{
    char valid[80];
    alt_names(cert, ip, valid, sizeof valid);
    t->misnamed = true;
    if (ip && !valid[0])
        snprintf(t->err, sizeof t->err,
                 "x509: cannot validate certificate for %.60s because it doesn't contain any IP "
                 "SANs",
                 t->host);
    else if (!valid[0])
        snprintf(t->err, sizeof t->err,
                 "x509: certificate is not valid for any names, but wanted to match %.60s",
                 t->host);
    else
        snprintf(t->err, sizeof t->err, "x509: certificate is valid for %.80s, not %.60s", valid,
                 t->host);
}

static int
verify_dialed(int ok, X509_STORE_CTX *store)
{
    int err = X509_STORE_CTX_get_error(store);
    if (ok || (err != X509_V_ERR_HOSTNAME_MISMATCH && err != X509_V_ERR_IP_ADDRESS_MISMATCH))
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct nb_tls *t = ssl ? BIO_get_data(SSL_get_rbio(ssl)) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (t && cert) host_mismatch(t, cert, err == X509_V_ERR_IP_ADDRESS_MISMATCH);
    return ok;
}

/*
 * Go's client checks: the chain, then that the certificate names host (an IP address against its
 * IP SANs, a name against its DNS names, which also goes out as SNI), unless insecure.
 */
static bool
expect_peer(struct nb_tls *t, const char *host)
{
    struct in6_addr ip;
    bool is_ip = inet_pton(AF_INET, host, &ip) == 1 || inet_pton(AF_INET6, host, &ip) == 1;
    if (!is_ip && SSL_set_tlsext_host_name(t->ssl, host) != 1) return false;
    if (t->ctx->insecure) {
        SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
        return true;
    }
    snprintf(t->host, sizeof t->host, "%s", host);
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, verify_dialed);
    if (is_ip) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) == 1;
    return SSL_set1_host(t->ssl, host) == 1;
}

struct nb_tls *
nb__tls_connect(struct nb_tls_ctx *ctx, struct nb_chunk_pool *pool, const char *host)
{
    struct nb_tls *t = session_new(ctx, pool);
    if (!t) return NULL;
    t->dialed = true;
    SSL_set_connect_state(t->ssl);
    if (!expect_peer(t, host)) {
        nb__tls_free(t);
        return NULL;
    }
    /* No input yet: this only queues the ClientHello. */
    if (nb__tls_input(t, "", 0) == NB_TLS_FAIL) {
        nb__tls_free(t);
        return NULL;
    }
    return t;
}

void
nb__tls_free(struct nb_tls *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    nb__outq_release(&t->wire, t->pool);
    nb__tls_ctx_free(t->ctx);
    free(t);
}

static int fail(struct nb_tls *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct nb_tls *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    t->failed = true;
    ERR_clear_error();
    return NB_TLS_FAIL;
}

/* Go's x509 texts for the verification failures a misconfigured client meets. */
static const char *
verify_text(long result)
{
    switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return "certificate signed by unknown authority";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "certificate has expired or is not yet valid";
    case X509_V_ERR_INVALID_PURPOSE:
        return "certificate specifies an incompatible key usage";
    default:
        return X509_verify_cert_error_string(result);
    }
}

/* Go's name of an alert, which OpenSSL words differently for a few. */
static void
alert_text(int desc, char *out, size_t cap)
{
    if (desc == SSL_AD_UNKNOWN_CA) {
        snprintf(out, cap, "unknown certificate authority");
        return;
    }
    snprintf(out, cap, "%s", SSL_alert_desc_string_long(desc));
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static int
handshake_failed(struct nb_tls *t)
{
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    long verify = SSL_get_verify_result(t->ssl);
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        return fail(t, "tls: client didn't provide a certificate");
    if (t->misnamed) {
        t->failed = true;
        ERR_clear_error();
        return NB_TLS_FAIL;
    }
    if (t->dialed && (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || verify != X509_V_OK))
        return fail(t, "x509: %s", verify_text(verify));
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED || verify != X509_V_OK)
        return fail(t, "tls: failed to verify client certificate: x509: %s", verify_text(verify));
    if (reason == SSL_R_NO_SHARED_CIPHER)
        return fail(t, "tls: no cipher suite supported by both client and server");
    if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_WRONG_VERSION_NUMBER)
        return fail(t, "tls: client offered only unsupported versions");
    if (reason > SSL_AD_REASON_OFFSET) {
        char alert[64];
        alert_text(reason - SSL_AD_REASON_OFFSET, alert, sizeof alert);
        return fail(t, "remote error: tls: %s", alert);
    }
    return fail(t, "tls: %s", e ? ERR_reason_error_string(e) : "handshake failure");
}

/* nats-server checks pinned_certs once the handshake is done. */
static bool
pinned(struct nb_tls *t)
{
    if (!t->ctx->pins) return true;
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    unsigned char *der = NULL, sum[PIN_LEN];
    int n = cert ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
    bool ok = n > 0 && EVP_Digest(der, (size_t)n, sum, NULL, EVP_sha256(), NULL) == 1;
    OPENSSL_free(der);
    for (size_t i = 0; ok && i < t->ctx->npins; i++)
        if (memcmp(sum, t->ctx->pins[i], PIN_LEN) == 0) return true;
    return false;
}

/* Go's test of a first record: a handshake or alert of a version below 16.0. */
static bool
looks_like_tls(struct nb_tls *t, const char *raw, size_t len)
{
    while (t->nhead < sizeof t->head && len) {
        t->head[t->nhead++] = (unsigned char)*raw++;
        len--;
    }
    if (t->nhead < sizeof t->head) return true;
    return (t->head[0] == 0x16 || t->head[0] == 0x15) && t->head[1] < 0x10;
}

int
nb__tls_input(struct nb_tls *t, const char *raw, size_t len)
{
    if (t->failed) return NB_TLS_FAIL;
    t->in = raw;
    t->in_len = len;
    if (t->ready) return 1;
    if (!looks_like_tls(t, raw, len))
        return fail(t, "tls: first record does not look like a TLS handshake");
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        if (!pinned(t)) return fail(t, "certificate not pinned");
        t->ready = true;
        return 1;
    }
    int err = SSL_get_error(t->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) return 0;
    return handshake_failed(t);
}

ssize_t
nb__tls_read(struct nb_tls *t, char *buf, size_t cap)
{
    if (t->failed) return NB_TLS_FAIL;
    if (!t->ready) return 0;
    size_t n = 0;
    ERR_clear_error();
    int rc = SSL_read_ex(t->ssl, buf, cap, &n);
    if (rc == 1) return (ssize_t)n;
    int err = SSL_get_error(t->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) return 0;
    if (err == SSL_ERROR_ZERO_RETURN) return NB_TLS_EOF;
    unsigned long e = ERR_peek_last_error();
    return fail(t, "tls: %s", e ? ERR_reason_error_string(e) : "read failure");
}

int
nb__tls_write(struct nb_tls *t, const void *data, size_t len)
{
    size_t n;
    if (t->failed || !len) return t->failed ? NB_TLS_FAIL : 0;
    ERR_clear_error();
    if (SSL_write_ex(t->ssl, data, len, &n) != 1) return fail(t, "tls: write failure");
    return 0;
}

int
nb__tls_write_clear(struct nb_tls *t, const void *data, size_t len)
{
    return nb__outq_append(&t->wire, t->pool, data, len) == 0 ? 0 : NB_TLS_FAIL;
}

void
nb__tls_shutdown(struct nb_tls *t)
{
    if (t->shut || t->failed || !t->ready) return;
    t->shut = true;
    t->in_len = 0;
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

struct nb_outq *
nb__tls_wire(struct nb_tls *t)
{
    return &t->wire;
}

char *
nb__tls_scratch(struct nb_tls *t, size_t *cap)
{
    *cap = sizeof t->ctx->scratch;
    return t->ctx->scratch;
}

bool
nb__tls_ready(const struct nb_tls *t)
{
    return t->ready;
}

const char *
nb__tls_error(const struct nb_tls *t)
{
    return t->err;
}

const char *
nb__tls_version(const struct nb_tls *t)
{
    return SSL_version(t->ssl) == TLS1_3_VERSION ? "1.3" : "1.2";
}

const char *
nb__tls_cipher(const struct nb_tls *t)
{
    const char *name = SSL_get_cipher_name(t->ssl);
    for (size_t i = 0; name && i < sizeof ciphers / sizeof ciphers[0]; i++)
        if (ciphers[i].ossl && strcmp(name, ciphers[i].ossl) == 0) return ciphers[i].go;
    return name ? name : "";
}

/* ---- the peer's certificate ------------------------------------------------------------------- */

#define DN_MAX_ATTRS 16
#define DN_MAX_VALUE 256

int
nb__tls_peer_count(const struct nb_tls *t)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);
    int n = chain ? sk_X509_num(chain) : 0;
    if (!SSL_get0_peer_certificate(t->ssl)) return 0;
    /* a server's view of the chain leaves the client's own certificate out, a client's does not */
    return t->dialed ? n : n + 1;
}

bool
nb__tls_each_alt_name(const struct nb_tls *t,
                      bool (*fn)(void *ud, enum nb_tls_alt kind, const char *name), void *ud)
{
    static const struct {
        int type;
        enum nb_tls_alt kind;
    } order[] = {
        {GEN_EMAIL, NB_TLS_ALT_EMAIL}, {GEN_DNS, NB_TLS_ALT_DNS}, {GEN_URI, NB_TLS_ALT_URI}};
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    GENERAL_NAMES *names = cert ? X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL) : NULL;
    bool found = false;
    for (size_t k = 0; !found && k < sizeof order / sizeof order[0]; k++) {
        for (int i = 0; !found && i < sk_GENERAL_NAME_num(names); i++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
            if (g->type != order[k].type) continue;
            char name[DN_MAX_VALUE];
            int n = ASN1_STRING_length(g->d.ia5);
            if (n <= 0 || (size_t)n >= sizeof name) continue;
            memcpy(name, ASN1_STRING_get0_data(g->d.ia5), (size_t)n);
            name[n] = '\0';
            if (strlen(name) == (size_t)n) found = fn(ud, order[k].kind, name);
        }
    }
    GENERAL_NAMES_free(names);
    return found;
}

/* A distinguished name as nats-server's LDAP code holds it: attributes, each in an RDN. */
struct dn {
    struct {
        char type[32];
        char value[DN_MAX_VALUE];
        int rdn;
    } a[DN_MAX_ATTRS];
    int n, nrdn;
};

/* The attribute names nats-server's LDAP code knows; any other makes a certificate unmatchable. */
static const struct {
    int nid;
    const char *name;
} ldap_types[] = {
    {NID_commonName, "CN"},      {NID_serialNumber, "SERIALNUMBER"}, {NID_countryName, "C"},
    {NID_localityName, "L"},     {NID_stateOrProvinceName, "ST"},    {NID_streetAddress, "STREET"},
    {NID_organizationName, "O"}, {NID_organizationalUnitName, "OU"}, {NID_postalCode, "POSTALCODE"},
    {NID_domainComponent, "DC"},
};

/* An entry's value as UTF-8 in out (DN_MAX_VALUE). False when it is too long or holds a NUL. */
static bool
entry_value(const X509_NAME_ENTRY *e, char *out)
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    bool ok = n >= 0 && n < DN_MAX_VALUE && memchr(utf8, '\0', (size_t)n) == NULL;
    if (ok) {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return ok;
}

static const char *
ldap_type(const X509_NAME_ENTRY *e)
{
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    for (size_t i = 0; i < sizeof ldap_types / sizeof ldap_types[0]; i++)
        if (ldap_types[i].nid == nid) return ldap_types[i].name;
    return NULL;
}

/* The subject, last RDN first (nats-server's FromRawCertSubject). */
static bool
subject_dn(const X509_NAME *xn, struct dn *d)
{
    int count = X509_NAME_entry_count(xn), set = -1;
    d->n = d->nrdn = 0;
    for (int i = count - 1; i >= 0; i--) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(xn, i);
        const char *type = ldap_type(e);
        if (!type || d->n == DN_MAX_ATTRS || !entry_value(e, d->a[d->n].value)) return false;
        if (X509_NAME_ENTRY_set(e) != set) d->nrdn++;
        set = X509_NAME_ENTRY_set(e);
        snprintf(d->a[d->n].type, sizeof d->a[d->n].type, "%s", type);
        d->a[d->n++].rdn = d->nrdn - 1;
    }
    return true;
}

/* The text being parsed into a DN: the current type or value, with its unescaped trailing spaces. */
struct dn_text {
    char buf[DN_MAX_VALUE];
    size_t len, trailing;
    bool over;
};

static void
text_put(struct dn_text *x, char ch)
{
    if (x->len + 1 < sizeof x->buf)
        x->buf[x->len++] = ch;
    else
        x->over = true;
}

static void
text_take(struct dn_text *x, char *out, size_t cap)
{
    size_t n = x->len - x->trailing;
    snprintf(out, cap, "%.*s", (int)n, x->buf);
    x->over |= n >= cap;
    x->len = x->trailing = 0;
}

static bool
dn_push(struct dn *d, struct dn_text *x, const char *type)
{
    if (!*type || d->n == DN_MAX_ATTRS) return false;
    snprintf(d->a[d->n].type, sizeof d->a[d->n].type, "%s", type);
    text_take(x, d->a[d->n].value, sizeof d->a[d->n].value);
    d->a[d->n++].rdn = d->nrdn;
    return true;
}

/* nats-server's ParseDN (RFC 4514), its leniencies included. */
static bool
parse_dn(const char *s, struct dn *d)
{
    struct dn_text x = {0};
    char type[32] = "";
    d->n = d->nrdn = 0;
    for (size_t i = 0; s[i]; i++) {
        char ch = s[i];
        if (ch == '\\') {
            x.trailing = 0;
            ch = s[++i];
            if (ch && strchr(" \"#+,;<=>\\", ch)) {
                text_put(&x, ch);
                continue;
            }
            int hi = ch ? hexval(ch) : -1, lo = hi >= 0 ? hexval(s[i + 1]) : -1;
            if (lo < 0) return false;
            text_put(&x, (char)(hi << 4 | lo));
            i++;
        } else if (ch == '=') {
            text_take(&x, type, sizeof type);
            if (s[i + 1] == '#') return false; /* BER values: unsupported there too */
        } else if (ch == ',' || ch == '+') {
            if (!dn_push(d, &x, type)) return false;
            type[0] = '\0';
            if (ch == ',') d->nrdn++;
        } else if (ch != ' ' || x.len) {
            x.trailing = ch == ' ' ? x.trailing + 1 : 0;
            text_put(&x, ch);
        }
    }
    if (x.len) {
        if (!dn_push(d, &x, type)) return false;
        d->nrdn++;
    }
    return !x.over;
}

/* Whether RDN ra of a and RDN rb of b have the same attributes, in any order. */
static bool
rdn_equal(const struct dn *a, int ra, const struct dn *b, int rb)
{
    int na = 0, nb = 0;
    for (int i = 0; i < a->n; i++)
        na += a->a[i].rdn == ra;
    for (int j = 0; j < b->n; j++)
        nb += b->a[j].rdn == rb;
    if (na != nb) return false;
    for (int i = 0; i < a->n; i++) {
        bool found = a->a[i].rdn != ra;
        for (int j = 0; !found && j < b->n; j++)
            found = b->a[j].rdn == rb && strcasecmp(a->a[i].type, b->a[j].type) == 0 &&
                    strcmp(a->a[i].value, b->a[j].value) == 0;
        if (!found) return false;
    }
    return true;
}

bool
nb__tls_subject_is(const struct nb_tls *t, const char *dn, bool any_order)
{
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    struct dn want, have;
    if (!cert || !parse_dn(dn, &want) || !subject_dn(X509_get_subject_name(cert), &have))
        return false;
    if (want.nrdn != have.nrdn) return false;
    for (int i = 0; i < want.nrdn; i++) {
        bool found = rdn_equal(&want, i, &have, i);
        for (int j = 0; any_order && !found && j < have.nrdn; j++)
            found = rdn_equal(&want, i, &have, j);
        if (!found) return false;
    }
    return true;
}

/* Appends to a bounded string; *len past cap marks it too small. */
static void
put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + n < cap) memcpy(buf + *len, s, n);
    *len += n;
    if (*len < cap) buf[*len] = '\0';
}

/* Go's RFC 2253 escaping of an attribute value. */
static void
put_escaped(char *buf, size_t cap, size_t *len, const char *v)
{
    size_t n = strlen(v);
    for (size_t k = 0; k < n; k++) {
        bool esc = strchr(",+\"\\<>;", v[k]) != NULL || (v[k] == ' ' && (k == 0 || k == n - 1)) ||
                   (v[k] == '#' && k == 0);
        if (esc) put(buf, cap, len, "\\", 1);
        put(buf, cap, len, v + k, 1);
    }
}

bool
nb__tls_subject(const struct nb_tls *t, bool with_dc, char *buf, size_t cap)
{
    /* Go's pkix.Name, printed: one RDN per attribute kind, last kind first. */
    static const int kinds[] = {
        NID_serialNumber,     NID_commonName,          NID_organizationalUnitName,
        NID_organizationName, NID_postalCode,          NID_streetAddress,
        NID_localityName,     NID_stateOrProvinceName, NID_countryName};
    static const char *const names[] = {"SERIALNUMBER", "CN", "OU", "O", "POSTALCODE",
                                        "STREET",       "L",  "ST", "C"};
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (!cert || !cap) return false;
    const X509_NAME *xn = X509_get_subject_name(cert);
    int count = X509_NAME_entry_count(xn);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        bool first = true, last_only = kinds[k] == NID_serialNumber || kinds[k] == NID_commonName;
        char value[DN_MAX_VALUE];
        for (int i = 0; i < count; i++) {
            const X509_NAME_ENTRY *e = X509_NAME_get_entry(xn, i);
            if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != kinds[k] || !entry_value(e, value))
                continue;
            if (last_only && X509_NAME_get_index_by_NID(xn, kinds[k], i) >= 0) continue;
            if (len || !first) put(buf, cap, &len, first ? "," : "+", 1);
            put(buf, cap, &len, names[k], strlen(names[k]));
            put(buf, cap, &len, "=", 1);
            put_escaped(buf, cap, &len, value);
            first = false;
        }
    }
    bool dc = false;
    for (int i = 0; with_dc && i < count; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(xn, i);
        char value[DN_MAX_VALUE];
        if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_domainComponent ||
            !entry_value(e, value))
            continue;
        put(buf, cap, &len, ",DC=", 4);
        put(buf, cap, &len, value, strlen(value));
        dc = true;
    }
    return len < cap && (dc || !with_dc);
}
