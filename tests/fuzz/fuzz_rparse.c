/*
 * libFuzzer target for the route parser (libproto/np_rparse.c).
 *
 * Each input is parsed once as one buffer and once in pieces whose sizes come from a hash of the
 * input, every piece a fresh heap copy freed after its calls, so ASan sees any view left pointing
 * into an earlier read. The limits come from the hash too. Checked: consumption never exceeds
 * what was given, a call that returns no operation consumed everything, every view lies in the
 * piece or in the parser's own buffers, queue names iterate within their view, a dead parser
 * stays dead, and both feedings agree on every operation and on the final error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "np_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

struct trace {
    uint64_t *digests;
    size_t n, cap;
    int err;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int
inside(const char *ptr, size_t len, const char *base, size_t cap)
{
    uintptr_t a = (uintptr_t)ptr, b = (uintptr_t)base;
    return base != NULL && a >= b && a + len <= b + cap;
}

static uint64_t
queue_digest(const struct np_rop *op, uint64_t h)
{
    size_t pos = 0;
    struct np_str q;
    while (np_rop_next_queue(op, &pos, &q)) {
        CHECK(q.len > 0 && inside(q.ptr, q.len, op->queues.ptr, op->queues.len));
        h = fnv(h, q.ptr, q.len);
    }
    return h;
}

static void
check_op(const struct np_rparser *p, const struct np_rop *op, const char *buf, size_t len,
         struct trace *t, size_t end)
{
    const struct np_str *views[] = {&op->arg,   &op->origin, &op->account, &op->subject, &op->reply,
                                    &op->queue, &op->queues, &op->size,    &op->payload};
    uint64_t h = fnv(0xcbf29ce484222325u, &op->type, sizeof op->type);
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        const struct np_str *v = views[i];
        if (v->len > 0)
            CHECK(inside(v->ptr, v->len, buf, len) ||
                  inside(v->ptr, v->len, p->scratch, p->scratch_cap) ||
                  inside(v->ptr, v->len, p->msgbuf, p->msgbuf_cap));
        h = fnv(h, &v->len, sizeof v->len);
        if (v->len > 0) h = fnv(h, v->ptr, v->len);
    }
    h = queue_digest(op, h);
    h = fnv(h, &op->hdr_len, sizeof op->hdr_len);
    h = fnv(h, &op->weight, sizeof op->weight);
    h = fnv(h, &end, sizeof end);
    if (op->hdr_len > 0) CHECK(op->hdr_len <= op->payload.len);
    CHECK(t->n < t->cap);
    t->digests[t->n++] = h;
}

static int
feed_piece(struct np_rparser *p, const char *buf, size_t len, size_t base, struct trace *t)
{
    size_t off = 0;
    do {
        struct np_rop op;
        ssize_t c = np_rparse(p, buf + off, len - off, &op);
        if (c < 0) {
            CHECK(op.type == NP_ROP_NONE);
            CHECK(np_rparse(p, buf, len, &op) == c);
            return (int)c;
        }
        CHECK((size_t)c <= len - off);
        off += (size_t)c;
        if (op.type == NP_ROP_NONE)
            CHECK(off == len);
        else
            check_op(p, &op, buf, len, t, base + off);
    } while (off < len);
    return 0;
}

static void
feed(const uint8_t *data, size_t size, uint32_t mcl, uint32_t mpay, uint64_t seed, size_t max,
     struct trace *t)
{
    struct np_rparser p;
    np_rparser_init(&p, mcl, mpay);
    size_t off = 0;
    t->n = 0;
    t->err = 0;
    while (off < size && t->err == 0) {
        size_t n = max ? 1 + (size_t)(xorshift(&seed) % max) : size;
        if (n > size - off) n = size - off;
        char *piece = malloc(n);
        CHECK(piece != NULL);
        memcpy(piece, data + off, n);
        t->err = feed_piece(&p, piece, n, off, t);
        free(piece);
        off += n;
    }
    np_rparser_release(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t mcls[] = {0, 16, 64 * 1024};
    static const uint32_t mpays[] = {8, 4096, 1024 * 1024};
    uint64_t h = fnv(0xcbf29ce484222325u, data, size) | 1;
    uint32_t mcl = mcls[h % 3], mpay = mpays[(h >> 2) % 3];
    size_t max = 1 + (size_t)((h >> 4) % 64);
    /* the shortest operation ("+OK\n") is 4 bytes */
    struct trace whole = {.cap = size / 4 + 1}, pieces = {.cap = size / 4 + 1};
    whole.digests = malloc(whole.cap * sizeof *whole.digests);
    pieces.digests = malloc(pieces.cap * sizeof *pieces.digests);
    CHECK(whole.digests && pieces.digests);
    feed(data, size, mcl, mpay, h, 0, &whole);
    feed(data, size, mcl, mpay, h, max, &pieces);
    CHECK(whole.err == pieces.err);
    CHECK(whole.n == pieces.n);
    CHECK(whole.n == 0 ||
          memcmp(whole.digests, pieces.digests, whole.n * sizeof *whole.digests) == 0);
    free(whole.digests);
    free(pieces.digests);
    return 0;
}
