/*
 * Outbound queues: bytes come out in order across chunk boundaries, bytes in flight are skipped,
 * consumed chunks return to the pool, and big payloads get one exact chunk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nb_outq.h"

/* Concatenates what nb__outq_bufs() reports into out; returns the byte count. */
static size_t
gather(const struct nb_outq *q, char *out, size_t cap)
{
    uv_buf_t bufs[64];
    unsigned n = nb__outq_bufs(q, bufs, 64);
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(len + bufs[i].len <= cap);
        memcpy(out + len, bufs[i].base, bufs[i].len);
        len += bufs[i].len;
    }
    return len;
}

static void
test_small_appends_share_a_chunk(void **state)
{
    (void)state;
    struct nb_outq q = {0};
    struct nb_chunk_pool pool = {0};
    assert_int_equal(nb__outq_append(&q, &pool, "MSG a 1 2\r\n", 11), 0);
    assert_int_equal(nb__outq_append(&q, &pool, "hi\r\n", 4), 0);
    assert_ptr_equal(q.head, q.tail);
    assert_int_equal(q.pending, 15);
    char out[64];
    assert_int_equal(gather(&q, out, sizeof out), 15);
    assert_memory_equal(out, "MSG a 1 2\r\nhi\r\n", 15);
    nb__outq_release(&q, &pool);
    assert_int_equal(pool.nfree, 1);
    nb__pool_release(&pool);
}

static void
test_reserve_and_commit(void **state)
{
    (void)state;
    struct nb_outq q = {0};
    struct nb_chunk_pool pool = {0};
    char *p = nb__outq_reserve(&q, &pool, 100);
    assert_non_null(p);
    memcpy(p, "PONG\r\n", 6);
    nb__outq_commit(&q, 6);
    assert_int_equal(q.pending, 6);
    char out[16];
    assert_int_equal(gather(&q, out, sizeof out), 6);
    assert_memory_equal(out, "PONG\r\n", 6);
    nb__outq_release(&q, &pool);
    nb__pool_release(&pool);
}

static void
test_order_across_chunks_and_partial_consume(void **state)
{
    (void)state;
    struct nb_outq q = {0};
    struct nb_chunk_pool pool = {0};
    size_t total = 3 * NB_CHUNK_SIZE + 123;
    char *data = malloc(total), *out = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = (char)(i * 7 + 3);
    /* Odd-sized appends so messages straddle chunk boundaries. */
    for (size_t off = 0; off < total;) {
        size_t n = total - off < 1000 ? total - off : 1000;
        assert_int_equal(nb__outq_append(&q, &pool, data + off, n), 0);
        off += n;
    }
    assert_int_equal(q.pending, total);
    assert_int_equal(gather(&q, out, total), total);
    assert_memory_equal(out, data, total);

    nb__outq_consume(&q, &pool, NB_CHUNK_SIZE + 10);
    assert_int_equal(q.pending, total - NB_CHUNK_SIZE - 10);
    assert_int_equal(pool.nfree, 1);
    size_t rest = gather(&q, out, total);
    assert_int_equal(rest, total - NB_CHUNK_SIZE - 10);
    assert_memory_equal(out, data + NB_CHUNK_SIZE + 10, rest);

    nb__outq_consume(&q, &pool, rest);
    assert_int_equal(q.pending, 0);
    assert_null(q.head);
    assert_null(q.tail);
    assert_int_equal(pool.nfree, 4);
    free(data);
    free(out);
    nb__pool_release(&pool);
}

static void
test_inflight_bytes_are_skipped(void **state)
{
    (void)state;
    struct nb_outq q = {0};
    struct nb_chunk_pool pool = {0};
    nb__outq_append(&q, &pool, "abcdef", 6);
    q.inflight = 4;
    nb__outq_append(&q, &pool, "gh", 2);
    char out[16];
    assert_int_equal(gather(&q, out, sizeof out), 4);
    assert_memory_equal(out, "efgh", 4);
    nb__outq_consume(&q, &pool, 4);
    q.inflight = 0;
    assert_int_equal(gather(&q, out, sizeof out), 4);
    assert_memory_equal(out, "efgh", 4);
    nb__outq_release(&q, &pool);
    nb__pool_release(&pool);
}

static void
test_big_payload_gets_one_exact_chunk(void **state)
{
    (void)state;
    struct nb_outq q = {0};
    struct nb_chunk_pool pool = {0};
    size_t big = 4 * NB_CHUNK_SIZE;
    char *data = calloc(1, big);
    nb__outq_append(&q, &pool, "x", 1);
    assert_int_equal(nb__outq_append(&q, &pool, data, big), 0);
    /* The first chunk is topped up, the remainder goes in one chunk of its own size. */
    assert_ptr_not_equal(q.head, q.tail);
    assert_ptr_equal(q.head->next, q.tail);
    assert_int_equal(q.tail->cap, big - (NB_CHUNK_SIZE - 1));
    nb__outq_consume(&q, &pool, big + 1);
    assert_int_equal(pool.nfree, 1); /* the odd-sized chunk went back to the heap */
    free(data);
    nb__pool_release(&pool);
}

static void
test_pool_is_bounded(void **state)
{
    (void)state;
    struct nb_chunk_pool pool = {0};
    struct nb_outq q = {0};
    size_t total = (size_t)(NB_POOL_CHUNKS + 10) * NB_CHUNK_SIZE;
    char *data = calloc(1, NB_CHUNK_SIZE);
    for (size_t off = 0; off < total; off += NB_CHUNK_SIZE)
        nb__outq_append(&q, &pool, data, NB_CHUNK_SIZE);
    nb__outq_release(&q, &pool);
    assert_int_equal(pool.nfree, NB_POOL_CHUNKS);
    free(data);
    nb__pool_release(&pool);
    assert_int_equal(pool.nfree, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_appends_share_a_chunk),
        cmocka_unit_test(test_reserve_and_commit),
        cmocka_unit_test(test_order_across_chunks_and_partial_consume),
        cmocka_unit_test(test_inflight_bytes_are_skipped),
        cmocka_unit_test(test_big_payload_gets_one_exact_chunk),
        cmocka_unit_test(test_pool_is_bounded),
    };
    return cmocka_run_group_tests_name("outq", tests, NULL, NULL);
}
