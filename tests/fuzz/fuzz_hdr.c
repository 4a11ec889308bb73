/*
 * libFuzzer target for the peer-controlled decoders of libproto: header blocks (np_hdr_parse,
 * np_hdr_next, np_hdr_get) and INFO/CONNECT JSON (np_info_parse, np_connect_parse).
 *
 * Every input goes through all three decoders. Beyond "no crash, no over-read, no leak" the target
 * checks round-trip properties and aborts when one fails: a header block the builder can rebuild
 * from the parsed fields parses back to the same fields, and encoding parsed JSON, parsing that
 * and encoding again gives the same bytes.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilibproto tests/fuzz/fuzz_hdr.c
 *     libproto/np_hdr.c libproto/np_json.c $(pkg-config --cflags --libs libcjson)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64

struct fields {
    struct np_str key[MAX_FIELDS], value[MAX_FIELDS];
    size_t n;
    int end; /* what the iteration stopped with: 0 or NP_EHEADER */
};

static bool
view_eq(struct np_str a, struct np_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Collects up to MAX_FIELDS fields, checking that every view stays inside the block. */
static void
collect(const struct np_hdr *h, const char *buf, size_t len, struct fields *f)
{
    size_t pos = 0;
    struct np_str k, v;
    f->n = 0;
    while (f->n < MAX_FIELDS && (f->end = np_hdr_next(h, &pos, &k, &v)) == 1) {
        if (k.len == 0 || k.ptr < buf || k.ptr + k.len > buf + len) abort();
        if (v.ptr < buf || v.ptr + v.len > buf + len) abort();
        f->key[f->n] = k;
        f->value[f->n++] = v;
    }
    if (f->end == 1) f->end = 0;
}

/* Rebuilds the block from what was parsed; when the builder accepts it, it must parse the same. */
static void
check_rebuild(const struct np_hdr *h, const struct fields *f)
{
    char desc[NP_MAX_CONTROL_LINE];
    if (h->description.len >= sizeof desc ||
        (h->description.len && memchr(h->description.ptr, '\0', h->description.len)))
        return;
    if (h->description.len) memcpy(desc, h->description.ptr, h->description.len);
    desc[h->description.len] = '\0';
    struct np_hdr_builder b;
    np_hdr_builder_init(&b, h->status, desc);
    for (size_t i = 0; i < f->n; i++)
        np_hdr_builder_add(&b, f->key[i], f->value[i]);
    struct np_str out;
    if (np_hdr_builder_finish(&b, &out) == 0) {
        struct np_hdr h2;
        struct fields f2;
        if (np_hdr_parse(&h2, out.ptr, out.len) != 0) abort();
        if (h2.status != h->status || !view_eq(h2.description, h->description)) abort();
        collect(&h2, out.ptr, out.len, &f2);
        if (f2.end != 0 || f2.n != f->n) abort();
        for (size_t i = 0; i < f->n; i++) {
            if (!view_eq(f2.key[i], f->key[i]) || !view_eq(f2.value[i], f->value[i])) abort();
        }
    }
    np_hdr_builder_release(&b);
}

static void
fuzz_hdr(const char *buf, size_t len)
{
    struct np_hdr h;
    if (np_hdr_parse(&h, buf, len) != 0) return;
    if (h.status < 0 || h.status > 999) abort();
    struct fields f;
    collect(&h, buf, len, &f);
    /* np_hdr_get finds the first field before any malformed line, so it must agree with it. */
    char name[64];
    struct np_str v;
    if (f.n > 0 && f.key[0].len < sizeof name && !memchr(f.key[0].ptr, '\0', f.key[0].len)) {
        memcpy(name, f.key[0].ptr, f.key[0].len);
        name[f.key[0].len] = '\0';
        if (!np_hdr_get(&h, name, &v) || !view_eq(v, f.value[0])) abort();
    }
    if (f.end == 0 && f.n < MAX_FIELDS) check_rebuild(&h, &f);
}

static void
same_or_abort(char *a, char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) abort();
    free(a);
    free(b);
}

static void
fuzz_info(const char *buf, size_t len)
{
    struct np_info info, again;
    if (np_info_parse(&info, buf, len) != 0) return;
    char *first = np_info_encode(&info);
    np_info_release(&info);
    if (!first) return;
    if (np_info_parse(&again, first, strlen(first)) != 0) abort();
    char *second = np_info_encode(&again);
    np_info_release(&again);
    same_or_abort(first, second);
}

static void
fuzz_connect(const char *buf, size_t len)
{
    struct np_connect c, again;
    np_connect_init(&c);
    if (np_connect_parse(&c, buf, len) != 0) {
        np_connect_release(&c);
        return;
    }
    char *first = np_connect_encode(&c);
    np_connect_release(&c);
    if (!first) return;
    np_connect_init(&again);
    if (np_connect_parse(&again, first, strlen(first)) != 0) abort();
    char *second = np_connect_encode(&again);
    np_connect_release(&again);
    same_or_abort(first, second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    fuzz_hdr(buf, size);
    fuzz_info(buf, size);
    fuzz_connect(buf, size);
    return 0;
}
