/*
 * Unit tests for cmd/cli_busypoll.c: how the polling window opens, holds and closes; how frugal
 * mode pauses polls that mostly miss and batches dense wakeups only while naps gather enough; and
 * that the runner returns once the loop has nothing left, as uv_run(UV_RUN_DEFAULT) does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli_busypoll.h"

#define US 1000u

/* n messages of 100 bytes */
#define MSGS(n) ((struct cli_traffic){(n), (n)*100u})
#define ONE_MSG MSGS(1)
#define NO_MSG  MSGS(0)

static void
test_window_opens_only_for_traffic_sooner_than_the_maximum(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, false);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 150 * US, ONE_MSG, 0);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 30 * US, NO_MSG, 0);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 100 * US, ONE_MSG, 0);
    assert_int_equal(bp.window_ns, 100 * US);
}

static void
test_misses_halve_the_window_until_it_closes(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, false);
    cli_busypoll_slept(&bp, 10 * US, ONE_MSG, 0);
    const uint64_t expect[] = {50 * US, 25 * US, 12500, 6250, 3125, 0, 0};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        cli_busypoll_polled(&bp, false, 0);
        assert_int_equal(bp.window_ns, expect[i]);
    }
}

static void
test_a_catch_restores_the_full_window(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, false);
    cli_busypoll_slept(&bp, 10 * US, ONE_MSG, 0);
    cli_busypoll_polled(&bp, false, 0);
    cli_busypoll_polled(&bp, false, 0);
    assert_int_equal(bp.window_ns, 25 * US);
    cli_busypoll_polled(&bp, true, 0);
    assert_int_equal(bp.window_ns, 100 * US);
}

static void
test_zero_maximum_never_polls(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 0, false);
    cli_busypoll_slept(&bp, 0, ONE_MSG, 0);
    assert_int_equal(bp.window_ns, 0);
    cli_busypoll_slept(&bp, 1, ONE_MSG, 0);
    assert_int_equal(bp.window_ns, 0);
}

#define MS 1000000u

/* Misses that bring the hit rate under 80% close the window for a pause that doubles. */
static void
test_frugal_polling_pauses_while_polls_miss(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, true);
    cli_busypoll_slept(&bp, 10 * US, ONE_MSG, 0);
    assert_int_equal(bp.window_ns, 100 * US);
    cli_busypoll_polled(&bp, false, 0); /* one miss in a good record: keep polling */
    assert_int_equal(bp.window_ns, 50 * US);
    cli_busypoll_polled(&bp, false, 0);
    assert_int_equal(bp.window_ns, 0); /* 77% caught: pause */
    assert_int_equal(bp.poll_backoff.until_ns, 1 * MS);
    cli_busypoll_slept(&bp, 10 * US, ONE_MSG, MS / 2);
    assert_int_equal(bp.window_ns, 0); /* still paused */
    cli_busypoll_slept(&bp, 10 * US, ONE_MSG, 1 * MS);
    assert_int_equal(bp.window_ns, 100 * US);
    cli_busypoll_polled(&bp, false, 2 * MS);
    assert_int_equal(bp.window_ns, 0);
    assert_int_equal(bp.poll_backoff.until_ns, 4 * MS); /* the pause doubled */
    for (int i = 0; i < 20; i++)
        cli_busypoll_polled(&bp, false, 0);
    assert_int_equal(bp.poll_backoff.pause_ns, 100 * MS); /* and stops growing */
    /* Polls that catch again bring the rate back up and the pause back to its start. */
    for (int i = 0; i < 20; i++)
        cli_busypoll_polled(&bp, true, 0);
    assert_int_equal(bp.poll_backoff.pause_ns, 1 * MS);
}

/* Latency mode polls whatever the record, and never naps. */
static void
test_latency_mode_never_pauses_or_naps(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, false);
    for (int i = 0; i < 50; i++)
        cli_busypoll_polled(&bp, false, 0);
    cli_busypoll_slept(&bp, 10 * US, ONE_MSG, 0);
    assert_int_equal(bp.window_ns, 100 * US);
    for (int i = 0; i < 5; i++)
        cli_busypoll_slept(&bp, 10 * US, ONE_MSG, 0);
    assert_false(cli_busypoll_should_nap(&bp, 0));
}

static void
test_dense_wakeups_start_naps_and_an_empty_nap_ends_them(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, true);
    cli_busypoll_slept(&bp, 50 * US, ONE_MSG, 0);
    cli_busypoll_slept(&bp, 50 * US, ONE_MSG, 0);
    assert_false(cli_busypoll_should_nap(&bp, 0));
    cli_busypoll_slept(&bp, 50 * US, ONE_MSG, 0);
    assert_true(cli_busypoll_should_nap(&bp, 0));
    cli_busypoll_napped(&bp, MSGS(10), 0);
    assert_true(cli_busypoll_should_nap(&bp, 0));
    cli_busypoll_napped(&bp, MSGS(0), 0);
    assert_false(cli_busypoll_should_nap(&bp, 0));
    /* A slow wakeup or one without traffic breaks the run of dense ones. */
    for (int i = 0; i < 3; i++)
        cli_busypoll_slept(&bp, 50 * US, ONE_MSG, 0);
    cli_busypoll_slept(&bp, 300 * US, ONE_MSG, 0);
    assert_false(cli_busypoll_should_nap(&bp, 0));
}

static void
test_naps_that_gather_too_little_pause_batching(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, true);
    for (int i = 0; i < 3; i++)
        cli_busypoll_slept(&bp, 50 * US, ONE_MSG, 0);
    int naps = 0;
    while (cli_busypoll_should_nap(&bp, 0) && naps < 100) {
        cli_busypoll_napped(&bp, MSGS(1), 0); /* request-reply: one message per nap */
        naps++;
    }
    assert_true(naps > 0 && naps < 10);
    for (int i = 0; i < 3; i++)
        cli_busypoll_slept(&bp, 50 * US, ONE_MSG, MS / 2);
    assert_false(cli_busypoll_should_nap(&bp, MS / 2)); /* paused for 1 ms */
    assert_true(cli_busypoll_should_nap(&bp, 1 * MS));
}

/* A busy server's reads bring tens of kilobytes; it never sleeps between them, and a nap would
 * only idle it. */
static void
test_a_busy_server_does_not_nap(void **state)
{
    (void)state;
    struct cli_busypoll bp;
    cli_busypoll_init(&bp, 100 * US, true);
    struct cli_traffic full_read = {40, 64 * 1024};
    for (int i = 0; i < 5; i++)
        cli_busypoll_slept(&bp, 20 * US, full_read, 0);
    assert_false(cli_busypoll_should_nap(&bp, 0));
    for (int i = 0; i < 3; i++)
        cli_busypoll_slept(&bp, 20 * US, ONE_MSG, 0);
    assert_true(cli_busypoll_should_nap(&bp, 0));
    cli_busypoll_napped(&bp, (struct cli_traffic){300, 40 * 1024}, 0);
    assert_false(cli_busypoll_should_nap(&bp, 0));
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

static struct cli_traffic
traffic_count(void *ud)
{
    return MSGS(((struct traffic *)ud)->count);
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
    cli_busypoll_init(&bp, 100 * US, false);
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
        cmocka_unit_test(test_frugal_polling_pauses_while_polls_miss),
        cmocka_unit_test(test_latency_mode_never_pauses_or_naps),
        cmocka_unit_test(test_dense_wakeups_start_naps_and_an_empty_nap_ends_them),
        cmocka_unit_test(test_naps_that_gather_too_little_pause_batching),
        cmocka_unit_test(test_a_busy_server_does_not_nap),
        cmocka_unit_test(test_run_returns_when_the_loop_is_done),
    };
    return cmocka_run_group_tests_name("busypoll", tests, NULL, NULL);
}
