/*
 * Sizes and durations. Overflow is checked before every multiplication and addition rather than
 * detected afterwards, since signed overflow in C is undefined.
 */
#include "np_units.h"
#include "np.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The multiplier of a size suffix, 0 when s[0..n) is not one. */
static int64_t
size_multiplier(const char *s, size_t n)
{
    static const char letters[] = "kmgtpe";
    if (n == 0) return 1;
    if (n == 1 && lower(s[0]) == 'b') return 1;
    const char *l = memchr(letters, lower(s[0]), sizeof letters - 1);
    if (!l) return 0;
    int64_t base;
    if (n == 1)
        base = 1000;
    else if ((n == 2 && (lower(s[1]) == 'b' || lower(s[1]) == 'i')) ||
             (n == 3 && lower(s[1]) == 'i' && lower(s[2]) == 'b'))
        base = 1024;
    else
        return 0;
    int64_t v = 1;
    for (long power = l - letters + 1; power > 0; power--)
        v *= base;
    return v;
}

int
np_size_parse(const char *s, size_t len, int64_t *out)
{
    size_t i = len > 0 && s[0] == '-';
    size_t d = i;
    while (d < len && is_digit(s[d]))
        d++;
    if (d == i) return NP_ESIZE_SUFFIX;
    int64_t mult = size_multiplier(s + d, len - d);
    if (mult == 0) return NP_ESIZE_SUFFIX;
    int64_t v = 0; /* accumulated negatively: INT64_MIN has no positive twin */
    for (size_t k = i; k < d; k++) {
        int digit = s[k] - '0';
        if (v < (INT64_MIN + digit) / 10) return NP_ERANGE;
        v = v * 10 - digit;
    }
    if (i == 0) {
        if (v == INT64_MIN) return NP_ERANGE;
        v = -v;
    }
    if (v > INT64_MAX / mult || v < INT64_MIN / mult) return NP_ERANGE;
    *out = v * mult;
    return 0;
}

/* Nanoseconds per unit for the unit s[0..n), or 0. */
static int64_t
duration_unit(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1},       {"us", 1000},      {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
                 {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000}};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (strlen(units[u].name) == n && memcmp(units[u].name, s, n) == 0) return units[u].ns;
    return 0;
}

/* One "<number><unit>" at s[*i..len), added to *total. */
static int
duration_segment(const char *s, size_t len, size_t *i, int64_t *total)
{
    int64_t whole = 0, frac = 0, scale = 1;
    bool digits = false;
    size_t p = *i;
    for (; p < len && is_digit(s[p]); p++, digits = true) {
        if (whole > (INT64_MAX - 9) / 10) return NP_ERANGE;
        whole = whole * 10 + (s[p] - '0');
    }
    if (p < len && s[p] == '.') {
        for (p++; p < len && is_digit(s[p]); p++, digits = true) {
            if (scale < 1000000000) { /* finer than a nanosecond cannot matter */
                frac = frac * 10 + (s[p] - '0');
                scale *= 10;
            }
        }
    }
    size_t u = p;
    while (u < len && s[u] != '.' && !is_digit(s[u]))
        u++;
    int64_t unit = duration_unit(s + p, u - p);
    if (!digits || unit == 0) return NP_EDURATION;
    /* frac < scale, so this part stays below unit and cannot overflow */
    int64_t part = frac * (unit / scale) + frac * (unit % scale) / scale;
    if (whole > (INT64_MAX - part) / unit) return NP_ERANGE;
    part += whole * unit;
    if (part > INT64_MAX - *total) return NP_ERANGE;
    *total += part;
    *i = u;
    return 0;
}

int
np_duration_parse(const char *s, size_t len, int64_t *ns)
{
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (len > 0 && (s[0] == '-' || s[0] == '+')) i++;
    if (len - i == 1 && s[i] == '0') {
        *ns = 0;
        return 0;
    }
    if (i == len) return NP_EDURATION;
    int64_t total = 0;
    while (i < len) {
        int rc = duration_segment(s, len, &i, &total);
        if (rc != 0) return rc;
    }
    *ns = neg ? -total : total;
    return 0;
}

/* Appends s to buf at *len, cutting it at cap (buf stays terminated). */
static void
append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap) n = cap - *len - 1;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

void
np_duration_format(int64_t ns, char *buf, size_t cap)
{
    static const struct {
        int64_t unit;
        const char *name;
        int digits;
    } small[] = {{1000000, "ms", 6}, {1000, "\xc2\xb5s", 3}, {1, "ns", 0}};
    const int64_t sec = 1000000000;
    int64_t unit = sec;
    const char *name = "s";
    int digits = 9;
    size_t len = 0;
    char part[48];
    if (cap == 0) return;
    buf[0] = '\0';
    if (ns <= 0) {
        append(buf, cap, &len, "0s");
        return;
    }
    if (ns < sec) {
        size_t i = 0;
        while (ns < small[i].unit)
            i++;
        unit = small[i].unit, name = small[i].name, digits = small[i].digits;
    } else {
        int64_t h = ns / (3600 * sec), m = ns / (60 * sec) % 60;
        snprintf(part, sizeof part, "%" PRId64 "h", h);
        if (h) append(buf, cap, &len, part);
        snprintf(part, sizeof part, "%" PRId64 "m", m);
        if (h || m) append(buf, cap, &len, part);
        ns %= 60 * sec;
    }
    int64_t frac = ns % unit;
    snprintf(part, sizeof part, "%" PRId64, ns / unit);
    append(buf, cap, &len, part);
    if (frac) {
        while (frac % 10 == 0)
            frac /= 10, digits--;
        snprintf(part, sizeof part, ".%0*" PRId64, digits, frac);
        append(buf, cap, &len, part);
    }
    append(buf, cap, &len, name);
}
