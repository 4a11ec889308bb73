/*
 * Byte sizes with suffixes and Go durations, read the way nats-server reads them, for the broker's
 * configuration and the CLI's options alike: one parser each, so `1TB` or `1m30s` means the same
 * wherever it is written. Both take a view (not necessarily NUL-terminated).
 */
#ifndef NP_UNITS_H
#define NP_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses "[-]digits[suffix]": a letter k, m, g, t, p or e alone is a power of 1000, followed by
 * b, i or ib a power of 1024 (1k = 1000, 1kb = 1ki = 1kib = 1024), case-insensitive; "b" alone is
 * bytes. Returns 0, NP_ESIZE_SUFFIX (not a size, or an unknown suffix) or NP_ERANGE (the value
 * does not fit in an int64_t); *out is set only on success.
 */
int np_size_parse(const char *s, size_t len, int64_t *out);

/*
 * Parses a Go duration (time.ParseDuration): "[-+](number unit)+" with units ns, us (µs, μs), ms,
 * s, m, h and decimal fractions ("1.5h", "1m30s", ".5s"), or "0" alone. Digits finer than a
 * nanosecond are dropped. Returns 0, NP_EDURATION or NP_ERANGE (beyond about 292 years); *ns is
 * set only on success.
 */
int np_duration_parse(const char *s, size_t len, int64_t *ns);

/*
 * Writes a positive duration as Go's time.Duration.String() does, the way nats-server prints
 * limits in its messages: "5s", "1m30s", "2m0s", "1.5s", "250ms". buf is always terminated.
 */
void np_duration_format(int64_t ns, char *buf, size_t cap);

#endif
