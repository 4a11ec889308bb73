/*
 * The streaming JSON writer (see nb_jw.h).
 */
#include "nb_jw.h"
#include "np_time.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
nb_jw_init(struct nb_jw *w, struct np_buf *b, bool pretty)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    w->pretty = pretty;
    w->empty[0] = true;
}

bool
nb_jw_failed(const struct nb_jw *w)
{
    return w->failed;
}

static void
put(struct nb_jw *w, const char *s, size_t n)
{
    if (!w->failed && np_buf_add(w->b, s, n) != 0) w->failed = true;
}

static void
puts_(struct nb_jw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void
newline(struct nb_jw *w)
{
    static const char spaces[] = "                                                                ";
    if (!w->pretty) return;
    put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
        put(w, spaces, 2);
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    if (s[0] < 0xc2 || s[0] > 0xf4 || n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
    }
    if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) return 0;
    if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 0;
    return len;
}

static void
escape(struct nb_jw *w, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && !strchr("\"\\<>&", s[run]))
            run++;
        if (run > i) {
            put(w, (const char *)s + i, run - i);
            i = run;
            continue;
        }
        if (ch >= 0x80) {
            size_t len = utf8_len(s + i, n - i);
            put(w, len ? (const char *)s + i : "\\ufffd", len ? len : 6);
            i += len ? len : 1;
            continue;
        }
        const char *short_esc = ch == '"'    ? "\\\""
                                : ch == '\\' ? "\\\\"
                                : ch == '\n' ? "\\n"
                                : ch == '\r' ? "\\r"
                                : ch == '\t' ? "\\t"
                                             : NULL;
        if (short_esc) {
            put(w, short_esc, 2);
        } else {
            char esc[7];
            snprintf(esc, sizeof esc, "\\u00%c%c", hex[ch >> 4], hex[ch & 15]);
            put(w, esc, 6);
        }
        i++;
    }
    put(w, "\"", 1);
}

/* The separator, line break and member name before a value. */
static void
member(struct nb_jw *w, const char *key)
{
    if (!w->empty[w->depth]) put(w, ",", 1);
    w->empty[w->depth] = false;
    if (w->depth > 0) newline(w);
    if (!key) return;
    escape(w, (const unsigned char *)key, strlen(key));
    puts_(w, w->pretty ? ": " : ":");
}

static void
open_(struct nb_jw *w, const char *key, const char *bracket)
{
    member(w, key);
    puts_(w, bracket);
    if (w->depth + 1 >= NB_JW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    w->empty[++w->depth] = true;
}

static void
close_(struct nb_jw *w, const char *bracket)
{
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    bool was_empty = w->empty[w->depth--];
    if (!was_empty) newline(w);
    puts_(w, bracket);
}

void
nb_jw_obj(struct nb_jw *w, const char *key)
{
    open_(w, key, "{");
}

void
nb_jw_arr(struct nb_jw *w, const char *key)
{
    open_(w, key, "[");
}

void
nb_jw_end_obj(struct nb_jw *w)
{
    close_(w, "}");
}

void
nb_jw_end_arr(struct nb_jw *w)
{
    close_(w, "]");
}

void
nb_jw_strn(struct nb_jw *w, const char *key, const char *s, size_t n)
{
    member(w, key);
    escape(w, (const unsigned char *)s, n);
}

void
nb_jw_str(struct nb_jw *w, const char *key, const char *s)
{
    nb_jw_strn(w, key, s ? s : "", s ? strlen(s) : 0);
}

void
nb_jw_u64(struct nb_jw *w, const char *key, uint64_t v)
{
    char num[24];
    member(w, key);
    put(w, num, (size_t)snprintf(num, sizeof num, "%" PRIu64, v));
}

void
nb_jw_i64(struct nb_jw *w, const char *key, int64_t v)
{
    char num[24];
    member(w, key);
    put(w, num, (size_t)snprintf(num, sizeof num, "%" PRId64, v));
}

void
nb_jw_f64(struct nb_jw *w, const char *key, double v)
{
    char num[32];
    if (!isfinite(v)) v = 0; /* JSON has no NaN or infinity */
    int n = 0, prec = 1;
    for (; prec <= 17; prec++) {
        n = snprintf(num, sizeof num, "%.*g", prec, v);
        if (strtod(num, NULL) == v) break;
    }
    /* Go writes plain decimals between 1e-6 and 1e21, where %g may have chosen an exponent. */
    double mag = fabs(v);
    if (strchr(num, 'e') && mag >= 1e-6 && mag < 1e21) {
        int decimals = prec - 1 - (int)floor(log10(mag));
        n = snprintf(num, sizeof num, "%.*f", decimals > 0 ? decimals : 0, v);
    }
    member(w, key);
    put(w, num, (size_t)n);
}

void
nb_jw_bool(struct nb_jw *w, const char *key, bool v)
{
    member(w, key);
    puts_(w, v ? "true" : "false");
}

void
nb_jw_null(struct nb_jw *w, const char *key)
{
    member(w, key);
    puts_(w, "null");
}

void
nb_jw_time(struct nb_jw *w, const char *key, int64_t unix_ns)
{
    char t[NP_TIME_MAX];
    np_time_format(unix_ns, t, sizeof t);
    nb_jw_str(w, key, t);
}

void
nb_jw_cjson(struct nb_jw *w, const char *key, const cJSON *v)
{
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        open_(w, key, cJSON_IsObject(v) ? "{" : "[");
        for (const cJSON *c = v->child; c; c = c->next)
            nb_jw_cjson(w, cJSON_IsObject(v) ? c->string : NULL, c);
        close_(w, cJSON_IsObject(v) ? "}" : "]");
    } else if (cJSON_IsString(v)) {
        nb_jw_str(w, key, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        nb_jw_bool(w, key, cJSON_IsTrue(v));
    } else if (cJSON_IsRaw(v)) {
        member(w, key); /* exact 64-bit numbers are kept as raw text (nb__json_u64) */
        puts_(w, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        nb_jw_f64(w, key, v->valuedouble);
    } else {
        nb_jw_null(w, key);
    }
}
