/*
 * The subject rules are those of libproto/np_subject.c (which answers only yes or no), walked
 * once more to name the first rule broken; the refusal is rare, so the second pass costs nothing.
 */
#include "cli_check.h"

#include <stdio.h>
#include <string.h>

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

const char *
cli_subject_problem(const char *s, size_t len, bool wildcards)
{
    if (!s || len == 0) return "empty subject";
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (is_blank(s[i])) return "blank character (space, tab or line break)";
            continue;
        }
        if (i == start) return "empty token (a leading, trailing or doubled '.')";
        bool one = i - start == 1;
        if (one && s[start] == '>' && i < len) return "'>' must be the last token";
        if (one && (s[start] == '*' || s[start] == '>') && !wildcards)
            return "wildcard token ('*' or '>'): publish subjects must be literal";
        start = i + 1;
    }
    return NULL;
}

bool
cli_subject_check(const char *what, const char *s, bool wildcards, size_t others, char *msg,
                  size_t cap)
{
    size_t len = strlen(s);
    const char *why = cli_subject_problem(s, len, wildcards);
    if (why) {
        snprintf(msg, cap, "invalid %s '%.64s%s': %s", what, s, len > 64 ? "..." : "", why);
        return false;
    }
    size_t room = others < NP_MAX_CONTROL_LINE ? NP_MAX_CONTROL_LINE - others : 0;
    if (len > room) {
        snprintf(msg, cap, "%s too long (%zu > %zu bytes: the control line limit is %d)", what, len,
                 room, NP_MAX_CONTROL_LINE);
        return false;
    }
    return true;
}

const char *
cli_header_add(struct cli_msg *m, const char *kv)
{
    if (m->nheaders == CLI_MSG_MAX_HEADERS) return "too many headers (at most 64)";
    if (cli_msg_add_header(m, kv) != 0) return "want KEY:VALUE with a non-empty key without blanks";
    return NULL;
}

size_t
cli_digits(unsigned long long v)
{
    size_t n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

size_t
cli_pub_args(size_t reply_len, size_t hdr_len, size_t total)
{
    return (reply_len ? 1 + reply_len : 0) + (hdr_len ? 1 + cli_digits(hdr_len) : 0) + 1 +
           cli_digits(total);
}

void
cli_payload_problem(const struct np_client *c, size_t hdr_len, size_t data_len, char *msg,
                    size_t cap)
{
    const struct np_info *info = c ? np_client_info(c) : NULL;
    long long max = info && info->max_payload > 0 ? (long long)info->max_payload : NP_MAX_PAYLOAD;
    snprintf(msg, cap, "payload %zu bytes%s > max_payload %lld", hdr_len + data_len,
             hdr_len ? " (headers included)" : "", max);
}
