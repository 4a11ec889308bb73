/*
 * Summary statistics and number formatting for `natsctl bench` reports. The formatters ignore the
 * locale on purpose: reports look the same everywhere and scripts can parse them. Each formatter
 * writes at most cap bytes including the NUL, truncating like snprintf.
 */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include <stddef.h>
#include <stdint.h>

/* min, avg, max and population stddev of n values, all in the unit of the values. */
struct cli_stats {
    double min, avg, max, stddev;
    size_t n;
};

/* Summarises xs[0..n); n == 0 gives all zeros (xs may then be NULL). */
void cli_stats_of(const double *xs, size_t n, struct cli_stats *out);

/* A rate rounded to a whole number with thousands separators: "1,234,567". Negatives print 0. */
void cli_fmt_rate(double per_sec, char *buf, size_t cap);
/*
 * A byte rate in binary units: "100 B/s" below 1 KiB/s, otherwise two decimals in the largest unit
 * (KiB .. EiB) that keeps the printed number below 1024: "512.00 KiB/s", "12.34 MiB/s".
 */
void cli_fmt_bytes_rate(double bytes_per_sec, char *buf, size_t cap);
/*
 * A duration in the unit (ns, µs, ms, s) that keeps the number below 1000, with 3 significant
 * digits: "850ns", "12.3µs", "1.25ms", "2.50s". Nanoseconds are exact; from 1000 s on it prints
 * whole seconds ("3600s").
 */
void cli_fmt_latency(uint64_t ns, char *buf, size_t cap);

#endif
