/*
 * Subject syntax and matching (spec 2.1, 2.2).
 *
 * A subject is a run of non-empty tokens separated by '.'. Only a whole token "*" or ">" is a
 * wildcard; "foo*" or ">x" are ordinary literal tokens, and ">" may only be the last token. Blank
 * bytes (space, TAB, CR, LF, FF) never appear in a subject; every other byte does, UTF-8 and control
 * bytes included. Every function here runs on the publish path, so each makes a single pass over
 * its input and allocates nothing.
 */
#include "np.h"

#include <limits.h>
#include <string.h>

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* True when s[start..end) is exactly the one-byte token w. */
static bool
token_is(const char *s, size_t start, size_t end, char w)
{
    return end - start == 1 && s[start] == w;
}

/*
 * The shared scan behind the validity checks. Returns false for an invalid subject; otherwise sets
 * *wild when some token is a wildcard.
 */
static bool
scan(const char *s, size_t len, bool *wild)
{
    *wild = false;
    if (!s || len == 0) return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (is_blank(s[i])) return false;
            continue;
        }
        if (i == start) return false;
        bool fwc = token_is(s, start, i, '>');
        /* A '>' with more tokens after it would match nothing sensible, so NATS refuses it. */
        if (fwc && i < len) return false;
        if (fwc || token_is(s, start, i, '*')) *wild = true;
        start = i + 1;
    }
    return true;
}

bool
np_subject_valid(const char *s, size_t len)
{
    bool wild;
    return scan(s, len, &wild);
}

bool
np_subject_valid_literal(const char *s, size_t len)
{
    bool wild;
    return scan(s, len, &wild) && !wild;
}

bool
np_subject_has_wildcard(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '*' && s[i] != '>') continue;
        if ((i == 0 || s[i - 1] == '.') && (i + 1 == len || s[i + 1] == '.')) return true;
    }
    return false;
}

/* Returns the end of the token that starts at s[start]: the next '.' or len. */
static size_t
token_end(const char *s, size_t len, size_t start)
{
    size_t i = start;
    while (i < len && s[i] != '.')
        i++;
    return i;
}

/* True when subject[from..len), which starts at a '.' or is empty, has no empty token. */
static bool
no_empty_token(const char *s, size_t from, size_t len)
{
    for (size_t i = from; i < len; i++) {
        if (s[i] == '.' && (i + 1 == len || s[i + 1] == '.')) return false;
    }
    return true;
}

/*
 * Both strings are walked token by token in step. An empty token on either side fails the match,
 * so a malformed subject (e.g. a reply subject "a..b") matches nothing.
 */
bool
np_subject_match(const char *pattern, size_t plen, const char *subject, size_t slen)
{
    if (plen == 0 || slen == 0) return false;
    size_t pi = 0, si = 0;
    for (;;) {
        size_t pe = token_end(pattern, plen, pi);
        size_t se = token_end(subject, slen, si);
        if (pe == pi || se == si) return false;
        if (token_is(pattern, pi, pe, '>')) return pe == plen && no_empty_token(subject, se, slen);
        if (!token_is(pattern, pi, pe, '*')) {
            if (pe - pi != se - si) return false;
            for (size_t k = 0; k < pe - pi; k++) {
                if (pattern[pi + k] != subject[si + k]) return false;
            }
        }
        if (pe == plen || se == slen) return pe == plen && se == slen;
        pi = pe + 1;
        si = se + 1;
    }
}

/* Walks both patterns token by token: a '>' on either side swallows the rest of the other. */
bool
np_subject_intersect(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == 0 || blen == 0) return false;
    size_t ai = 0, bi = 0;
    for (;;) {
        size_t ae = token_end(a, alen, ai);
        size_t be = token_end(b, blen, bi);
        if (ae == ai || be == bi) return false;
        if (token_is(a, ai, ae, '>') || token_is(b, bi, be, '>')) return true;
        bool wild = token_is(a, ai, ae, '*') || token_is(b, bi, be, '*');
        if (!wild && (ae - ai != be - bi || memcmp(a + ai, b + bi, ae - ai) != 0)) return false;
        if (ae == alen || be == blen) return ae == alen && be == blen;
        ai = ae + 1;
        bi = be + 1;
    }
}

/*
 * Walks both in step: a '>' in pattern covers whatever tokens remain; otherwise a wildcard token in
 * sub needs the same wildcard in pattern, and a literal token in sub a '*' or the same literal.
 */
bool
np_subject_subset(const char *sub, size_t slen, const char *pattern, size_t plen)
{
    if (!np_subject_valid(sub, slen) || !np_subject_valid(pattern, plen)) return false;
    size_t si = 0, pi = 0;
    for (;;) {
        size_t se = token_end(sub, slen, si);
        size_t pe = token_end(pattern, plen, pi);
        if (token_is(pattern, pi, pe, '>')) return true;
        if (token_is(sub, si, se, '>')) return false;
        if (token_is(sub, si, se, '*')) {
            if (!token_is(pattern, pi, pe, '*')) return false;
        } else if (!token_is(pattern, pi, pe, '*') &&
                   (se - si != pe - pi || memcmp(sub + si, pattern + pi, se - si) != 0)) {
            return false;
        }
        if (se == slen || pe == plen) return se == slen && pe == plen;
        si = se + 1;
        pi = pe + 1;
    }
}

int
np_subject_tokens(const char *s, size_t len, struct np_str *tokens, size_t max)
{
    size_t n = 0, start = 0;
    bool overflow = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        if (i == start) return NP_ESUBJECT;
        /* Past max the scan goes on, so an empty token later still reports NP_ESUBJECT. */
        if (n < max && n < (size_t)INT_MAX)
            tokens[n] = (struct np_str){s + start, i - start};
        else
            overflow = true;
        n++;
        start = i + 1;
    }
    return overflow ? NP_ENOSPACE : (int)n;
}
