/*
 * The monitoring port's pure parts: the request head parser and query parameters
 * (libbroker/nb_httpreq.c), the JSON writer's layout and escaping (libbroker/nb_jw.c), and the
 * durations and query values decoded as nats-server (Go) decodes and prints them (nb_monitor.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nb_httpreq.h"
#include "nb_jw.h"
#include "nb_monitor.h"

static int
parse(const char *text, struct nb_httpreq *req)
{
    return nb_httpreq_parse(req, text, strlen(text), 8192);
}

static void
test_request_line(void **state)
{
    (void)state;
    struct nb_httpreq r;
    assert_int_equal(parse("GET /connz?subs=1&limit=2#x HTTP/1.1\r\nHost: a\r\n\r\n", &r), 0);
    assert_int_equal(r.method, NB_HTTP_GET);
    assert_int_equal(r.path_len, 6);
    assert_memory_equal(r.path, "/connz", 6);
    assert_int_equal(r.query_len, 14);
    assert_memory_equal(r.query, "subs=1&limit=2", 14);
    assert_true(r.keep_alive);
    assert_int_equal(parse("HEAD / HTTP/1.0\n\n", &r), 0);
    assert_int_equal(r.method, NB_HTTP_HEAD);
    assert_false(r.keep_alive);
    assert_int_equal(parse("DELETE /varz HTTP/1.1\r\n\r\n", &r), 0);
    assert_int_equal(r.method, NB_HTTP_OTHER);
}

static void
test_refusals(void **state)
{
    (void)state;
    struct nb_httpreq r;
    assert_int_equal(parse("GET /varz HTTP/1.1\r\nHost: a\r\n", &r), NB_HTTPREQ_MORE);
    assert_int_equal(parse("\r\n\r\n", &r), 400);
    assert_int_equal(parse("get /varz HTTP/1.1\r\n\r\n", &r), 400);
    assert_int_equal(parse("GET varz HTTP/1.1\r\n\r\n", &r), 400);
    assert_int_equal(parse("GET /va rz HTTP/1.1\r\n\r\n", &r), 400);
    assert_int_equal(parse("GET /varz HTTP/2\r\n\r\n", &r), 505);
    assert_int_equal(parse("GET /varz FTP/1.1\r\n\r\n", &r), 400);
    assert_int_equal(parse("GET /varz HTTP/1.1\r\n folded\r\n\r\n", &r), 400);
    assert_int_equal(parse("GET /varz HTTP/1.1\r\nNo colon\r\n\r\n", &r), 400);
    assert_int_equal(parse("GET /varz HTTP/1.1\r\nContent-Length: x\r\n\r\n", &r), 400);
    char big[9000];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(nb_httpreq_parse(&r, big, sizeof big, 8192), 431);
    assert_int_equal(nb_httpreq_parse(&r, big, 100, 8192), NB_HTTPREQ_MORE);
}

static void
test_connection_headers(void **state)
{
    (void)state;
    struct nb_httpreq r;
    assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n", &r), 0);
    assert_false(r.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nconnection:keep-alive\r\n\r\n", &r), 0);
    assert_true(r.keep_alive);
    /* A body is never read, so the connection must end after the answer. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &r), 0);
    assert_false(r.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r), 0);
    assert_true(r.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r), 0);
    assert_false(r.keep_alive);
}

static void
test_query_params(void **state)
{
    (void)state;
    const char *q = "a=1&test=foo%2Ebar+x&empty&bad=%zz&bad=ok&sort=";
    size_t n = strlen(q);
    char out[16];
    assert_int_equal(nb_httpreq_param(q, n, "a", out, sizeof out), 1);
    assert_string_equal(out, "1");
    assert_int_equal(nb_httpreq_param(q, n, "test", out, sizeof out), 9);
    assert_string_equal(out, "foo.bar x");
    assert_int_equal(nb_httpreq_param(q, n, "empty", out, sizeof out), 0);
    assert_int_equal(nb_httpreq_param(q, n, "bad", out, sizeof out), 2); /* as Go skips %zz */
    assert_string_equal(out, "ok");
    assert_int_equal(nb_httpreq_param(q, n, "sort", out, sizeof out), 0);
    assert_int_equal(nb_httpreq_param(q, n, "missing", out, sizeof out), -1);
    assert_int_equal(nb_httpreq_param(q, n, "test", out, 4), -2);
}

static const char *
render(void (*build)(struct nb_jw *), bool pretty, struct np_buf *b)
{
    struct nb_jw w;
    memset(b, 0, sizeof *b);
    nb_jw_init(&w, b, pretty);
    build(&w);
    assert_false(nb_jw_failed(&w));
    return b->ptr;
}

static void
build_doc(struct nb_jw *w)
{
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "s", "a<b>&\"\\\n\x01\xff\xc3\xa9");
    nb_jw_obj(w, "empty");
    nb_jw_end_obj(w);
    nb_jw_arr(w, "list");
    nb_jw_u64(w, NULL, UINT64_MAX);
    nb_jw_i64(w, NULL, -3);
    nb_jw_end_arr(w);
    nb_jw_arr(w, "none");
    nb_jw_end_arr(w);
    nb_jw_f64(w, "f", 0.75);
    nb_jw_f64(w, "g", 2.0 / 3);
    nb_jw_f64(w, "h", 2);
    nb_jw_f64(w, "big", 1e20);
    nb_jw_bool(w, "t", true);
    nb_jw_null(w, "nil");
    nb_jw_time(w, "now", 1700000000123000000);
    nb_jw_end_obj(w);
}

static void
test_json_layout(void **state)
{
    (void)state;
    struct np_buf b;
    assert_string_equal(render(build_doc, true, &b),
                        "{\n"
                        "  \"s\": \"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\ufffd\xc3\xa9\",\n"
                        "  \"empty\": {},\n"
                        "  \"list\": [\n"
                        "    18446744073709551615,\n"
                        "    -3\n"
                        "  ],\n"
                        "  \"none\": [],\n"
                        "  \"f\": 0.75,\n"
                        "  \"g\": 0.6666666666666666,\n"
                        "  \"h\": 2,\n"
                        "  \"big\": 100000000000000000000,\n"
                        "  \"t\": true,\n"
                        "  \"nil\": null,\n"
                        "  \"now\": \"2023-11-14T22:13:20.123Z\"\n"
                        "}");
    np_buf_release(&b);
}

static void
build_small(struct nb_jw *w)
{
    nb_jw_obj(w, NULL);
    nb_jw_str(w, "status", "ok");
    nb_jw_end_obj(w);
}

static void
test_json_compact(void **state)
{
    (void)state;
    struct np_buf b;
    assert_string_equal(render(build_small, false, &b), "{\"status\":\"ok\"}");
    np_buf_release(&b);
}

static void
test_go_durations(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *go, *uptime;
    } cases[] = {
        {0, "0s", "0s"},
        {850, "850ns", "0s"},
        {996000, "996µs", "0s"},
        {1500, "1.5µs", "0s"},
        {2507553, "2.507553ms", "0s"},
        {1500000000, "1.5s", "1s"},
        {62500000000, "1m2.5s", "1m2s"},
        {3723000000000, "1h2m3s", "1h2m3s"},
        {90061000000000, "25h1m1s", "1d1h1m1s"},
        {366 * 86400 * (int64_t)1000000000, "8784h0m0s", "1y1d0h0m0s"},
    };
    char buf[48];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nb__mon_duration(cases[i].ns, buf, sizeof buf);
        assert_string_equal(buf, cases[i].go);
        nb__mon_uptime(cases[i].ns, buf, sizeof buf);
        assert_string_equal(buf, cases[i].uptime);
    }
}

static int
decode_query(const char *query, bool *b, int64_t *i, uint64_t *u, struct np_buf *err)
{
    struct nb_httpreq r = {.query = query, .query_len = strlen(query)};
    int rc = nb__mon_bool(&r, "b", b, err);
    if (!rc) rc = nb__mon_int(&r, "i", i, err);
    if (!rc) rc = nb__mon_u64(&r, "u", u, err);
    return rc;
}

static void
test_go_values(void **state)
{
    (void)state;
    struct np_buf err = {0};
    bool b = false;
    int64_t i = 0;
    uint64_t u = 0;
    assert_int_equal(decode_query("b=T&i=-42&u=18446744073709551615", &b, &i, &u, &err), 0);
    assert_true(b);
    assert_int_equal(i, -42);
    assert_true(u == UINT64_MAX);
    assert_int_equal(decode_query("b=yes", &b, &i, &u, &err), 400);
    assert_string_equal(
        err.ptr, "Error decoding boolean for 'b': strconv.ParseBool: parsing \"yes\": invalid "
                 "syntax");
    np_buf_release(&err);
    assert_int_equal(decode_query("i=99999999999999999999", &b, &i, &u, &err), 400);
    assert_string_equal(err.ptr, "Error decoding int for 'i': strconv.Atoi: parsing "
                                 "\"99999999999999999999\": value out of range");
    np_buf_release(&err);
    assert_int_equal(decode_query("u=-1", &b, &i, &u, &err), 400);
    np_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_line),       cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_connection_headers), cmocka_unit_test(test_query_params),
        cmocka_unit_test(test_json_layout),        cmocka_unit_test(test_json_compact),
        cmocka_unit_test(test_go_durations),       cmocka_unit_test(test_go_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
