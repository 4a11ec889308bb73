/*
 * libFuzzer target for server URLs (libproto/np_url.c): np_url_parse, np_url_parse_route and
 * np_url_redact.
 *
 * The input is one NUL-terminated string. Checked beyond "no crash, no over-read, no leak": a
 * parsed URL has a host and a port in range, a refusal is an NP_EURL* code (or NP_ENOMEM) and
 * leaves nothing allocated, a parsed host and port written back as nats://host:port parse to the
 * same, redaction stays inside the buffer it is given (an exact-size heap copy, so ASan sees one
 * byte too many) and redacting a redacted text changes nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reparse(const struct np_url *u)
{
    size_t cap = strlen(u->host) + 32;
    char *text = malloc(cap);
    if (!text) return;
    const char *fmt = strchr(u->host, ':') ? "nats://[%s]:%d" : "nats://%s:%d";
    snprintf(text, cap, fmt, u->host, u->port);
    struct np_url again;
    if (np_url_parse(&again, text) != 0) abort();
    if (strcmp(again.host, u->host) != 0 || again.port != u->port) abort();
    if (again.user || again.pass) abort();
    np_url_release(&again);
    free(text);
}

static void
fuzz_parse(const char *text)
{
    struct np_url u;
    int rc = np_url_parse(&u, text);
    if (rc != 0) {
        if (rc != NP_ENOMEM && !np_err_is_url(rc)) abort();
        if (u.host || u.user || u.pass) abort();
        return;
    }
    if (!u.host || !*u.host || u.port < 1 || u.port > 65535) abort();
    check_reparse(&u);
    np_url_release(&u);
}

/* A route URL parses as a client URL with the other scheme, or fails; it always has a port. */
static void
fuzz_route(const char *text)
{
    struct np_url u;
    int rc = np_url_parse_route(&u, text);
    if (rc != 0) {
        if (rc != NP_ENOMEM && !np_err_is_url(rc)) abort();
        if (u.host || u.user || u.pass) abort();
        return;
    }
    if (!u.host || !*u.host || u.port < 1 || u.port > 65535) abort();
    check_reparse(&u);
    np_url_release(&u);
}

static void
fuzz_redact(const char *text, size_t len)
{
    size_t cap = len % 7 == 0 ? len / 2 + 1 : len * 2 + 8;
    char *out = malloc(cap), *again = malloc(cap);
    if (!out || !again) abort();
    np_url_redact(text, out, cap);
    size_t n = strnlen(out, cap);
    if (n == cap) abort();
    if (n + 1 < cap) {
        np_url_redact(out, again, cap);
        if (strcmp(out, again) != 0) abort();
    }
    free(out);
    free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_parse(text);
    fuzz_route(text);
    fuzz_redact(text, strlen(text));
    free(text);
    return 0;
}
