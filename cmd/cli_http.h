/*
 * A minimal HTTP/1.0 GET for the shell's :stats, against a server's monitoring port. Blocking but
 * bounded: every step (name lookup excepted for numeric hosts, connect, send, receive) shares one
 * deadline, so an unreachable endpoint costs at most the budget, never a hung shell.
 */
#ifndef CLI_HTTP_H
#define CLI_HTTP_H

#include <stddef.h>

/*
 * Fetches url ("http://HOST[:PORT][/PATH]", port 80 by default) within timeout_ms. Returns 0 with
 * *status the HTTP status and *body the malloc'd body (NUL-terminated, at most 1 MiB), or -1 with
 * a one-line reason in err.
 */
int cli_http_get(const char *url, int timeout_ms, int *status, char **body, char *err, size_t cap);

#endif
