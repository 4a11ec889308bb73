/*
 * A High Dynamic Range histogram for latencies in nanoseconds, after Gil Tene's HdrHistogram
 * scheme: values are grouped into power-of-two buckets, each split into the same number of linear
 * sub-buckets, so the width of the slot holding a value grows with the value and the relative error
 * stays bounded across the whole range while recording is one index computation and an increment.
 *
 * Guarantee: every value in [lowest, highest] is reported (by cli_hist_percentile) as a value r with
 * v <= r <= v + v * 10^-sigfigs. Unlike HdrHistogram, `lowest` is a floor, not a resolution unit:
 * the finest slots are made narrow enough that the guarantee also holds right at `lowest`.
 *
 * Clamping: a value below lowest is recorded as lowest; a value above highest is recorded as
 * highest and also counted in cli_hist_saturated(). Every statistic (min, max, mean, percentiles)
 * describes the clamped values.
 *
 * Memory: cli_hist_init() allocates the counts once; nothing else allocates. Not thread-safe: give
 * each thread its own histogram and cli_hist_merge() them afterwards.
 */
#ifndef CLI_HIST_H
#define CLI_HIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Public only so it can be embedded by value; every field is private, use the functions. A zeroed
 * struct may be passed to cli_hist_release().
 */
struct cli_hist {
    uint64_t *counts;    /* one counter per slot, counts[0] is the slot of `lowest` */
    size_t counts_len;   /* number of slots, up to and including the slot of `highest` */
    size_t base;         /* slot index of `lowest` in the unshifted index space */
    uint64_t lowest;     /* values below are recorded as this */
    uint64_t highest;    /* values above are recorded as this and counted as saturated */
    int sigfigs;         /* decimal significant digits kept, 1..5 */
    unsigned unit_shift; /* log2 of the width of the finest slots */
    unsigned sub_bits;   /* log2 of the number of slots in the first bucket */
    uint64_t total;      /* values recorded */
    uint64_t saturated;  /* values recorded that were above highest */
    uint64_t min, max;   /* exact extremes of the clamped values; min is UINT64_MAX when empty */
};

/*
 * Prepares h for values in [lowest, highest] kept to sigfigs significant digits. Requires
 * 1 <= lowest <= highest and 1 <= sigfigs <= 5. Returns 0, -EINVAL for bad arguments or -ENOMEM;
 * on failure h is zeroed, so cli_hist_release() is still safe. Each power of two up to highest
 * costs between 10^sigfigs and 2 * 10^sigfigs 8-byte counters: 1 ns to 100 s takes 220 KiB at 3
 * digits, 3 MiB at 4 and 21 MiB at 5.
 */
int cli_hist_init(struct cli_hist *h, uint64_t lowest, uint64_t highest, int sigfigs);
/* Frees the counts and zeroes h. */
void cli_hist_release(struct cli_hist *h);
/* Forgets every recorded value, keeping the geometry and the memory. */
void cli_hist_reset(struct cli_hist *h);

/* Records one value in constant time without allocating (see the clamping rules above). */
void cli_hist_record(struct cli_hist *h, uint64_t v);
/*
 * Adds every value recorded in src to dst. Both must have been initialised with the same lowest,
 * highest and sigfigs; otherwise returns -EINVAL and leaves dst unchanged. Returns 0 on success.
 */
int cli_hist_merge(struct cli_hist *dst, const struct cli_hist *src);

/* The number of values recorded. */
uint64_t cli_hist_count(const struct cli_hist *h);
/* The number of recorded values that were above highest. */
uint64_t cli_hist_saturated(const struct cli_hist *h);
/* The exact smallest recorded (clamped) value, 0 when empty. */
uint64_t cli_hist_min(const struct cli_hist *h);
/* The exact largest recorded (clamped) value, 0 when empty. */
uint64_t cli_hist_max(const struct cli_hist *h);
/* The mean in ns, computed from slot midpoints; 0 when empty. */
double cli_hist_mean(const struct cli_hist *h);
/* The population standard deviation in ns, computed from slot midpoints; 0 when empty. */
double cli_hist_stddev(const struct cli_hist *h);
/*
 * The p-th percentile, p in [0, 100] (values outside are clamped). The rank is the nearest-rank
 * one, ceil(p / 100 * count) but at least 1, and the result is the highest value of the slot
 * holding that rank, capped at the exact max, so p = 100 gives the max. Returns 0 when empty.
 */
uint64_t cli_hist_percentile(const struct cli_hist *h, double p);

#endif
