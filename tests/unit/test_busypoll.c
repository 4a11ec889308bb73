/*
 * Unit tests for cmd/cli_busypoll.c: how the polling window opens, holds and closes, and that the
 * runner polls after traffic that arrives sooner than the window, sleeps when traffic is slower,
 * and returns once the loop has nothing left, as uv_run(UV_RUN_DEFAULT) does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli_busypoll.h"

#define US 1000u

static void
test_window_opens_only_for_traffic_sooner_than_the_maximum(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 150 * US, true);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 30 * US, false);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 100 * US, true);
    assert_int_equal(bp.window_ns, 100 * US);
}

static void
test_misses_halve_the_window_until_it_closes(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US);
    cli_busypoll_slept(&bp, 10 * US, true);
    const uint64_t expect[] = {50 * US, 25 * US, 12500, 6250, 3125, 0, 0};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        cli_busypoll_polled(&bp, false);
        assert_int_equal(bp.window_ns, expect[i]);
    }
}

static void
test_a_catch_restores_the_full_window(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US);
    cli_busypoll_slept(&bp, 10 * US, true);
    cli_busypoll_polled(&bp, false);
    cli_busypoll_polled(&bp, false);
    assert_int_equal(bp.window_ns, 25 * US);
    cli_busypoll_polled(&bp, true);
    assert_int_equal(bp.window_ns, 100 * US);
}

static void
test_zero_maximum_never_polls(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 0);
    cli_busypoll_slept(&bp, 0, true);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 1, true);
    assert_int_equal(bp.window_ns, 0);
}

/* The runner against a real loop: an idle handle produces "traffic" a few times, then stops. */
struct traffic {
    uv_idle_t idle;
    uint64_t count, limit;
};

static void
on_idle(uv_idle_t *h)
{
    struct traffic *t = h->data;
    if (++t->count == t->limit) uv_close((uv_handle_t *)h, NULL);
}

static uint64_t
traffic_count(void *ud)
{
    return ((struct traffic *)ud)->count;
}

static void
test_run_returns_when_the_loop_is_done(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct traffic t = {.limit = 1000};
    uv_idle_init(&loop, &t.idle);
    t.idle.data = &t;
    uv_idle_start(&t.idle, on_idle);
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US);
    cli_busypoll_run(&bp, &loop, traffic_count, &t);
    assert_int_equal(t.count, 1000);
    /* Traffic came on every iteration, so the window opened and stayed open. */
    assert_int_equal(bp.window_ns, 100 * US);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_opens_only_for_traffic_sooner_than_the_maximum),
        cmocka_unit_test(test_misses_halve_the_window_until_it_closes),
        cmocka_unit_test(test_a_catch_restores_the_full_window),
        cmocka_unit_test(test_zero_maximum_never_polls),
        cmocka_unit_test(test_run_returns_when_the_loop_is_done),
    };
    return cmocka_run_group_tests_name("busypoll", tests, NULL, NULL);
}
