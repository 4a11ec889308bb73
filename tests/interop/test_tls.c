/*
 * TLS, against a server started with --tlsverify and run.sh's certificates (INTEROP_CERTS): libnats
 * built with OpenSSL connects with a client certificate, publishes, subscribes and requests; a
 * client without a certificate, one whose certificate another CA signed, and one that does not
 * trust the server's CA are all refused; on the wire, INFO announces TLS and a plaintext client
 * gets nothing after it.
 */
#include "interop.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* INTEROP_CERTS/name */
static const char *
cert_path(const char *name)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof(paths[0]), "%s/%s", interop_env.certs, name);
    return p;
}

/* Options for the TLS server: its CA trusted, and the client certificate NAME, if any. */
static natsOptions *
tls_opts(const char *name)
{
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetSecure(opts, true), NATS_OK);
    assert_status(natsOptions_LoadCATrustedCertificates(opts, cert_path("ca.pem")), NATS_OK);
    /* The certificate names localhost and 127.0.0.1; libnats checks the name it is given. */
    assert_status(natsOptions_SetExpectedHostname(opts, "localhost"), NATS_OK);
    if (name != NULL) {
        char cert[64], key[64];
        snprintf(cert, sizeof(cert), "%s.pem", name);
        snprintf(key, sizeof(key), "%s.key", name);
        assert_status(natsOptions_LoadCertificatesChain(opts, cert_path(cert), cert_path(key)),
                      NATS_OK);
    }
    return opts;
}

static void
expect_refused(natsOptions *opts)
{
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (nc != NULL) natsConnection_Destroy(nc);
    assert_null(nc);
    assert_true(s != NATS_OK);
}

static void
test_tls_pubsub_request(void **state)
{
    (void)state;
    natsConnection *nc = interop_connect_opts(tls_opts("client"));
    natsSubscription *sub = interop_subscribe(nc, "tls.greet");
    assert_status(natsConnection_PublishString(nc, "tls.greet", "encrypted"), NATS_OK);
    interop_expect_msg(sub, "tls.greet", "encrypted");

    natsConnection *responder = interop_connect_opts(tls_opts("client"));
    natsSubscription *svc = interop_subscribe(responder, "tls.svc");
    natsMsg *reply = NULL;
    natsMsg *req = NULL;
    assert_status(natsConnection_PublishRequestString(nc, "tls.svc", "tls.inbox", "ping"), NATS_OK);
    assert_status(natsSubscription_NextMsg(&req, svc, 2000), NATS_OK);
    natsSubscription *inbox = interop_subscribe(nc, "tls.inbox");
    assert_status(natsConnection_PublishString(responder, natsMsg_GetReply(req), "pong"), NATS_OK);
    assert_status(natsSubscription_NextMsg(&reply, inbox, 2000), NATS_OK);
    assert_string_equal(natsMsg_GetData(reply), "pong");
    natsMsg_Destroy(req);
    natsMsg_Destroy(reply);
    natsSubscription_Destroy(inbox);
    natsSubscription_Destroy(svc);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(responder);
    natsConnection_Destroy(nc);
}

static void
test_tls_no_client_certificate(void **state)
{
    (void)state;
    expect_refused(tls_opts(NULL));
}

static void
test_tls_client_certificate_of_another_ca(void **state)
{
    (void)state;
    expect_refused(tls_opts("stranger"));
}

static void
test_tls_expired_client_certificate(void **state)
{
    (void)state;
    expect_refused(tls_opts("expired"));
}

/* Without the test CA, the server's certificate cannot be trusted. */
static void
test_tls_untrusted_server(void **state)
{
    (void)state;
    natsOptions *opts = interop_opts();
    assert_status(natsOptions_SetSecure(opts, true), NATS_OK);
    assert_status(
        natsOptions_LoadCertificatesChain(opts, cert_path("client.pem"), cert_path("client.key")),
        NATS_OK);
    expect_refused(opts);
}

/* INFO is the one plaintext line: it announces TLS and client verification. */
static void
test_tls_info(void **state)
{
    (void)state;
    char info[4096];
    int eof = 0;
    int fd = interop_raw_connect(0);
    interop_raw_read(fd, info, sizeof(info), "\r\n", 2000, &eof);
    close(fd);
    assert_non_null(strstr(info, "\"tls_required\":true"));
    assert_non_null(strstr(info, "\"tls_verify\":true"));
}

/* A plaintext client gets the INFO line and then the close, as from nats-server: no -ERR. */
static void
test_tls_plaintext_client(void **state)
{
    (void)state;
    int fd = interop_raw_open(0);
    interop_raw_send(fd, "CONNECT {\"verbose\":false}\r\nPING\r\n");
    char buf[256];
    int eof = 0;
    size_t n = interop_raw_read(fd, buf, sizeof(buf), NULL, 3000, &eof);
    close(fd);
    assert_int_equal(n, 0);
    assert_int_equal(eof, 1);
}

static int
need_certs(void **state)
{
    (void)state;
    return interop_env.certs != NULL ? 0 : -1;
}

int
interop_run_tls(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_pubsub_request),
        cmocka_unit_test(test_tls_no_client_certificate),
        cmocka_unit_test(test_tls_client_certificate_of_another_ca),
        cmocka_unit_test(test_tls_expired_client_certificate),
        cmocka_unit_test(test_tls_untrusted_server),
        cmocka_unit_test(test_tls_info),
        cmocka_unit_test(test_tls_plaintext_client),
    };
    return cmocka_run_group_tests_name("tls", tests, need_certs, NULL);
}
