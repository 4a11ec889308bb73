/*
 * A connection's unsent output: a list of chunks, head sent first. Chunks of the standard size are
 * recycled through a pool the server owns, so a warm server queues output without allocating.
 */
#ifndef NB_OUTQ_H
#define NB_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct nb_chunk {
    struct nb_chunk *next;
    uint32_t len; /* bytes written into data */
    uint32_t off; /* bytes of data already sent */
    uint32_t cap;
    char data[];
};

#define NB_CHUNK_SIZE  (32 * 1024)
#define NB_POOL_CHUNKS 128 /* idle standard chunks kept for reuse (4 MiB at most) */

struct nb_chunk_pool {
    struct nb_chunk *free;
    uint32_t nfree;
};

struct nb_outq {
    struct nb_chunk *head, *tail;
    uint64_t pending;  /* bytes queued and not yet confirmed sent */
    uint64_t inflight; /* bytes handed to a uv_write that has not completed */
};

/* Returns n contiguous writable bytes at the tail (a new chunk if needed), or NULL (no memory). */
char *nb__outq_reserve(struct nb_outq *q, struct nb_chunk_pool *pool, size_t n);
/* Commits n bytes written into the last reservation. */
void nb__outq_commit(struct nb_outq *q, size_t n);
/* Copies bytes to the tail, spanning chunks. Returns 0 or -ENOMEM. */
int nb__outq_append(struct nb_outq *q, struct nb_chunk_pool *pool, const void *data, size_t len);
/* Fills up to max buffers with unsent bytes not already in flight; returns how many were filled. */
unsigned nb__outq_bufs(const struct nb_outq *q, uv_buf_t *bufs, unsigned max);
/* Marks n bytes (from the head) as sent, recycling finished chunks. */
void nb__outq_consume(struct nb_outq *q, struct nb_chunk_pool *pool, size_t n);
/* Frees every chunk of q (to the pool or the heap). */
void nb__outq_release(struct nb_outq *q, struct nb_chunk_pool *pool);
void nb__pool_release(struct nb_chunk_pool *pool);

#endif
