/*
 * The server's life cycle as nb.h defines it: a failed start says which listener failed, and is
 * undone like a running server (stop, run the loop, free) with nothing left on the loop; the
 * shutdown line is logged only for a server that had started; a monitoring port of -1 gets a free
 * port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb.h"

struct logbook {
    char text[4096];
};

static void
log_line(void *ud, enum nb_log_level level, const char *msg)
{
    struct logbook *lb = ud;
    (void)level;
    size_t n = strlen(lb->text);
    snprintf(lb->text + n, sizeof lb->text - n, "%s\n", msg);
}

static void
on_stopped(struct nb_server *srv, void *ud)
{
    (void)srv;
    *(bool *)ud = true;
}

/* Stops, runs the loop until the stop is done, and frees (another server may share the loop). */
static void
stop_and_free(uv_loop_t *loop, struct nb_server *srv)
{
    bool stopped = false;
    nb_server_stop(srv, on_stopped, &stopped);
    for (int i = 0; i < 1000 && !stopped; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_true(stopped);
    nb_server_free(srv);
}

static struct nb_server *
server(uv_loop_t *loop, int port, int http_port, struct logbook *lb)
{
    struct nb_config cfg;
    nb_config_init(&cfg);
    cfg.port = port;
    cfg.http_port = http_port;
    cfg.log = log_line;
    cfg.log_ud = lb;
    struct nb_server *srv;
    assert_int_equal(nb_server_new(&srv, loop, &cfg), 0);
    nb_config_release(&cfg);
    return srv;
}

static void
test_busy_client_port(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct logbook lb = {{0}};
    assert_int_equal(uv_loop_init(&loop), 0);
    struct nb_server *first = server(&loop, 0, 0, &lb);
    assert_int_equal(nb_server_start(first), 0);
    assert_null(nb_server_start_error(first));
    int port = nb_server_port(first);
    struct nb_server *second = server(&loop, port, 0, &lb);
    assert_int_equal(nb_server_start(second), UV_EADDRINUSE);
    char want[128];
    snprintf(want, sizeof want, "cannot listen for client connections on 127.0.0.1:%d: ", port);
    assert_non_null(nb_server_start_error(second));
    assert_memory_equal(nb_server_start_error(second), want, strlen(want));
    lb.text[0] = '\0';
    stop_and_free(&loop, second);
    assert_null(strstr(lb.text, "Initiating Shutdown"));
    stop_and_free(&loop, first);
    assert_non_null(strstr(lb.text, "Initiating Shutdown"));
    /* Nothing of either server is left: the loop closes without running again. */
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_busy_monitoring_port(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct logbook lb = {{0}};
    assert_int_equal(uv_loop_init(&loop), 0);
    struct nb_server *first = server(&loop, 0, 0, &lb);
    assert_int_equal(nb_server_start(first), 0);
    int busy = nb_server_port(first);
    struct nb_server *second = server(&loop, 0, busy, &lb);
    assert_int_equal(nb_server_start(second), UV_EADDRINUSE);
    char want[128];
    snprintf(want, sizeof want, "cannot listen for monitoring connections on 127.0.0.1:%d", busy);
    assert_non_null(strstr(nb_server_start_error(second), want));
    stop_and_free(&loop, second);
    stop_and_free(&loop, first);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_any_monitoring_port(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct logbook lb = {{0}};
    assert_int_equal(uv_loop_init(&loop), 0);
    struct nb_server *off = server(&loop, 0, 0, &lb);
    struct nb_server *any = server(&loop, 0, -1, &lb);
    assert_int_equal(nb_server_http_port(any), -1);
    assert_int_equal(nb_server_start(off), 0);
    assert_int_equal(nb_server_start(any), 0);
    assert_int_equal(nb_server_http_port(off), -1);
    assert_true(nb_server_http_port(any) > 0);
    assert_int_not_equal(nb_server_http_port(any), nb_server_port(any));
    stop_and_free(&loop, any);
    stop_and_free(&loop, off);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_client_port),
        cmocka_unit_test(test_busy_monitoring_port),
        cmocka_unit_test(test_any_monitoring_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
