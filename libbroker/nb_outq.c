/*
 * Outbound queues: a connection's unsent bytes as a list of chunks.
 *
 * Messages are copied into the tail chunk, so many small MSGs end up contiguous and one writev
 * sends them all. Standard-size chunks come from and return to a per-server pool, so a steady
 * stream of messages allocates nothing. A chunk larger than standard (for one big message) goes
 * back to the heap when sent. Bytes handed to an in-flight uv_write stay where they are until the
 * write completes; new bytes are only ever appended after them.
 */
#include "nb_outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct nb_chunk *
chunk_get(struct nb_chunk_pool *pool, size_t need)
{
    struct nb_chunk *ch;
    if (need <= NB_CHUNK_SIZE && pool->free) {
        ch = pool->free;
        pool->free = ch->next;
        pool->nfree--;
    } else {
        size_t cap = need <= NB_CHUNK_SIZE ? NB_CHUNK_SIZE : need;
        ch = malloc(sizeof *ch + cap);
        if (!ch) return NULL;
        ch->cap = (uint32_t)cap;
    }
    ch->next = NULL;
    ch->len = ch->off = 0;
    return ch;
}

static void
chunk_put(struct nb_chunk_pool *pool, struct nb_chunk *ch)
{
    if (ch->cap == NB_CHUNK_SIZE && pool->nfree < NB_POOL_CHUNKS) {
        ch->next = pool->free;
        pool->free = ch;
        pool->nfree++;
    } else {
        free(ch);
    }
}

char *
nb__outq_reserve(struct nb_outq *q, struct nb_chunk_pool *pool, size_t n)
{
    struct nb_chunk *t = q->tail;
    if (t && t->cap - t->len >= n) return t->data + t->len;
    struct nb_chunk *ch = chunk_get(pool, n);
    if (!ch) return NULL;
    if (t)
        t->next = ch;
    else
        q->head = ch;
    q->tail = ch;
    return ch->data;
}

void
nb__outq_commit(struct nb_outq *q, size_t n)
{
    q->tail->len += (uint32_t)n;
    q->pending += n;
}

int
nb__outq_append(struct nb_outq *q, struct nb_chunk_pool *pool, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        struct nb_chunk *t = q->tail;
        size_t room = t ? t->cap - t->len : 0;
        if (room == 0) {
            /* Big payloads get one exact chunk rather than many standard ones. */
            char *dst = nb__outq_reserve(q, pool, len > NB_CHUNK_SIZE ? len : 1);
            if (!dst) return -ENOMEM;
            continue;
        }
        size_t n = room < len ? room : len;
        memcpy(t->data + t->len, p, n);
        nb__outq_commit(q, n);
        p += n;
        len -= n;
    }
    return 0;
}

unsigned
nb__outq_bufs(const struct nb_outq *q, uv_buf_t *bufs, unsigned max)
{
    uint64_t skip = q->inflight;
    unsigned n = 0;
    for (struct nb_chunk *ch = q->head; ch && n < max; ch = ch->next) {
        uint32_t avail = ch->len - ch->off;
        if (skip >= avail) {
            skip -= avail;
            continue;
        }
        bufs[n++] = uv_buf_init(ch->data + ch->off + skip, (unsigned)(avail - skip));
        skip = 0;
    }
    return n;
}

void
nb__outq_consume(struct nb_outq *q, struct nb_chunk_pool *pool, size_t n)
{
    q->pending -= n;
    while (n) {
        struct nb_chunk *ch = q->head;
        size_t avail = ch->len - ch->off;
        if (n < avail) {
            ch->off += (uint32_t)n;
            return;
        }
        n -= avail;
        /* An idle connection holds no chunk: the pool keeps it warm for whoever writes next. */
        q->head = ch->next;
        if (ch == q->tail) q->tail = NULL;
        chunk_put(pool, ch);
    }
}

void
nb__outq_release(struct nb_outq *q, struct nb_chunk_pool *pool)
{
    while (q->head) {
        struct nb_chunk *ch = q->head;
        q->head = ch->next;
        chunk_put(pool, ch);
    }
    q->tail = NULL;
    q->pending = q->inflight = 0;
}

void
nb__pool_release(struct nb_chunk_pool *pool)
{
    while (pool->free) {
        struct nb_chunk *ch = pool->free;
        pool->free = ch->next;
        free(ch);
    }
    pool->nfree = 0;
}
