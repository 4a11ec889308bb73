/*
 * Unit tests for cmd/cli_hist.c and cmd/cli_stats.c. The histogram is checked against a brute-force
 * sort of the same seeded random samples for several distributions and geometries: exact min, max
 * and p100, the nearest-rank percentiles within the promised relative error, and mean and stddev
 * within the error that slot midpoints can cause. Then the value-equivalence bound one value at a
 * time (including the range edges and both sides of powers of two), merge against recording
 * everything into one histogram, reset, saturation, argument checks, and the report helpers'
 * exact output.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_hist.h"
#include "cli_stats.h"

#define SAMPLES 100000
#define SECOND  UINT64_C(1000000000)
#define HOUR    (3600 * SECOND)

/* Percentiles as exact fractions num / den, so the oracle's rank needs no floating point. */
static const struct {
    uint64_t num, den;
} pcts[] = {{0, 1}, {50, 1}, {90, 1}, {99, 1}, {999, 10}, {9999, 100}, {100, 1}};

/* splitmix64: tiny, seedable, good enough to spread samples. */
static uint64_t rng;

static uint64_t
next_u64(void)
{
    uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
next_unit(void)
{
    return (double)(next_u64() >> 11) * 0x1p-53;
}

static uint64_t
gen_uniform(void)
{
    return 1 + next_u64() % 1000000;
}

/* Mean 50 µs with a long tail, like real request latencies. */
static uint64_t
gen_exponential(void)
{
    return 1 + (uint64_t)(-50000.0 * log1p(-next_unit()));
}

/* A fast path around 20 µs and a slow one around 5 ms. */
static uint64_t
gen_bimodal(void)
{
    if (next_u64() & 1) return 20000 + next_u64() % 2000;
    return 5000000 + next_u64() % 500000;
}

static uint64_t
gen_single(void)
{
    return 123457;
}

/* Within 1% either side of an hour, so about half saturate. */
static uint64_t
gen_near_hour(void)
{
    return HOUR - HOUR / 100 + next_u64() % (HOUR / 50);
}

/* The top 1/1000 of the whole uint64_t range. */
static uint64_t
gen_near_max(void)
{
    return UINT64_MAX - next_u64() % (UINT64_MAX / 1000);
}

static uint64_t
gen_small(void)
{
    return next_u64() % 5000000;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* v <= got <= v * (1 + 10^-sigfigs), computed without overflowing near UINT64_MAX. */
static void
expect_equivalent(uint64_t got, uint64_t v, int sigfigs, const char *what)
{
    double eps = pow(10, -sigfigs);
    if (got < v || (double)(got - v) > (double)v * eps)
        fail_msg("%s: got %llu for %llu, allowed [%llu, %.0f] (sigfigs %d)", what,
                 (unsigned long long)got, (unsigned long long)v, (unsigned long long)v,
                 (double)v + (double)v * eps, sigfigs);
}

static void
expect_close(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.6f, want %.6f +- %.6f", what, got, want, tol);
}

/* The values as the histogram should see them: sorted, clamped; returns how many saturate. */
static uint64_t
clamp_sort(uint64_t *xs, size_t n, uint64_t lowest, uint64_t highest)
{
    uint64_t saturated = 0;
    for (size_t i = 0; i < n; i++) {
        if (xs[i] < lowest) xs[i] = lowest;
        if (xs[i] > highest) {
            xs[i] = highest;
            saturated++;
        }
    }
    qsort(xs, n, sizeof *xs, cmp_u64);
    return saturated;
}

/*
 * Slot midpoints move each value by at most eps/2 of itself, which moves the mean by at most
 * eps/2 of it and the stddev by at most eps/2 of the values' root mean square (Minkowski).
 */
static void
expect_moments(const struct cli_hist *h, const uint64_t *xs, size_t n, int sigfigs)
{
    long double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += (long double)xs[i];
    long double mean = sum / (long double)n;
    for (size_t i = 0; i < n; i++)
        sq += ((long double)xs[i] - mean) * ((long double)xs[i] - mean);
    long double rms2 = 0;
    for (size_t i = 0; i < n; i++)
        rms2 += (long double)xs[i] / (long double)n * (long double)xs[i];
    double half_eps = pow(10, -sigfigs) / 2, slack = 1e-9;
    double m = (double)mean, sd = sqrtl(sq / (long double)n), rms = sqrtl(rms2);
    expect_close(cli_hist_mean(h), m, m * (half_eps + slack), "mean");
    expect_close(cli_hist_stddev(h), sd, rms * (half_eps + slack), "stddev");
}

static void
check_against_sort(uint64_t lowest, uint64_t highest, int sigfigs, uint64_t (*gen)(void))
{
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, lowest, highest, sigfigs), 0);
    uint64_t *xs = malloc(SAMPLES * sizeof *xs);
    assert_non_null(xs);
    rng = 42;
    for (size_t i = 0; i < SAMPLES; i++) {
        xs[i] = gen();
        cli_hist_record(&h, xs[i]);
    }
    uint64_t saturated = clamp_sort(xs, SAMPLES, lowest, highest);
    assert_int_equal(cli_hist_count(&h), SAMPLES);
    assert_int_equal(cli_hist_saturated(&h), saturated);
    assert_int_equal(cli_hist_min(&h), xs[0]);
    assert_int_equal(cli_hist_max(&h), xs[SAMPLES - 1]);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        uint64_t scale = pcts[i].den * 100;
        uint64_t rank = (pcts[i].num * SAMPLES + scale - 1) / scale;
        uint64_t want = xs[rank ? rank - 1 : 0];
        char what[64];
        snprintf(what, sizeof what, "p%g", (double)pcts[i].num / (double)pcts[i].den);
        expect_equivalent(cli_hist_percentile(&h, (double)pcts[i].num / (double)pcts[i].den), want,
                          sigfigs, what);
    }
    assert_int_equal(cli_hist_percentile(&h, 100), xs[SAMPLES - 1]);
    expect_moments(&h, xs, SAMPLES, sigfigs);
    free(xs);
    cli_hist_release(&h);
}

static void
test_uniform(void **state)
{
    (void)state;
    for (int s = 1; s <= 5; s++)
        check_against_sort(1, 10 * SECOND, s, gen_uniform);
}

static void
test_exponential(void **state)
{
    (void)state;
    check_against_sort(1, 60 * SECOND, 2, gen_exponential);
    check_against_sort(1, 60 * SECOND, 3, gen_exponential);
}

static void
test_bimodal(void **state)
{
    (void)state;
    check_against_sort(1, 10 * SECOND, 3, gen_bimodal);
    check_against_sort(1, 10 * SECOND, 4, gen_bimodal);
}

static void
test_single_value(void **state)
{
    (void)state;
    check_against_sort(1, 10 * SECOND, 3, gen_single);
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, 10 * SECOND, 3), 0);
    for (int i = 0; i < 1000; i++)
        cli_hist_record(&h, 123457);
    for (double p = 0; p <= 100; p += 12.5)
        assert_int_equal(cli_hist_percentile(&h, p), 123457);
    assert_true(cli_hist_stddev(&h) == 0);
    cli_hist_release(&h);
}

static void
test_huge_values(void **state)
{
    (void)state;
    check_against_sort(1, HOUR, 3, gen_near_hour);
    check_against_sort(1, UINT64_MAX, 2, gen_near_max);
    check_against_sort(1000, UINT64_MAX - 1, 1, gen_near_max);
}

/* lowest = 1 ms makes the finest slots wider than one, so this also covers unit_shift > 0. */
static void
test_below_lowest(void **state)
{
    (void)state;
    check_against_sort(1000, 10 * SECOND, 3, gen_small);
    check_against_sort(1000000, 10 * SECOND, 3, gen_small);
    check_against_sort(1000000, 10 * SECOND, 1, gen_small);
}

/* Records v next to `highest`, so the result is the top of v's slot, not capped by the max. */
static void
expect_slot_ok(struct cli_hist *h, uint64_t v, uint64_t lowest, uint64_t highest, int sigfigs)
{
    if (v < lowest || v > highest) return;
    cli_hist_reset(h);
    cli_hist_record(h, v);
    cli_hist_record(h, highest);
    expect_equivalent(cli_hist_percentile(h, 0), v, sigfigs, "single value");
}

static void
sweep(uint64_t lowest, uint64_t highest, int sigfigs)
{
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, lowest, highest, sigfigs), 0);
    expect_slot_ok(&h, lowest, lowest, highest, sigfigs);
    expect_slot_ok(&h, lowest + 1, lowest, highest, sigfigs);
    for (int b = 1; b < 64; b++) {
        uint64_t p2 = UINT64_C(1) << b;
        for (uint64_t v = p2 - 1; v <= p2 + 1; v++)
            expect_slot_ok(&h, v, lowest, highest, sigfigs);
    }
    double span = log((double)highest / (double)lowest);
    for (int i = 0; i < 300; i++) {
        double v = (double)lowest * exp(span * next_unit());
        expect_slot_ok(&h, v < 0x1p64 ? (uint64_t)v : UINT64_MAX, lowest, highest, sigfigs);
    }
    cli_hist_release(&h);
}

static void
test_value_equivalence(void **state)
{
    (void)state;
    rng = 7;
    for (int s = 1; s <= 5; s++) {
        sweep(1, 10 * SECOND, s);
        sweep(1000, 10 * SECOND, s);
        sweep(123456789, 10 * SECOND, s);
    }
    sweep(1, UINT64_MAX, 3);
}

/* Below 2 * 10^sigfigs with lowest = 1 every slot is one value wide, so values come back exact. */
static void
test_exact_low_range(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, SECOND, 3), 0);
    for (uint64_t v = 1; v < 2000; v++) {
        cli_hist_reset(&h);
        cli_hist_record(&h, v);
        cli_hist_record(&h, SECOND);
        assert_int_equal(cli_hist_percentile(&h, 0), v);
    }
    cli_hist_release(&h);
}

/* The first and last value of the slot holding v, found through the public API only. */
static void
slot_bounds(struct cli_hist *h, uint64_t v, uint64_t highest, uint64_t *start, uint64_t *top)
{
    cli_hist_reset(h);
    cli_hist_record(h, v);
    cli_hist_record(h, highest);
    *top = cli_hist_percentile(h, 0);
    for (*start = v; *start > 1; --*start) {
        cli_hist_reset(h);
        cli_hist_record(h, *start - 1);
        cli_hist_record(h, highest);
        if (cli_hist_percentile(h, 0) != *top) break;
    }
}

/*
 * The first and last value of a slot average to its midpoint, so mean and stddev come out exact
 * here; the random tests can only bound them.
 */
static void
test_midpoints(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, 10 * SECOND, 1), 0);
    uint64_t a0, a1, b0, b1;
    slot_bounds(&h, 1000, 10 * SECOND, &a0, &a1);
    slot_bounds(&h, 5000000, 10 * SECOND, &b0, &b1);
    assert_true(a1 > a0 && b1 > b0 && b0 > a1);
    cli_hist_reset(&h);
    cli_hist_record(&h, a0);
    cli_hist_record(&h, a1);
    assert_true(cli_hist_mean(&h) == (double)(a0 + a1) / 2);
    assert_true(cli_hist_stddev(&h) == 0);
    cli_hist_record(&h, b0);
    cli_hist_record(&h, b1);
    double ma = (double)(a0 + a1) / 2, mb = (double)(b0 + b1) / 2;
    expect_close(cli_hist_mean(&h), (ma + mb) / 2, 1e-9, "mean of two slots");
    expect_close(cli_hist_stddev(&h), (mb - ma) / 2, (mb - ma) * 1e-12, "stddev of two slots");
    cli_hist_release(&h);
}

static void
fill(struct cli_hist *h, uint64_t seed, uint64_t (*gen)(void), int n)
{
    rng = seed;
    for (int i = 0; i < n; i++)
        cli_hist_record(h, gen());
}

static void
expect_same(const struct cli_hist *a, const struct cli_hist *b)
{
    assert_int_equal(cli_hist_count(a), cli_hist_count(b));
    assert_int_equal(cli_hist_saturated(a), cli_hist_saturated(b));
    assert_int_equal(cli_hist_min(a), cli_hist_min(b));
    assert_int_equal(cli_hist_max(a), cli_hist_max(b));
    assert_true(cli_hist_mean(a) == cli_hist_mean(b));
    assert_true(cli_hist_stddev(a) == cli_hist_stddev(b));
    for (int i = 0; i <= 1000; i++)
        assert_int_equal(cli_hist_percentile(a, i / 10.0), cli_hist_percentile(b, i / 10.0));
}

static void
test_merge(void **state)
{
    (void)state;
    struct cli_hist a, b, both, empty;
    assert_int_equal(cli_hist_init(&a, 10, 2 * SECOND, 3), 0);
    assert_int_equal(cli_hist_init(&b, 10, 2 * SECOND, 3), 0);
    assert_int_equal(cli_hist_init(&both, 10, 2 * SECOND, 3), 0);
    assert_int_equal(cli_hist_init(&empty, 10, 2 * SECOND, 3), 0);
    fill(&a, 1, gen_exponential, 50000);
    fill(&both, 1, gen_exponential, 50000);
    fill(&b, 2, gen_bimodal, 30000);
    fill(&b, 3, gen_near_hour, 100);
    fill(&both, 2, gen_bimodal, 30000);
    fill(&both, 3, gen_near_hour, 100);
    assert_int_equal(cli_hist_merge(&empty, &b), 0);
    expect_same(&empty, &b);
    assert_int_equal(cli_hist_merge(&a, &b), 0);
    expect_same(&a, &both);
    assert_int_equal(cli_hist_saturated(&a), 100);
    cli_hist_reset(&empty);
    assert_int_equal(cli_hist_merge(&a, &empty), 0);
    expect_same(&a, &both);
    cli_hist_release(&a);
    cli_hist_release(&b);
    cli_hist_release(&both);
    cli_hist_release(&empty);
}

static void
test_merge_geometry(void **state)
{
    (void)state;
    struct cli_hist dst, other;
    assert_int_equal(cli_hist_init(&dst, 1, SECOND, 3), 0);
    cli_hist_record(&dst, 5);
    const struct {
        uint64_t lowest, highest;
        int sigfigs;
    } bad[] = {{2, SECOND, 3}, {1, SECOND + 1, 3}, {1, SECOND, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cli_hist_init(&other, bad[i].lowest, bad[i].highest, bad[i].sigfigs), 0);
        cli_hist_record(&other, 7);
        assert_int_equal(cli_hist_merge(&dst, &other), -EINVAL);
        assert_int_equal(cli_hist_count(&dst), 1);
        assert_int_equal(cli_hist_max(&dst), 5);
        cli_hist_release(&other);
    }
    cli_hist_release(&dst);
}

static void
expect_empty(const struct cli_hist *h)
{
    assert_int_equal(cli_hist_count(h), 0);
    assert_int_equal(cli_hist_saturated(h), 0);
    assert_int_equal(cli_hist_min(h), 0);
    assert_int_equal(cli_hist_max(h), 0);
    assert_true(cli_hist_mean(h) == 0);
    assert_true(cli_hist_stddev(h) == 0);
    assert_int_equal(cli_hist_percentile(h, 0), 0);
    assert_int_equal(cli_hist_percentile(h, 50), 0);
    assert_int_equal(cli_hist_percentile(h, 100), 0);
}

static void
test_reset(void **state)
{
    (void)state;
    struct cli_hist h, fresh;
    assert_int_equal(cli_hist_init(&h, 1, SECOND, 3), 0);
    assert_int_equal(cli_hist_init(&fresh, 1, SECOND, 3), 0);
    expect_empty(&h);
    /* Extremes on both sides of what comes after, so stale min or max would show. */
    fill(&h, 9, gen_exponential, 10000);
    cli_hist_record(&h, 2 * SECOND);
    cli_hist_reset(&h);
    expect_empty(&h);
    fill(&h, 10, gen_bimodal, 10000);
    fill(&fresh, 10, gen_bimodal, 10000);
    expect_same(&h, &fresh);
    cli_hist_release(&h);
    cli_hist_release(&fresh);
}

static void
test_saturated(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, 1000000, 3), 0);
    cli_hist_record(&h, 1000000);
    assert_int_equal(cli_hist_saturated(&h), 0);
    cli_hist_record(&h, 1000001);
    cli_hist_record(&h, UINT64_MAX);
    assert_int_equal(cli_hist_saturated(&h), 2);
    assert_int_equal(cli_hist_count(&h), 3);
    assert_int_equal(cli_hist_min(&h), 1000000);
    assert_int_equal(cli_hist_max(&h), 1000000);
    assert_int_equal(cli_hist_percentile(&h, 0), 1000000);
    assert_int_equal(cli_hist_percentile(&h, 100), 1000000);
    cli_hist_record(&h, 0);
    assert_int_equal(cli_hist_min(&h), 1);
    assert_int_equal(cli_hist_percentile(&h, 0), 1);
    cli_hist_release(&h);
}

static void
test_percentile_args(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 1, SECOND, 3), 0);
    for (uint64_t v = 1; v <= 1000; v++)
        cli_hist_record(&h, v * 1000);
    assert_int_equal(cli_hist_percentile(&h, -5), cli_hist_percentile(&h, 0));
    assert_int_equal(cli_hist_percentile(&h, NAN), cli_hist_percentile(&h, 0));
    assert_int_equal(cli_hist_percentile(&h, 250), 1000000);
    /* 99.9% of 1000 is 999.0000000000001 in floating point; the rank must still be 999. */
    expect_equivalent(cli_hist_percentile(&h, 99.9), 999000, 3, "p99.9 of 1000");
    assert_true(cli_hist_percentile(&h, 99.9) < 1000000);
    cli_hist_release(&h);
}

static void
test_init_args(void **state)
{
    (void)state;
    struct cli_hist h;
    assert_int_equal(cli_hist_init(&h, 0, SECOND, 3), -EINVAL);
    cli_hist_release(&h);
    assert_int_equal(cli_hist_init(&h, 10, 9, 3), -EINVAL);
    assert_int_equal(cli_hist_init(&h, 1, SECOND, 0), -EINVAL);
    assert_int_equal(cli_hist_init(&h, 1, SECOND, 6), -EINVAL);
    assert_int_equal(cli_hist_init(&h, 1, SECOND, -3), -EINVAL);
    assert_null(h.counts);
    cli_hist_release(&h);
    assert_int_equal(cli_hist_init(&h, 7, 7, 1), 0);
    cli_hist_record(&h, 100);
    assert_int_equal(cli_hist_percentile(&h, 50), 7);
    cli_hist_release(&h);
    struct cli_hist zero = {0};
    cli_hist_release(&zero);
}

static void
test_stats_of(void **state)
{
    (void)state;
    struct cli_stats st;
    const double xs[] = {2, 4, 4, 4, 5, 5, 7, 9};
    cli_stats_of(xs, 8, &st);
    assert_int_equal(st.n, 8);
    assert_true(st.min == 2 && st.max == 9 && st.avg == 5 && st.stddev == 2);
    cli_stats_of(NULL, 0, &st);
    assert_int_equal(st.n, 0);
    assert_true(st.min == 0 && st.max == 0 && st.avg == 0 && st.stddev == 0);
    const double one = 3.5;
    cli_stats_of(&one, 1, &st);
    assert_true(st.min == 3.5 && st.max == 3.5 && st.avg == 3.5 && st.stddev == 0);
    const double pm[] = {-1, 1};
    cli_stats_of(pm, 2, &st);
    assert_true(st.min == -1 && st.max == 1 && st.avg == 0 && st.stddev == 1);
    /* A small spread on a large offset: sqrt(2/3), lost by a one-pass sum of squares. */
    const double off[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
    cli_stats_of(off, 3, &st);
    expect_close(st.avg, 1e9 + 2, 1e-6, "avg");
    expect_close(st.stddev, sqrt(2.0 / 3.0), 1e-6, "stddev");
}

#define EXPECT_FMT(fn, value, want)                                                                \
    do {                                                                                           \
        char buf_[64];                                                                             \
        fn(value, buf_, sizeof buf_);                                                              \
        assert_string_equal(buf_, want);                                                           \
    } while (0)

static void
test_fmt_rate(void **state)
{
    (void)state;
    EXPECT_FMT(cli_fmt_rate, 0, "0");
    EXPECT_FMT(cli_fmt_rate, 7, "7");
    EXPECT_FMT(cli_fmt_rate, 999, "999");
    EXPECT_FMT(cli_fmt_rate, 999.4, "999");
    EXPECT_FMT(cli_fmt_rate, 999.5, "1,000");
    EXPECT_FMT(cli_fmt_rate, 12345, "12,345");
    EXPECT_FMT(cli_fmt_rate, 123456, "123,456");
    EXPECT_FMT(cli_fmt_rate, 1234567, "1,234,567");
    EXPECT_FMT(cli_fmt_rate, 1234567.5, "1,234,568");
    EXPECT_FMT(cli_fmt_rate, 1e15, "1,000,000,000,000,000");
    EXPECT_FMT(cli_fmt_rate, 1e30, "18,446,744,073,709,551,615");
    EXPECT_FMT(cli_fmt_rate, -3, "0");
    EXPECT_FMT(cli_fmt_rate, NAN, "0");
    char small[6];
    cli_fmt_rate(1234567, small, sizeof small);
    assert_string_equal(small, "1,234");
}

static void
test_fmt_bytes_rate(void **state)
{
    (void)state;
    EXPECT_FMT(cli_fmt_bytes_rate, 0, "0 B/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 100, "100 B/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 1023.4, "1023 B/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 1023.6, "1.00 KiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 1024, "1.00 KiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 512 * 1024, "512.00 KiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 12.34 * 1048576, "12.34 MiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 1048575, "1.00 MiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 1.5 * 1073741824.0, "1.50 GiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 3 * 0x1p60, "3.00 EiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, 0x1p70, "1024.00 EiB/s");
    EXPECT_FMT(cli_fmt_bytes_rate, -5, "0 B/s");
}

static void
test_fmt_latency(void **state)
{
    (void)state;
    EXPECT_FMT(cli_fmt_latency, 0, "0ns");
    EXPECT_FMT(cli_fmt_latency, 850, "850ns");
    EXPECT_FMT(cli_fmt_latency, 999, "999ns");
    EXPECT_FMT(cli_fmt_latency, 1000, "1.00µs");
    EXPECT_FMT(cli_fmt_latency, 1234, "1.23µs");
    EXPECT_FMT(cli_fmt_latency, 12345, "12.3µs");
    EXPECT_FMT(cli_fmt_latency, 123456, "123µs");
    EXPECT_FMT(cli_fmt_latency, 999499, "999µs");
    EXPECT_FMT(cli_fmt_latency, 999500, "1.00ms");
    EXPECT_FMT(cli_fmt_latency, 1250000, "1.25ms");
    EXPECT_FMT(cli_fmt_latency, 2500000000, "2.50s");
    EXPECT_FMT(cli_fmt_latency, 59999999999, "60.0s");
    EXPECT_FMT(cli_fmt_latency, HOUR, "3600s");
    EXPECT_FMT(cli_fmt_latency, UINT64_MAX, "18446744074s");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform),           cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_bimodal),           cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_huge_values),       cmocka_unit_test(test_below_lowest),
        cmocka_unit_test(test_value_equivalence), cmocka_unit_test(test_exact_low_range),
        cmocka_unit_test(test_midpoints),         cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_geometry),    cmocka_unit_test(test_reset),
        cmocka_unit_test(test_saturated),         cmocka_unit_test(test_percentile_args),
        cmocka_unit_test(test_init_args),         cmocka_unit_test(test_stats_of),
        cmocka_unit_test(test_fmt_rate),          cmocka_unit_test(test_fmt_bytes_rate),
        cmocka_unit_test(test_fmt_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
