/*
 * Numbers in option values and environment variables. Sizes and durations are parsed by libproto
 * (np_units), as the broker's configuration is, so a unit means the same on the command line and
 * in a config file; this file only adapts them to what options accept.
 */
#include "cli.h"
#include "np_units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
cli_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

bool
cli_parse_size(const char *s, long long *out)
{
    int64_t v;
    if (np_size_parse(s, strlen(s), &v) != 0 || v < 0) return false;
    *out = v;
    return true;
}

bool
cli_parse_duration(const char *s, uint64_t *ms)
{
    char secs[64];
    size_t n = strlen(s);
    int64_t ns;
    if (n == 0 || s[0] == '-' || s[0] == '+') return false;
    /* A bare number is seconds, but only as the whole value. */
    if (strspn(s, "0123456789.") == n) {
        if (n + 2 > sizeof secs) return false;
        snprintf(secs, sizeof secs, "%ss", s);
        s = secs;
        n++;
    }
    if (np_duration_parse(s, n, &ns) != 0) return false;
    *ms = (uint64_t)(ns / 1000000 + (ns % 1000000 != 0));
    return true;
}
