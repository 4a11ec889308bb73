/*
 * The HDR histogram behind `natsctl bench` latencies.
 *
 * Geometry. A value v is first scaled to u = v >> unit_shift. With S = sub_bits, bucket b holds
 * the u whose bit length is S + b (bucket 0 also holds every shorter u), and inside it u is
 * located by its top S bits, sub = u >> b. In buckets above 0, sub is always in [2^(S-1), 2^S),
 * so only that upper half needs slots, and the slot index b * 2^(S-1) + sub is contiguous and
 * increasing in v across buckets. A slot then spans 2^(b + unit_shift) values starting at
 * sub << (b + unit_shift).
 *
 * Error bound. Above bucket 0 a slot's width is at most its start over 2^(S-1); S is the smallest
 * with 2^(S-1) >= 10^sigfigs, hence the relative error. In bucket 0 the width is 2^unit_shift,
 * which is chosen at most lowest / 2^(S-1) so the bound also holds for the smallest values.
 *
 * Slots below the one of `lowest` can never be hit (values are clamped up to it), so counts[]
 * starts there.
 */
#include "cli_hist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned
bit_length(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* The slot of v in the unshifted index space (counts[] is offset by h->base). */
static size_t
slot_of(const struct cli_hist *h, uint64_t v)
{
    uint64_t u = v >> h->unit_shift;
    unsigned len = bit_length(u);
    unsigned b = len > h->sub_bits ? len - h->sub_bits : 0;
    return ((size_t)b << (h->sub_bits - 1)) + (size_t)(u >> b);
}

/* The first value of slot i (unshifted) and, in *width, how many values it spans. */
static uint64_t
slot_start(const struct cli_hist *h, size_t i, uint64_t *width)
{
    size_t b = i >> (h->sub_bits - 1);
    b = b ? b - 1 : 0;
    uint64_t sub = (uint64_t)(i - (b << (h->sub_bits - 1)));
    unsigned shift = (unsigned)b + h->unit_shift;
    *width = (uint64_t)1 << shift;
    return sub << shift;
}

static double
slot_mid(const struct cli_hist *h, size_t i)
{
    uint64_t width;
    uint64_t start = slot_start(h, i, &width);
    return (double)start + (double)(width - 1) / 2;
}

int
cli_hist_init(struct cli_hist *h, uint64_t lowest, uint64_t highest, int sigfigs)
{
    memset(h, 0, sizeof *h);
    if (lowest < 1 || highest < lowest || sigfigs < 1 || sigfigs > 5) return -EINVAL;
    uint64_t half = 1;
    for (int i = 0; i < sigfigs; i++)
        half *= 10;
    h->sub_bits = bit_length(half - 1) + 1;
    unsigned low_bits = bit_length(lowest) - 1;
    h->unit_shift = low_bits > h->sub_bits - 1 ? low_bits - (h->sub_bits - 1) : 0;
    h->lowest = lowest;
    h->highest = highest;
    h->sigfigs = sigfigs;
    h->base = slot_of(h, lowest);
    size_t len = slot_of(h, highest) - h->base + 1;
    h->counts = calloc(len, sizeof *h->counts);
    if (!h->counts) {
        memset(h, 0, sizeof *h);
        return -ENOMEM;
    }
    h->counts_len = len;
    h->min = UINT64_MAX;
    return 0;
}

void
cli_hist_release(struct cli_hist *h)
{
    free(h->counts);
    memset(h, 0, sizeof *h);
}

void
cli_hist_reset(struct cli_hist *h)
{
    memset(h->counts, 0, h->counts_len * sizeof *h->counts);
    h->total = 0;
    h->saturated = 0;
    h->min = UINT64_MAX;
    h->max = 0;
}

void
cli_hist_record(struct cli_hist *h, uint64_t v)
{
    if (v < h->lowest) {
        v = h->lowest;
    } else if (v > h->highest) {
        v = h->highest;
        h->saturated++;
    }
    h->counts[slot_of(h, v) - h->base]++;
    h->total++;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
}

int
cli_hist_merge(struct cli_hist *dst, const struct cli_hist *src)
{
    if (dst->lowest != src->lowest || dst->highest != src->highest || dst->sigfigs != src->sigfigs)
        return -EINVAL;
    for (size_t i = 0; i < dst->counts_len; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->saturated += src->saturated;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    return 0;
}

uint64_t
cli_hist_count(const struct cli_hist *h)
{
    return h->total;
}

uint64_t
cli_hist_saturated(const struct cli_hist *h)
{
    return h->saturated;
}

uint64_t
cli_hist_min(const struct cli_hist *h)
{
    return h->total ? h->min : 0;
}

uint64_t
cli_hist_max(const struct cli_hist *h)
{
    return h->max;
}

double
cli_hist_mean(const struct cli_hist *h)
{
    if (!h->total) return 0;
    double sum = 0;
    for (size_t i = 0; i < h->counts_len; i++)
        if (h->counts[i]) sum += (double)h->counts[i] * slot_mid(h, h->base + i);
    return sum / (double)h->total;
}

/*
 * Two passes (mean first, then squared deviations) because sum-of-squares minus squared sum
 * cancels catastrophically when the spread is small next to values of seconds in ns.
 */
double
cli_hist_stddev(const struct cli_hist *h)
{
    if (!h->total) return 0;
    double mean = cli_hist_mean(h), sum = 0;
    for (size_t i = 0; i < h->counts_len; i++) {
        if (!h->counts[i]) continue;
        double d = slot_mid(h, h->base + i) - mean;
        sum += (double)h->counts[i] * d * d;
    }
    return sqrt(sum / (double)h->total);
}

/*
 * The nearest rank, ceil(p / 100 * n) in [1, n]. A product that is an integer up to rounding
 * noise (99.9% of 1000 computes as 999.0000000000001) counts as that integer, or the rank would
 * step over the sample the caller means.
 */
static uint64_t
rank_of(double p, uint64_t n)
{
    double x = p / 100 * (double)n;
    double r = nearbyint(x);
    uint64_t rank = fabs(x - r) <= x * 1e-12 ? (uint64_t)r : (uint64_t)ceil(x);
    if (rank < 1) return 1;
    return rank > n ? n : rank;
}

uint64_t
cli_hist_percentile(const struct cli_hist *h, double p)
{
    if (!h->total) return 0;
    if (!(p > 0)) p = 0; /* also maps NaN to 0 */
    if (p >= 100) return h->max;
    uint64_t rank = rank_of(p, h->total), seen = 0;
    size_t i = 0;
    while (seen + h->counts[i] < rank)
        seen += h->counts[i++];
    uint64_t width;
    uint64_t top = slot_start(h, h->base + i, &width) + (width - 1);
    return top < h->max ? top : h->max;
}
