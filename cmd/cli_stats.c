/*
 * Bench report helpers. The stddev is the population one because a bench run reports on all of
 * its clients, not on a sample of them, and it stays in the unit of the inputs (natscli once mixed
 * units here).
 *
 * The unit formatters decide on the unit after printing, not before: whether 999.96 shows as
 * "1000.0" depends on printf's rounding of the binary value, so the printed text is what is
 * checked against the unit's limit.
 */
#include "cli_stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cli_stats_of(const double *xs, size_t n, struct cli_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!n) return;
    out->n = n;
    out->min = out->max = xs[0];
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (xs[i] < out->min) out->min = xs[i];
        if (xs[i] > out->max) out->max = xs[i];
        sum += xs[i];
    }
    out->avg = sum / (double)n;
    double dev = 0;
    for (size_t i = 0; i < n; i++)
        dev += (xs[i] - out->avg) * (xs[i] - out->avg);
    out->stddev = sqrt(dev / (double)n);
}

void
cli_fmt_rate(double per_sec, char *buf, size_t cap)
{
    uint64_t v = 0;
    if (per_sec >= 18446744073709551615.0)
        v = UINT64_MAX;
    else if (per_sec > 0)
        v = (uint64_t)round(per_sec);
    char digits[24], out[32];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, cap, "%s", out);
}

void
cli_fmt_bytes_rate(double bytes_per_sec, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    const size_t last = sizeof units / sizeof units[0] - 1;
    double v = bytes_per_sec > 0 ? bytes_per_sec : 0;
    char num[64];
    size_t u = 0;
    for (;; u++, v /= 1024) {
        snprintf(num, sizeof num, "%.*f", u ? 2 : 0, v);
        if (u == last || strtod(num, NULL) < 1024) break;
    }
    snprintf(buf, cap, "%s %s/s", num, units[u]);
}

/* Prints v with 3 significant digits into num if that stays below 1000; returns false if not. */
static bool
three_digits(double v, char *num, size_t cap)
{
    for (int prec = 2, limit = 10; prec >= 0; prec--, limit *= 10) {
        snprintf(num, cap, "%.*f", prec, v);
        if (strtod(num, NULL) < limit) return true;
    }
    return false;
}

void
cli_fmt_latency(uint64_t ns, char *buf, size_t cap)
{
    static const char *const units[] = {"µs", "ms", "s"};
    static const double scale[] = {1e3, 1e6, 1e9};
    if (ns < 1000) {
        snprintf(buf, cap, "%" PRIu64 "ns", ns);
        return;
    }
    char num[32];
    for (size_t u = 0; u < 3; u++) {
        if (three_digits((double)ns / scale[u], num, sizeof num)) {
            snprintf(buf, cap, "%s%s", num, units[u]);
            return;
        }
    }
    snprintf(buf, cap, "%.0fs", (double)ns / 1e9);
}
