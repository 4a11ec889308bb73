/*
 * libFuzzer target for the monitoring port's request parsing (libbroker/nb_httpreq.c) and the
 * JSON writer's string escaping (libbroker/nb_jw.c), the two places where an HTTP client's bytes
 * are read or echoed.
 *
 * The input is a request head as it arrives. Checked beyond "no crash, no over-read": the parse
 * is the same whatever the head limit above its length, a parsed request's path and query lie
 * inside the head and the path starts with '/', an incomplete head only ever grows into a result,
 * each query parameter decodes into an exact-size buffer without overflow, and any bytes written
 * as a JSON string parse back with cJSON as valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nb_httpreq.h"
#include "nb_jw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_params(const struct nb_httpreq *req)
{
    static const char *const names[] = {"subs",  "sort", "limit",    "offset", "cid",
                                        "state", "test", "callback", "acc",    ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (size_t cap = 1; cap <= 9; cap += 4) {
            char *out = malloc(cap); /* exact size: ASan sees one byte too many */
            if (!out) return;
            long n = nb_httpreq_param(req->query, req->query_len, names[i], out, cap);
            if (n >= 0 && ((size_t)n >= cap || out[n] != '\0')) abort();
            if (n < -2) abort();
            free(out);
        }
    }
}

static void
check_request(const char *buf, size_t len, const struct nb_httpreq *req)
{
    if (req->head_len == 0 || req->head_len > len) abort();
    const char *end = buf + req->head_len;
    if (req->path < buf || req->path + req->path_len > end || req->path_len == 0) abort();
    if (req->path[0] != '/') abort();
    if (req->query < buf || req->query + req->query_len > end) abort();
    if (req->method > NB_HTTP_OTHER) abort();
    check_params(req);
}

static void
fuzz_parse(const char *buf, size_t len)
{
    struct nb_httpreq req, again;
    int rc = nb_httpreq_parse(&req, buf, len, 8192);
    if (rc == 0) check_request(buf, len, &req);
    if (rc != 0 && rc != NB_HTTPREQ_MORE && rc != 400 && rc != 431 && rc != 505) abort();
    /* A larger limit changes nothing for a head that fits the smaller one. */
    if (len < 8192) {
        int rc2 = nb_httpreq_parse(&again, buf, len, 1 << 20);
        if (rc2 != rc) abort();
        if (rc == 0 && (again.head_len != req.head_len || again.path_len != req.path_len)) abort();
    }
    /* Cut anywhere before its end, a complete head is incomplete or already refused. */
    if (rc == 0 && req.head_len > 1) {
        int cut = nb_httpreq_parse(&again, buf, req.head_len - 1, 8192);
        if (cut == 0) abort();
    }
}

static void
fuzz_escape(const char *buf, size_t len)
{
    struct np_buf b = {0};
    struct nb_jw w;
    nb_jw_init(&w, &b, true);
    nb_jw_obj(&w, NULL);
    nb_jw_strn(&w, "s", buf, len);
    nb_jw_end_obj(&w);
    if (nb_jw_failed(&w)) {
        np_buf_release(&b);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(b.ptr, b.len);
    if (!j || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "s"))) abort();
    cJSON_Delete(j);
    np_buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    fuzz_parse(buf, size);
    fuzz_escape(buf, size);
    free(buf);
    return 0;
}
