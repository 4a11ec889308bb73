/*
 * Unit tests for INFO and CONNECT JSON (libproto/np_json.c): byte-exact encoding in nats-server's
 * and nats.go's key order, round trips, and CONNECT decoding as nats-server 2.9.10 does it (the
 * expectations for case, null, duplicates, account keys and wrong types were checked against the
 * real server).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "np.h"

#define EXAMPLE_INFO                                                                               \
    "{\"server_id\":\"NAPO\",\"server_name\":\"NAPO\",\"version\":\"2.9.10\",\"proto\":1,"         \
    "\"go\":\"go1.19.8\",\"host\":\"127.0.0.1\",\"port\":4222,\"headers\":true,"                   \
    "\"max_payload\":1048576,\"client_id\":4,\"client_ip\":\"127.0.0.1\"}"

static char napo[] = "NAPO", version[] = "2.9.10", go[] = "go1.19.8", host[] = "127.0.0.1";

static struct np_info
example_info(void)
{
    return (struct np_info){
        .server_id = napo,
        .server_name = napo,
        .version = version,
        .proto = 1,
        .go = go,
        .host = host,
        .port = 4222,
        .headers = true,
        .max_payload = 1048576,
        .client_id = 4,
        .client_ip = host,
    };
}

static void
expect_info_json(const struct np_info *info, const char *want)
{
    char *got = np_info_encode(info);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static int
info_parse_lit(struct np_info *info, const char *json)
{
    return np_info_parse(info, json, strlen(json));
}

static void
test_info_encode_example(void **state)
{
    (void)state;
    struct np_info info = example_info();
    expect_info_json(&info, EXAMPLE_INFO);
}

static void
test_info_encode_optional(void **state)
{
    (void)state;
    char a[] = "127.0.0.1:4222", b[] = "10.0.0.2:4222", nonce[] = "abcDEF123_-xyz0",
         cluster[] = "c1";
    char *urls[] = {a, b, NULL};
    struct np_info info = example_info();
    info.auth_required = info.tls_required = info.tls_verify = info.tls_available = true;
    info.jetstream = info.ldm = true;
    info.nonce = nonce;
    info.cluster = cluster;
    info.connect_urls = urls;
    info.n_connect_urls = 3;
    expect_info_json(&info, "{\"server_id\":\"NAPO\",\"server_name\":\"NAPO\",\"version\":"
                            "\"2.9.10\",\"proto\":1,\"go\":\"go1.19.8\",\"host\":\"127.0.0.1\","
                            "\"port\":4222,\"headers\":true,\"auth_required\":true,"
                            "\"tls_required\":true,\"tls_verify\":true,\"tls_available\":true,"
                            "\"max_payload\":1048576,\"jetstream\":true,\"client_id\":4,\"client_"
                            "ip\":\"127.0.0.1\",\"nonce\":"
                            "\"abcDEF123_-xyz0\",\"cluster\":\"c1\",\"connect_urls\":"
                            "[\"127.0.0.1:4222\",\"10.0.0.2:4222\",\"\"],\"ldm\":true}");
}

/* What Go's omitempty leaves out (empty strings and arrays, zero client_id) is left out here too. */
static void
test_info_encode_empty(void **state)
{
    (void)state;
    char empty[] = "";
    char *urls[] = {host};
    struct np_info info = {.client_ip = empty,
                           .nonce = empty,
                           .cluster = empty,
                           .connect_urls = urls,
                           .n_connect_urls = 0};
    expect_info_json(&info, "{\"server_id\":\"\",\"server_name\":\"\",\"version\":\"\","
                            "\"proto\":0,\"go\":\"\",\"host\":\"\",\"port\":0,\"headers\":false,"
                            "\"max_payload\":0}");
}

static void
test_info_encode_big_numbers(void **state)
{
    (void)state;
    struct np_info info = {.server_id = napo,
                           .proto = INT_MIN,
                           .port = 65535,
                           .max_payload = 2147483648,
                           .client_id = 9007199254740992u};
    expect_info_json(&info, "{\"server_id\":\"NAPO\",\"server_name\":\"\",\"version\":\"\","
                            "\"proto\":-2147483648,\"go\":\"\",\"host\":\"\",\"port\":65535,"
                            "\"headers\":false,\"max_payload\":2147483648,"
                            "\"client_id\":9007199254740992}");
    info.proto = 1;
    info.max_payload = INT64_MAX;
    info.client_id = UINT64_MAX;
    char *got = np_info_encode(&info);
    assert_non_null(got);
    assert_non_null(strstr(got, "\"max_payload\":9223372036854775807,"));
    assert_non_null(strstr(got, "\"client_id\":18446744073709551615}"));
    free(got);
}

static void
test_info_round_trip(void **state)
{
    (void)state;
    struct np_info info;
    assert_int_equal(info_parse_lit(&info, EXAMPLE_INFO), 0);
    assert_string_equal(info.server_id, "NAPO");
    assert_string_equal(info.server_name, "NAPO");
    assert_string_equal(info.version, "2.9.10");
    assert_int_equal(info.proto, 1);
    assert_string_equal(info.go, "go1.19.8");
    assert_string_equal(info.host, "127.0.0.1");
    assert_int_equal(info.port, 4222);
    assert_true(info.headers);
    assert_false(info.auth_required);
    assert_false(info.tls_required);
    assert_int_equal(info.max_payload, 1048576);
    assert_false(info.jetstream);
    assert_int_equal(info.client_id, 4);
    assert_string_equal(info.client_ip, "127.0.0.1");
    assert_null(info.nonce);
    assert_null(info.cluster);
    assert_null(info.connect_urls);
    assert_int_equal(info.n_connect_urls, 0);
    assert_false(info.ldm);
    expect_info_json(&info, EXAMPLE_INFO);
    np_info_release(&info);
    assert_null(info.server_id);
    assert_int_equal(info.port, 0);
}

static void
test_info_parse_full(void **state)
{
    (void)state;
    struct np_info info;
    assert_int_equal(
        info_parse_lit(&info, " {\"auth_required\":true,\"tls_required\":true,"
                              "\"tls_verify\":true,\"jetstream\":true,\"ldm\":true,\"nonce\":\"n\","
                              "\"cluster\":\"c\",\"max_payload\":2147483648,"
                              "\"client_id\":9007199254740992,\"connect_urls\":"
                              "[\"a:1\",5,null,\"b:2\"]} \r\n"),
        0);
    assert_true(info.auth_required && info.tls_required && info.tls_verify && info.jetstream &&
                info.ldm);
    assert_false(info.tls_available);
    assert_string_equal(info.nonce, "n");
    assert_string_equal(info.cluster, "c");
    assert_int_equal(info.max_payload, 2147483648);
    assert_int_equal(info.client_id, 9007199254740992u);
    assert_int_equal(info.n_connect_urls, 2);
    assert_string_equal(info.connect_urls[0], "a:1");
    assert_string_equal(info.connect_urls[1], "b:2");
    assert_null(info.server_id);
    assert_int_equal(info.port, 0);
    np_info_release(&info);

    assert_int_equal(info_parse_lit(&info, "{\"connect_urls\":[]}"), 0);
    assert_null(info.connect_urls);
    assert_int_equal(info.n_connect_urls, 0);
    np_info_release(&info);
}

static void
test_info_parse_tolerant(void **state)
{
    (void)state;
    struct np_info info;
    assert_int_equal(info_parse_lit(&info, "{}"), 0);
    assert_null(info.server_id);
    assert_int_equal(info.max_payload, 0);
    np_info_release(&info);

    assert_int_equal(info_parse_lit(&info, "{\"port\":\"4222\",\"headers\":1,\"server_id\":5,"
                                           "\"connect_urls\":\"a:1\",\"proto\":1.5,"
                                           "\"client_id\":-4,\"max_payload\":1e300,"
                                           "\"unknown\":{\"x\":[1,2]},\"git_commit\":\"abc\"}"),
                     0);
    assert_int_equal(info.port, 0);
    assert_false(info.headers);
    assert_null(info.server_id);
    assert_null(info.connect_urls);
    assert_int_equal(info.proto, 0);
    assert_int_equal(info.client_id, 0);
    assert_int_equal(info.max_payload, 0);
    np_info_release(&info);

    /* Go matches keys without regard to case, and a later duplicate wins. */
    assert_int_equal(info_parse_lit(&info, "{\"SERVER_ID\":\"a\",\"server_id\":\"b\","
                                           "\"Port\":1,\"port\":2,\"connect_urls\":[\"x\"],"
                                           "\"connect_urls\":[\"y\",\"z\"]}"),
                     0);
    assert_string_equal(info.server_id, "b");
    assert_int_equal(info.port, 2);
    assert_int_equal(info.n_connect_urls, 2);
    assert_string_equal(info.connect_urls[0], "y");
    np_info_release(&info);
}

static void
test_info_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      " ",           "{",    "{\"server_id\":", "[]", "null", "42",
        "\"s\"", "{\"a\":1} x", "{}{}", "{'a':1}",
    };
    struct np_info info;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&info, 0x5a, sizeof info);
        assert_int_equal(info_parse_lit(&info, bad[i]), NP_EJSON);
        assert_null(info.server_id);
        assert_null(info.connect_urls);
        assert_int_equal(info.port, 0);
    }
    assert_int_equal(np_info_parse(&info, NULL, 0), NP_EJSON);
    /* The length bounds the input: a valid prefix of a longer string is what gets parsed. */
    assert_int_equal(np_info_parse(&info, "{\"port\":1}garbage", 10), 0);
    assert_int_equal(info.port, 1);
    np_info_release(&info);
    assert_int_equal(np_info_parse(&info, "{\"port\":1}", 9), NP_EJSON);
}

static int
connect_lit(struct np_connect *c, const char *json)
{
    np_connect_init(c);
    return np_connect_parse(c, json, strlen(json));
}

static void
assert_connect_defaults(const struct np_connect *c)
{
    assert_true(c->verbose);
    assert_true(c->pedantic);
    assert_true(c->echo);
    assert_false(c->tls_required);
    assert_false(c->headers);
    assert_false(c->no_responders);
    assert_int_equal(c->protocol, 0);
    assert_false(c->has_account);
    assert_null(c->name);
    assert_null(c->lang);
    assert_null(c->version);
    assert_null(c->user);
    assert_null(c->pass);
    assert_null(c->auth_token);
}

static void
test_connect_defaults(void **state)
{
    (void)state;
    struct np_connect c;
    np_connect_init(&c);
    assert_connect_defaults(&c);
    assert_int_equal(connect_lit(&c, "{}"), 0);
    assert_connect_defaults(&c);
    np_connect_release(&c);
    /* Unknown keys, of any type, are skipped; so is a null for a known key. */
    assert_int_equal(connect_lit(&c, " {\"foo\":123,\"bar\":{\"x\":[true]},\"verbose\":null,"
                                     "\"name\":null,\"protocol\":null} "),
                     0);
    assert_connect_defaults(&c);
    np_connect_release(&c);
    /* nats-server 2.9.10 accepts "CONNECT null" and keeps the defaults. */
    assert_int_equal(connect_lit(&c, "null"), 0);
    assert_connect_defaults(&c);
    np_connect_release(&c);
}

static void
test_connect_each_key(void **state)
{
    (void)state;
    struct np_connect c;
    assert_int_equal(connect_lit(&c, "{\"verbose\":false}"), 0);
    assert_false(c.verbose);
    assert_true(c.pedantic && c.echo);
    np_connect_release(&c);
    assert_int_equal(connect_lit(&c, "{\"pedantic\":false}"), 0);
    assert_false(c.pedantic);
    assert_true(c.verbose && c.echo);
    np_connect_release(&c);
    assert_int_equal(connect_lit(&c, "{\"echo\":false}"), 0);
    assert_false(c.echo);
    assert_true(c.verbose && c.pedantic);
    np_connect_release(&c);
    assert_int_equal(connect_lit(&c, "{\"tls_required\":true,\"headers\":true,"
                                     "\"no_responders\":true,\"protocol\":1}"),
                     0);
    assert_true(c.tls_required && c.headers && c.no_responders);
    assert_int_equal(c.protocol, 1);
    np_connect_release(&c);
    assert_int_equal(connect_lit(&c, "{\"name\":\"svc\",\"lang\":\"go\",\"version\":\"1.24.0\","
                                     "\"user\":\"bob\",\"pass\":\"hunter2\","
                                     "\"auth_token\":\"s3cret\",\"nkey\":\"UA\",\"jwt\":\"e30\","
                                     "\"sig\":\"c2ln\"}"),
                     0);
    assert_string_equal(c.name, "svc");
    assert_string_equal(c.lang, "go");
    assert_string_equal(c.version, "1.24.0");
    assert_string_equal(c.user, "bob");
    assert_string_equal(c.pass, "hunter2");
    assert_string_equal(c.auth_token, "s3cret");
    assert_string_equal(c.nkey, "UA");
    assert_string_equal(c.jwt, "e30");
    assert_string_equal(c.sig, "c2ln");
    np_connect_release(&c);
    assert_connect_defaults(&c);
}

static void
test_connect_case_and_duplicates(void **state)
{
    (void)state;
    struct np_connect c;
    assert_int_equal(connect_lit(&c, "{\"VERBOSE\":false,\"Headers\":true}"), 0);
    assert_false(c.verbose);
    assert_true(c.headers);
    np_connect_release(&c);
    assert_int_equal(connect_lit(&c, "{\"verbose\":false,\"verbose\":true,\"name\":\"a\","
                                     "\"NAME\":\"b\"}"),
                     0);
    assert_true(c.verbose);
    assert_string_equal(c.name, "b");
    np_connect_release(&c);
}

static void
test_connect_protocol_numbers(void **state)
{
    (void)state;
    struct np_connect c;
    assert_int_equal(connect_lit(&c, "{\"protocol\":-1}"), 0);
    assert_int_equal(c.protocol, -1);
    /* Go ints are 64-bit: such a value is valid JSON for nats-server and an invalid protocol. */
    assert_int_equal(connect_lit(&c, "{\"protocol\":4294967297}"), 0);
    assert_int_equal(c.protocol, INT_MAX);
    assert_int_equal(connect_lit(&c, "{\"protocol\":-4294967297}"), 0);
    assert_int_equal(c.protocol, INT_MIN);
    assert_int_equal(connect_lit(&c, "{\"protocol\":1.5}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"protocol\":1e20}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"protocol\":-1e300}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"protocol\":\"1\"}"), NP_EJSON);
}

static void
test_connect_wrong_types(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "verbose",    "pedantic", "echo", "tls_required", "headers", "no_responders",
        "protocol",   "name",     "lang", "version",      "user",    "pass",
        "auth_token", "nkey",     "jwt",  "sig",          "account", "new_account",
    };
    char json[128];
    struct np_connect c;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        /* The earlier good key proves a failed parse also drops what it had already applied. */
        snprintf(json, sizeof json, "{\"lang\":\"C\",\"verbose\":false,\"%s\":{}}", keys[i]);
        assert_int_equal(connect_lit(&c, json), NP_EJSON);
        assert_connect_defaults(&c);
        snprintf(json, sizeof json, "{\"%s\":[]}", keys[i]);
        assert_int_equal(connect_lit(&c, json), NP_EJSON);
    }
    assert_int_equal(connect_lit(&c, "{\"verbose\":\"false\"}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"verbose\":0}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"name\":5}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"user\":true}"), NP_EJSON);
}

static void
test_connect_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",   " ", "{",     "{nope", "{\"verbose\":false}x",  "{\"verbose\":false",
        "[]", "1", "\"s\"", "true",  "{\"verbose\":false}{}", "{\"verbose\" false}",
    };
    struct np_connect c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(connect_lit(&c, bad[i]), NP_EJSON);
        assert_connect_defaults(&c);
    }
    np_connect_init(&c);
    assert_int_equal(np_connect_parse(&c, NULL, 0), NP_EJSON);
    assert_int_equal(np_connect_parse(&c, "{\"verbose\":false}", 5), NP_EJSON);
}

static void
test_connect_account(void **state)
{
    (void)state;
    struct np_connect c;
    assert_int_equal(connect_lit(&c, "{\"account\":\"acc\"}"), 0);
    assert_true(c.has_account);
    assert_int_equal(connect_lit(&c, "{\"new_account\":true}"), 0);
    assert_true(c.has_account);
    assert_int_equal(connect_lit(&c, "{\"ACCOUNT\":\"x\",\"verbose\":false}"), 0);
    assert_true(c.has_account);
    /* Observed: nats-server 2.9.10 accepts an empty account and a false new_account. */
    assert_int_equal(connect_lit(&c, "{\"account\":\"\"}"), 0);
    assert_false(c.has_account);
    assert_int_equal(connect_lit(&c, "{\"new_account\":false}"), 0);
    assert_false(c.has_account);
    assert_int_equal(connect_lit(&c, "{\"account\":null,\"new_account\":null}"), 0);
    assert_false(c.has_account);
    assert_int_equal(connect_lit(&c, "{\"account\":\"x\",\"account\":\"\"}"), 0);
    assert_false(c.has_account);
    assert_int_equal(connect_lit(&c, "{\"account\":5}"), NP_EJSON);
    assert_int_equal(connect_lit(&c, "{\"new_account\":\"yes\"}"), NP_EJSON);
}

static void
test_connect_encode(void **state)
{
    (void)state;
    struct np_connect c;
    np_connect_init(&c);
    char *got = np_connect_encode(&c);
    assert_non_null(got);
    assert_string_equal(got, "{\"verbose\":true,\"pedantic\":true,\"tls_required\":false,"
                             "\"lang\":\"\",\"version\":\"\",\"protocol\":0,\"echo\":true,"
                             "\"headers\":false,\"no_responders\":false}");
    free(got);

    char name[] = "svc", lang[] = "C", ver[] = "0.1.0", user[] = "bob", pass[] = "p\"w",
         token[] = "t";
    c = (struct np_connect){.verbose = false,
                            .pedantic = false,
                            .echo = false,
                            .tls_required = true,
                            .headers = true,
                            .no_responders = true,
                            .protocol = 1,
                            .name = name,
                            .lang = lang,
                            .version = ver,
                            .user = user,
                            .pass = pass,
                            .auth_token = token};
    got = np_connect_encode(&c);
    assert_non_null(got);
    assert_string_equal(got, "{\"verbose\":false,\"pedantic\":false,\"user\":\"bob\","
                             "\"pass\":\"p\\\"w\",\"auth_token\":\"t\",\"tls_required\":true,"
                             "\"name\":\"svc\",\"lang\":\"C\",\"version\":\"0.1.0\","
                             "\"protocol\":1,\"echo\":false,\"headers\":true,"
                             "\"no_responders\":true}");

    struct np_connect back;
    np_connect_init(&back);
    assert_int_equal(np_connect_parse(&back, got, strlen(got)), 0);
    assert_int_equal(back.verbose, c.verbose);
    assert_int_equal(back.pedantic, c.pedantic);
    assert_int_equal(back.echo, c.echo);
    assert_int_equal(back.tls_required, c.tls_required);
    assert_int_equal(back.headers, c.headers);
    assert_int_equal(back.no_responders, c.no_responders);
    assert_int_equal(back.protocol, 1);
    assert_string_equal(back.name, "svc");
    assert_string_equal(back.lang, "C");
    assert_string_equal(back.version, "0.1.0");
    assert_string_equal(back.user, "bob");
    assert_string_equal(back.pass, "p\"w");
    assert_string_equal(back.auth_token, "t");
    free(got);
    np_connect_release(&back);
    assert_connect_defaults(&back);

    /* Keys and signatures go where nats.go puts them: after pedantic, jwt first. */
    char nkey[] = "UA", jwt[] = "e30", sig[] = "c2ln";
    np_connect_init(&c);
    c.nkey = nkey;
    c.jwt = jwt;
    c.sig = sig;
    c.lang = lang;
    c.version = ver;
    got = np_connect_encode(&c);
    assert_non_null(got);
    assert_string_equal(got, "{\"verbose\":true,\"pedantic\":true,\"jwt\":\"e30\","
                             "\"nkey\":\"UA\",\"sig\":\"c2ln\",\"tls_required\":false,"
                             "\"lang\":\"C\",\"version\":\"0.1.0\",\"protocol\":0,"
                             "\"echo\":true,\"headers\":false,\"no_responders\":false}");
    free(got);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_encode_example),
        cmocka_unit_test(test_info_encode_optional),
        cmocka_unit_test(test_info_encode_empty),
        cmocka_unit_test(test_info_encode_big_numbers),
        cmocka_unit_test(test_info_round_trip),
        cmocka_unit_test(test_info_parse_full),
        cmocka_unit_test(test_info_parse_tolerant),
        cmocka_unit_test(test_info_parse_errors),
        cmocka_unit_test(test_connect_defaults),
        cmocka_unit_test(test_connect_each_key),
        cmocka_unit_test(test_connect_case_and_duplicates),
        cmocka_unit_test(test_connect_protocol_numbers),
        cmocka_unit_test(test_connect_wrong_types),
        cmocka_unit_test(test_connect_malformed),
        cmocka_unit_test(test_connect_account),
        cmocka_unit_test(test_connect_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
