/*
 * RFC 3339 times. The calendar arithmetic is the proleptic Gregorian one on day counts relative
 * to 1970-01-01, computed per 400-year era (146097 days) so no loop over years is needed and no
 * libc time function, which would depend on TZ and the locale, is involved.
 */
#include "np_time.h"
#include "np.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_SEC   1000000000LL
#define SECS_PER_DAY 86400LL
#define DAYS_PER_ERA 146097LL
#define ZERO_TIME    "0001-01-01T00:00:00Z"
#define EPOCH_SHIFT  719468LL /* days from 0000-03-01 to 1970-01-01 */

struct civil {
    int64_t year;
    int month, day;
};

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a date; years start in March so that the leap day comes last. */
static int64_t
days_from_civil(struct civil c)
{
    int64_t y = c.month <= 2 ? c.year - 1 : c.year;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = c.month > 2 ? c.month - 3 : c.month + 9;
    int64_t doy = (153 * mp + 2) / 5 + c.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
}

static struct civil
civil_from_days(int64_t days)
{
    int64_t z = days + EPOCH_SHIFT;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    struct civil c;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2);
    return c;
}

/* Writes the fraction ".845222204" without trailing zeros into out; returns its length. */
static size_t
format_fraction(int64_t frac, char *out)
{
    if (frac == 0) return 0;
    char digits[10];
    snprintf(digits, sizeof digits, "%09lld", (long long)frac);
    size_t n = 9;
    while (digits[n - 1] == '0')
        n--;
    out[0] = '.';
    memcpy(out + 1, digits, n);
    return n + 1;
}

size_t
np_time_format(int64_t unix_ns, char *buf, size_t cap)
{
    char text[NP_TIME_MAX];
    int n;
    if (unix_ns == 0) {
        n = snprintf(text, sizeof text, "%s", ZERO_TIME);
    } else {
        int64_t secs = floor_div(unix_ns, NS_PER_SEC);
        int64_t frac = unix_ns % NS_PER_SEC; /* not unix_ns - secs * 1e9: that overflows */
        if (frac < 0) frac += NS_PER_SEC;
        int64_t days = floor_div(secs, SECS_PER_DAY);
        int64_t sod = secs - days * SECS_PER_DAY;
        struct civil c = civil_from_days(days);
        char fr[11];
        fr[format_fraction(frac, fr)] = '\0';
        n = snprintf(text, sizeof text, "%04lld-%02d-%02dT%02d:%02d:%02d%sZ", (long long)c.year,
                     c.month, c.day, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), fr);
    }
    size_t len = n > 0 ? (size_t)n : 0;
    if (cap > 0) {
        size_t copy = len < cap ? len : cap - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return len;
}

/* Reads exactly n decimal digits at s; false when one is not a digit. */
static bool
digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool
leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && leap(year) ? 29 : days[month - 1];
}

struct stamp {
    struct civil date;
    int hour, min, sec;
    int64_t frac;       /* ns */
    int64_t offset_sec; /* local time minus UTC */
};

/* "YYYY-MM-DDTHH:MM:SS" at the start of s (19 bytes, length checked by the caller). */
static bool
parse_date_time(const char *s, struct stamp *t)
{
    int year;
    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &t->date.month) || s[7] != '-' ||
        !digits(s + 8, 2, &t->date.day) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &t->hour) || s[13] != ':' || !digits(s + 14, 2, &t->min) ||
        s[16] != ':' || !digits(s + 17, 2, &t->sec))
        return false;
    t->date.year = year;
    if (t->date.month < 1 || t->date.month > 12) return false;
    if (t->date.day < 1 || t->date.day > month_days(t->date.year, t->date.month)) return false;
    return t->hour <= 23 && t->min <= 59 && t->sec <= 59;
}

/* ".ddd" at s[*pos] if present: 1 to 9 digits, scaled to ns. */
static bool
parse_fraction(const char *s, size_t len, size_t *pos, int64_t *frac)
{
    *frac = 0;
    if (*pos >= len || s[*pos] != '.') return true;
    size_t start = ++*pos, n = 0;
    while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9' && n < 10) {
        *frac = *frac * 10 + (s[*pos] - '0');
        ++*pos;
        n++;
    }
    if (n == 0 || n > 9) return false;
    for (size_t i = *pos - start; i < 9; i++)
        *frac *= 10;
    return true;
}

/* The rest of s from pos: "Z" or "+hh:mm" / "-hh:mm", and nothing after it. */
static bool
parse_offset(const char *s, size_t len, size_t pos, int64_t *offset_sec)
{
    *offset_sec = 0;
    if (len - pos == 1) return s[pos] == 'Z' || s[pos] == 'z';
    int hh, mm;
    if (len - pos != 6 || (s[pos] != '+' && s[pos] != '-') || !digits(s + pos + 1, 2, &hh) ||
        s[pos + 3] != ':' || !digits(s + pos + 4, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *offset_sec = (hh * 3600LL + mm * 60LL) * (s[pos] == '-' ? -1 : 1);
    return true;
}

/* The instant in ns; false when it does not fit an int64. */
static bool
to_unix_ns(const struct stamp *t, int64_t *out)
{
    int64_t secs = days_from_civil(t->date) * SECS_PER_DAY + t->hour * 3600LL + t->min * 60LL +
                   t->sec - t->offset_sec;
    int64_t frac = t->frac, ns;
    if (secs < 0 && frac > 0) {
        /* Borrow a second so that the earliest instants do not overflow before the addition. */
        secs++;
        frac -= NS_PER_SEC;
    }
    if (__builtin_mul_overflow(secs, NS_PER_SEC, &ns)) return false;
    return !__builtin_add_overflow(ns, frac, out);
}

static bool
is_zero_time(const struct stamp *t)
{
    return t->date.year == 1 && t->date.month == 1 && t->date.day == 1 && t->hour == 0 &&
           t->min == 0 && t->sec == 0 && t->frac == 0 && t->offset_sec == 0;
}

int
np_time_parse(const char *s, size_t len, int64_t *unix_ns)
{
    struct stamp t;
    size_t pos = 19;
    if (!s || len < 20 || !parse_date_time(s, &t)) return NP_EINVAL;
    if (!parse_fraction(s, len, &pos, &t.frac) || pos >= len) return NP_EINVAL;
    if (!parse_offset(s, len, pos, &t.offset_sec)) return NP_EINVAL;
    int64_t ns;
    if (is_zero_time(&t)) {
        ns = 0;
    } else if (!to_unix_ns(&t, &ns)) {
        return NP_EINVAL;
    }
    *unix_ns = ns;
    return 0;
}
