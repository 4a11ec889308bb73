/*
 * The HTTP/1.x request head parser of the monitoring port: the request line, the few headers that
 * change how the request is answered, and the query string. Pure (no I/O, no allocation), so it is
 * fuzzed on its own (tests/fuzz/fuzz_http.c).
 *
 * Only what a GET needs is understood: a request with a body is answered, then the connection is
 * closed, so that body bytes are never taken for the next request.
 */
#ifndef NB_HTTPREQ_H
#define NB_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

enum nb_http_method { NB_HTTP_GET, NB_HTTP_HEAD, NB_HTTP_OTHER };

/* nb_httpreq_parse()'s result when the head is not complete yet. */
#define NB_HTTPREQ_MORE 1

struct nb_httpreq {
    enum nb_http_method method;
    const char *path; /* views into the parsed buffer */
    const char *query;
    size_t path_len;  /* up to '?' or '#' */
    size_t query_len; /* after '?', up to '#'; 0 when there is none */
    size_t head_len;  /* bytes of the head, blank line included */
    bool keep_alive;  /* the connection may carry another request after this one */
};

/*
 * Parses the request head at the start of buf (len bytes). Returns 0 with *req filled,
 * NB_HTTPREQ_MORE when the head is incomplete and shorter than max_head, or the HTTP status to
 * answer with before closing: 400 (malformed), 431 (the head does not fit in max_head bytes),
 * 505 (not HTTP/1.x).
 */
int nb_httpreq_parse(struct nb_httpreq *req, const char *buf, size_t len, size_t max_head);

/*
 * Finds the first parameter called name in the query string (qlen bytes) and writes its value,
 * percent-decoded ('+' is a space) and NUL-terminated, into out (cap bytes, at least 1). Returns the
 * value's length, -1 when the parameter is absent, -2 when its value does not fit or holds a bad
 * escape. A parameter without '=' has an empty value.
 */
long nb_httpreq_param(const char *query, size_t qlen, const char *name, char *out, size_t cap);

#endif
