/*
 * The tls block and the TLS options of a configuration (nb_config.c with nb_tls.c): what each key
 * becomes, nats-server's defaults and flag-free validation, and every refusal with its position.
 * The certificate below is a self-signed P-256 one made for these tests, valid for a century; it
 * serves as its own CA.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBgDCCASWgAwIBAgIUYoM6V1vBiYxcrp9R9uHyhSU7wRAwCgYIKoZIzj0EAwIw\n"
                               "FDESMBAGA1UEAwwJdW5pdCB0ZXN0MCAXDTI2MTIwNzAyMzExNloYDzIxMjYxMTEz\n"
                               "MDIzMTE2WjAUMRIwEAYDVQQDDAl1bml0IHRlc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
                               "PQMBBwNCAAQgZTTQtIE0fV8crj0PgLI6A4mmZJjF/I1TJl39NLIVxX6BAq5Jv7au\n"
                               "9DXakwP1/2LTsosuJHVgY3bVtkA9RXR6o1MwUTAdBgNVHQ4EFgQUT2xkKTw0DXG/\n"
                               "sryQOuAaxZ0vVWcwHwYDVR0jBBgwFoAUT2xkKTw0DXG/sryQOuAaxZ0vVWcwDwYD\n"
                               "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA1ig52T3Y3MzfX7w0qAVM\n"
                               "IsiTqfvHpLu7CsmnYZN9rlcCIQCIPORpXsFXp/SntM2nd1ZFsjWaYkf+hKTkT9hz\n"
                               "+I7Amg==\n"
                               "-----END CERTIFICATE-----\n";
static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgc8P4orTXrVf9xZQc\n"
                              "9gvGNIx2Tp/j8IiEImhQVcp4b6ehRANCAAQgZTTQtIE0fV8crj0PgLI6A4mmZJjF\n"
                              "/I1TJl39NLIVxX6BAq5Jv7au9DXakwP1/2LTsosuJHVgY3bVtkA9RXR6\n"
                              "-----END PRIVATE KEY-----\n";
/* A key that is not the certificate's. */
static const char other_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYoILeyoa556dwkdT\n"
    "A5LsF3UBk83HtFTmk6t9TxqojF6hRANCAATlmLLbg8nA2Tyb5qqILIv1Y0YL/4ow\n"
    "yg63/mMrcHJW7vUDHcxtC4yCgj21iRDIYTa0+/WOk0+dcDLCLTP/E2sD\n"
    "-----END PRIVATE KEY-----\n";

static char dir[64];
static char cert[128], key[128], other_key[128], conf[128];

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_tlsconf.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/other.pem", dir);
    snprintf(conf, sizeof conf, "%s/t.conf", dir);
    write_file(cert, cert_pem);
    write_file(key, key_pem);
    write_file(other_key, other_key_pem);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(cert);
    unlink(key);
    unlink(other_key);
    unlink(conf);
    return rmdir(dir);
}

/* Loads "tls { cert_file: CERT, key_file: KEY, <extra> }" preceded by before. */
static int
load_tls(struct nb_config *cfg, struct nb_conf_error *err, const char *before, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text, "%stls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n%s}\n", before,
             cert, key, extra);
    write_file(conf, text);
    nb_config_init(cfg);
    return nb_config_load(cfg, conf, NULL, NULL, err);
}

/* The block must be refused at line:column with exactly msg, and nothing applied. */
static void
expect_refused(const char *before, const char *extra, int line, int column, const char *msg)
{
    struct nb_config cfg;
    struct nb_conf_error err;
    int rc = load_tls(&cfg, &err, before, extra);
    if (rc != NB_ECONFIG || err.line != line || err.column != column || strcmp(err.msg, msg) != 0)
        fail_msg("%s: rc %d at %d:%d \"%s\"", extra, rc, err.line, err.column, err.msg);
    assert_false(cfg.tls.enabled);
    nb_config_release(&cfg);
}

static void
test_defaults(void **state)
{
    (void)state;
    struct nb_config cfg;
    nb_config_init(&cfg);
    assert_false(cfg.tls.enabled);
    assert_int_equal(cfg.tls.timeout_ms, 2000);
    assert_int_equal(cfg.tls.min_version, 0x0303);
    assert_int_equal(cfg.https_port, 0);
    nb_config_release(&cfg);

    struct nb_conf_error err;
    assert_int_equal(load_tls(&cfg, &err, "", ""), 0);
    assert_true(cfg.tls.enabled);
    assert_string_equal(cfg.tls.cert_file, cert);
    assert_string_equal(cfg.tls.key_file, key);
    assert_null(cfg.tls.ca_file);
    assert_false(cfg.tls.verify);
    assert_null(cfg.tls.ciphers);
    assert_null(cfg.tls.curves);
    assert_null(cfg.tls.pinned);
    char msg[256];
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    nb_config_release(&cfg);
}

static void
test_every_key(void **state)
{
    (void)state;
    char extra[1024];
    snprintf(extra, sizeof extra,
             "  ca_file: \"%s\"\n  verify: true\n  timeout: 0.5\n  min_version: \"1.3\"\n"
             "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256,\n"
             "    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305]\n"
             "  curve_preferences: [CurveP256, X25519]\n"
             "  pinned_certs: [\"%s\"]\n  insecure: true\n  verify_and_map: false\n",
             cert, "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789");
    struct nb_config cfg;
    struct nb_conf_error err;
    assert_int_equal(load_tls(&cfg, &err, "https_port: 8443\n", extra), 0);
    assert_string_equal(cfg.tls.ca_file, cert);
    assert_true(cfg.tls.verify);
    assert_false(cfg.tls.map);
    assert_int_equal(cfg.tls.timeout_ms, 500);
    assert_int_equal(cfg.tls.min_version, 0x0304);
    /* a TLS 1.3 suite cannot be chosen (as in Go): it is left out of OpenSSL's TLS 1.2 list */
    assert_string_equal(cfg.tls.ciphers,
                        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
    assert_string_equal(cfg.tls.curves, "P-256:X25519");
    assert_string_equal(cfg.tls.pinned,
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_int_equal(cfg.https_port, 8443);
    char msg[256];
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);

    struct nb_config copy;
    assert_int_equal(nb_config_copy(&copy, &cfg), 0);
    assert_string_equal(copy.tls.pinned, cfg.tls.pinned);
    assert_ptr_not_equal(copy.tls.pinned, cfg.tls.pinned);
    nb_config_release(&copy);
    nb_config_release(&cfg);
}

static void
test_timeouts(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int64_t ms;
    } cases[] = {{"3", 3000}, {"1.5", 1500}, {"\"250ms\"", 250}, {"0", 2000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, "  timeout: %s\n", cases[i].value);
        struct nb_config cfg;
        struct nb_conf_error err;
        assert_int_equal(load_tls(&cfg, &err, "", extra), 0);
        assert_int_equal(cfg.tls.timeout_ms, cases[i].ms);
        nb_config_release(&cfg);
    }
}

/* A second block replaces the first as a whole, as in nats-server. */
static void
test_second_block_replaces(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct nb_conf_error err;
    char before[512];
    snprintf(before, sizeof before,
             "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  verify: true\n}\n", cert, key);
    assert_int_equal(load_tls(&cfg, &err, before, ""), 0);
    assert_false(cfg.tls.verify);
    nb_config_release(&cfg);
}

static void
test_refusals(void **state)
{
    (void)state;
    expect_refused("", "  cipher_suites: [TLS_NOPE]\n", 4, 19, "unrecognized cipher TLS_NOPE");
    expect_refused("", "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n", 4, 19,
                   "cipher TLS_RSA_WITH_RC4_128_SHA is not available in natsctl (RC4 and 3DES are "
                   "broken)");
    expect_refused("", "  cipher_suites: []\n", 4, 3, "invalid 'cipher_suites': must not be empty");
    expect_refused("", "  curve_preferences: [CurveP224]\n", 4, 23,
                   "unrecognized curve preference CurveP224");
    expect_refused("", "  min_version: \"1.1\"\n", 4, 3,
                   "invalid 'min_version': unsupported TLS version: TLS 1.1");
    expect_refused("", "  min_version: \"2.0\"\n", 4, 3,
                   "invalid 'min_version': unknown version: 2.0");
    expect_refused("", "  pinned_certs: [abc]\n", 4, 18,
                   "pinned_certs entry abc does not look like hex-encoded sha256 of DER encoded "
                   "SubjectPublicKeyInfo");
    expect_refused("", "  verify_and_map: 1\n", 4, 3,
                   "invalid 'verify_and_map': expected true or false");
    expect_refused("", "  timeout: -1\n", 4, 3, "invalid 'timeout': must not be negative");
    expect_refused("", "  handshake_first: true\n", 4, 3, "unknown field \"handshake_first\"");
    expect_refused(
        "", "  connection_rate_limit: 5\n", 4, 3,
        "field \"tls.connection_rate_limit\" (a limit on TLS handshakes per second) is not "
        "supported by natsctl (refusing to start without it)");
}

/* verify_and_map: true maps and verifies; a later verify: false turns verifying off again. */
static void
test_verify_and_map(void **state)
{
    (void)state;
    struct nb_config cfg;
    struct nb_conf_error err;
    assert_int_equal(load_tls(&cfg, &err, "", "  verify_and_map: true\n"), 0);
    assert_true(cfg.tls.map);
    assert_true(cfg.tls.verify);
    nb_config_release(&cfg);
    assert_int_equal(load_tls(&cfg, &err, "", "  verify_and_map: true\n  verify: false\n"), 0);
    assert_true(cfg.tls.map);
    assert_false(cfg.tls.verify);
    nb_config_release(&cfg);
}

/* The files are loaded while the file is read, and a bad one is reported where the block is. */
static void
test_bad_files(void **state)
{
    (void)state;
    struct {
        const char *text;
        char msg[400];
    } cases[5];
    snprintf((char *)(cases[0].text = malloc(512)), 512,
             "port: 1\ntls {\n  cert_file: \"%s/none.pem\"\n  key_file: \"%s\"\n}\n", dir, key);
    snprintf(cases[0].msg, sizeof cases[0].msg,
             "error parsing X509 certificate/key pair: open %s/none.pem: no such file or directory",
             dir);
    snprintf((char *)(cases[1].text = malloc(512)), 512,
             "port: 1\ntls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n}\n", key, key);
    snprintf(cases[1].msg, sizeof cases[1].msg,
             "error parsing X509 certificate/key pair: tls: failed to find any PEM data in "
             "certificate input");
    snprintf((char *)(cases[2].text = malloc(512)), 512,
             "port: 1\ntls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n}\n", cert, other_key);
    snprintf(cases[2].msg, sizeof cases[2].msg,
             "error parsing X509 certificate/key pair: tls: private key does not match public key");
    snprintf((char *)(cases[3].text = malloc(512)), 512, "port: 1\ntls {\n  cert_file: \"%s\"\n}\n",
             cert);
    snprintf(cases[3].msg, sizeof cases[3].msg, "missing 'key_file' in TLS configuration");
    snprintf((char *)(cases[4].text = malloc(512)), 512,
             "port: 1\ntls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  ca_file: \"%s\"\n}\n",
             cert, key, key);
    snprintf(cases[4].msg, sizeof cases[4].msg, "failed to parse root ca certificate");
    for (size_t i = 0; i < 5; i++) {
        write_file(conf, cases[i].text);
        struct nb_config cfg;
        struct nb_conf_error err;
        nb_config_init(&cfg);
        int rc = nb_config_load(&cfg, conf, NULL, NULL, &err);
        if (rc != NB_ECONFIG || err.line != 2 || err.column != 1 || strcmp(err.msg, cases[i].msg))
            fail_msg("case %zu: rc %d at %d:%d \"%s\"", i, rc, err.line, err.column, err.msg);
        nb_config_release(&cfg);
        free((char *)cases[i].text);
    }
}

/* What only the whole configuration can tell, checked whether it came from a file or flags. */
static void
test_validation(void **state)
{
    (void)state;
    struct nb_config cfg;
    char msg[256];
    nb_config_init(&cfg);
    cfg.https_port = 8443;
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "TLS cert and key required for HTTPS");
    cfg.http_port = 8222;
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "can't specify both HTTP (8222) and HTTPs (8443) ports");
    cfg.http_port = cfg.https_port = 0;
    cfg.tls.enabled = true;
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), NB_ECONFIG);
    assert_string_equal(msg, "a TLS listener needs a certificate: set cert_file and key_file");
    assert_int_equal(nb_config_set_str(&cfg.tls.cert_file, cert), 0);
    assert_int_equal(nb_config_set_str(&cfg.tls.key_file, key), 0);
    assert_int_equal(nb_config_validate(&cfg, msg, sizeof msg), 0);
    nb_config_release(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_timeouts),       cmocka_unit_test(test_second_block_replaces),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_verify_and_map), cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
