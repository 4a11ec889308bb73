/*
 * RFC 3339 timestamps as JetStream writes them (Go's time.RFC3339Nano in UTC), to and from Unix
 * time in nanoseconds. Pure: no clock, no time zone database, no locale.
 */
#ifndef NP_TIME_H
#define NP_TIME_H

#include <stddef.h>
#include <stdint.h>

/* A buffer of this size always holds np_time_format's output and its NUL (int64 ns only spans
 * the years 1677 to 2262, so the text is at most 30 bytes). */
#define NP_TIME_MAX 40

/*
 * Writes unix_ns as "2026-11-28T03:19:31.845222204Z": UTC, the fraction without trailing zeros and
 * left out when zero. 0 is Go's zero time, which JetStream sends for "never" (an empty stream's
 * first_ts), so it renders as "0001-01-01T00:00:00Z". Writes at most cap bytes including a NUL (a
 * cap of 0 writes nothing) and returns the length of the complete text, like snprintf.
 */
size_t np_time_format(int64_t unix_ns, char *buf, size_t cap);

/*
 * Parses s[0..len), "YYYY-MM-DDTHH:MM:SS[.fraction]" then "Z" or "+hh:mm"/"-hh:mm"; the fraction
 * has 1 to 9 digits. Go's zero time "0001-01-01T00:00:00Z" gives 0, like 1970-01-01T00:00:00Z.
 * Returns 0, or NP_EINVAL for anything else, an impossible date or time (leap seconds included),
 * or an instant outside int64 nanoseconds; *unix_ns is then unchanged.
 */
int np_time_parse(const char *s, size_t len, int64_t *unix_ns);

#endif
