/*
 * The byte-string hash map (libproto/np_map.c): basic operations, growth and shrinking, key views
 * that are borrowed rather than copied, binary keys, and a long random churn checked against a
 * plain array model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "np_map.h"

/* A value that carries its own key, as trie nodes and subscriptions do. */
struct item {
    char key[24];
    size_t klen;
    bool in; /* model: should be in the map */
};

static void
item_set(struct item *it, const char *fmt, unsigned n)
{
    int len = snprintf(it->key, sizeof it->key, fmt, n);
    it->klen = (size_t)len;
    it->in = false;
}

static void
test_empty(void **state)
{
    (void)state;
    struct np_map m;
    np_map_init(&m);
    assert_null(m.slots);
    assert_int_equal(np_map_count(&m), 0);
    assert_null(np_map_get(&m, "x", 1));
    assert_null(np_map_get(&m, NULL, 0));
    assert_null(np_map_del(&m, "x", 1));
    size_t it = 0;
    assert_false(np_map_next(&m, &it, NULL, NULL, NULL));
    np_map_release(&m);
    struct np_map zeroed = {0};
    assert_null(np_map_get(&zeroed, "x", 1));
}

static void
test_put_get_del(void **state)
{
    (void)state;
    struct np_map m = {0};
    int a = 1, b = 2, c = 3;
    assert_int_equal(np_map_put(&m, "alpha", 5, &a), 0);
    assert_int_equal(np_map_put(&m, "beta", 4, &b), 0);
    assert_int_equal(np_map_count(&m), 2);
    assert_ptr_equal(np_map_get(&m, "alpha", 5), &a);
    assert_ptr_equal(np_map_get(&m, "beta", 4), &b);
    assert_null(np_map_get(&m, "alph", 4));
    assert_null(np_map_get(&m, "gamma", 5));

    /* Replacing keeps one entry and switches both value and key view. */
    const char *key2 = strdup("alpha");
    assert_int_equal(np_map_put(&m, key2, 5, &c), 0);
    assert_int_equal(np_map_count(&m), 2);
    assert_ptr_equal(np_map_get(&m, "alpha", 5), &c);
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    bool saw = false;
    while (np_map_next(&m, &it, &k, &kl, &v)) {
        if (v == &c) {
            assert_ptr_equal(k, key2);
            assert_int_equal(kl, 5);
            saw = true;
        }
    }
    assert_true(saw);

    assert_ptr_equal(np_map_del(&m, "alpha", 5), &c);
    assert_null(np_map_del(&m, "alpha", 5));
    assert_null(np_map_get(&m, "alpha", 5));
    assert_ptr_equal(np_map_get(&m, "beta", 4), &b);
    assert_int_equal(np_map_count(&m), 1);
    assert_ptr_equal(np_map_del(&m, "beta", 4), &b);
    assert_int_equal(np_map_count(&m), 0);
    /* An emptied map holds no memory. */
    assert_null(m.slots);
    np_map_release(&m);
    free((void *)key2);
}

static void
test_invalid_args(void **state)
{
    (void)state;
    struct np_map m = {0};
    assert_int_equal(np_map_put(&m, "k", 1, NULL), NP_EINVAL);
    assert_int_equal(np_map_count(&m), 0);
    assert_null(m.slots);
}

static void
test_empty_and_binary_keys(void **state)
{
    (void)state;
    struct np_map m = {0};
    int e = 0, z1 = 1, z2 = 2, z3 = 3, hi = 4;
    static const char k1[] = {'\0'};
    static const char k2[] = {'\0', '\0'};
    static const char k3[] = {'a', '\0', 'b'};
    static const char k4[] = {'\xff', '\x80', '\x00', '\x7f', '\x01',
                              '\xfe', '\xff', '\x00', '\x10'};
    assert_int_equal(np_map_put(&m, NULL, 0, &e), 0);
    assert_int_equal(np_map_put(&m, k1, sizeof k1, &z1), 0);
    assert_int_equal(np_map_put(&m, k2, sizeof k2, &z2), 0);
    assert_int_equal(np_map_put(&m, k3, sizeof k3, &z3), 0);
    assert_int_equal(np_map_put(&m, k4, sizeof k4, &hi), 0);
    assert_int_equal(np_map_count(&m), 5);
    assert_ptr_equal(np_map_get(&m, "", 0), &e);
    assert_ptr_equal(np_map_get(&m, k1, 1), &z1);
    assert_ptr_equal(np_map_get(&m, k2, 2), &z2);
    assert_ptr_equal(np_map_get(&m, k3, 3), &z3);
    assert_ptr_equal(np_map_get(&m, k4, sizeof k4), &hi);
    assert_null(np_map_get(&m, "a", 1));
    assert_null(np_map_get(&m, k4, sizeof k4 - 1));
    assert_ptr_equal(np_map_del(&m, NULL, 0), &e);
    assert_null(np_map_get(&m, NULL, 0));
    assert_ptr_equal(np_map_get(&m, k1, 1), &z1);
    np_map_release(&m);
}

static void
test_shared_prefixes(void **state)
{
    (void)state;
    /* Keys that differ only in their last byte or only in length, across the 8-byte word edge. */
    enum { N = 40 };
    static char buf[N];
    memset(buf, 'p', sizeof buf);
    struct np_map m = {0};
    int vals[N + 1];
    for (size_t len = 0; len <= N; len++)
        assert_int_equal(np_map_put(&m, buf, len, &vals[len]), 0);
    assert_int_equal(np_map_count(&m), N + 1);
    for (size_t len = 0; len <= N; len++)
        assert_ptr_equal(np_map_get(&m, buf, len), &vals[len]);

    static char keys[256][16];
    int byte_vals[256];
    for (int i = 0; i < 256; i++) {
        memcpy(keys[i], "prefix.sub.tok", 15);
        keys[i][15] = (char)i;
        assert_int_equal(np_map_put(&m, keys[i], 16, &byte_vals[i]), 0);
    }
    assert_int_equal(np_map_count(&m), N + 1 + 256);
    for (int i = 0; i < 256; i++)
        assert_ptr_equal(np_map_get(&m, keys[i], 16), &byte_vals[i]);
    for (size_t len = 0; len <= N; len++)
        assert_ptr_equal(np_map_get(&m, buf, len), &vals[len]);
    np_map_release(&m);
}

static void
test_grow_and_iterate(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct item *items = calloc(N, sizeof *items);
    assert_non_null(items);
    struct np_map m = {0};
    for (unsigned i = 0; i < N; i++) {
        item_set(&items[i], "bench.sub.%u", i);
        assert_int_equal(np_map_put(&m, items[i].key, items[i].klen, &items[i]), 0);
    }
    assert_int_equal(np_map_count(&m), N);
    /* Growth keeps the table at most 7/8 full and a power of two. */
    size_t slots = (size_t)m.mask + 1;
    assert_int_equal(slots & (slots - 1), 0);
    assert_true(slots * 7 / 8 >= N);
    assert_int_equal(slots, 131072);
    for (unsigned i = 0; i < N; i++)
        assert_ptr_equal(np_map_get(&m, items[i].key, items[i].klen), &items[i]);

    /* Iteration visits every entry exactly once, with the key view it was stored under. */
    size_t it = 0, seen = 0;
    const char *k;
    size_t kl;
    void *v;
    while (np_map_next(&m, &it, &k, &kl, &v)) {
        struct item *x = v;
        assert_false(x->in);
        x->in = true;
        assert_ptr_equal(k, x->key);
        assert_int_equal(kl, x->klen);
        seen++;
    }
    assert_int_equal(seen, N);
    assert_false(np_map_next(&m, &it, &k, &kl, &v));

    /* Removing almost everything shrinks the table. */
    for (unsigned i = 0; i < N - 10; i++)
        assert_ptr_equal(np_map_del(&m, items[i].key, items[i].klen), &items[i]);
    assert_int_equal(np_map_count(&m), 10);
    assert_true(m.mask + 1 <= 64);
    for (unsigned i = N - 10; i < N; i++)
        assert_ptr_equal(np_map_get(&m, items[i].key, items[i].klen), &items[i]);
    for (unsigned i = 0; i < N - 10; i++)
        assert_null(np_map_get(&m, items[i].key, items[i].klen));
    np_map_release(&m);
    assert_int_equal(np_map_count(&m), 0);
    free(items);
}

/* Checks the whole map against the model: count, every lookup, and one full iteration. */
static void
check_model(const struct np_map *m, struct item *items, size_t n, size_t want_count)
{
    assert_int_equal(np_map_count(m), want_count);
    for (size_t i = 0; i < n; i++) {
        void *got = np_map_get(m, items[i].key, items[i].klen);
        if (items[i].in)
            assert_ptr_equal(got, &items[i]);
        else
            assert_null(got);
    }
    size_t it = 0, seen = 0;
    void *v;
    while (np_map_next(m, &it, NULL, NULL, &v)) {
        assert_true(((struct item *)v)->in);
        seen++;
    }
    assert_int_equal(seen, want_count);
}

static void
test_random_churn(void **state)
{
    (void)state;
    enum { N = 5000, STEPS = 200000 };
    struct item *items = calloc(N, sizeof *items);
    assert_non_null(items);
    for (unsigned i = 0; i < N; i++)
        item_set(&items[i], "k%u", i * 2654435761u);
    struct np_map m = {0};
    size_t count = 0;
    srand(12345);
    for (int step = 0; step < STEPS; step++) {
        struct item *x = &items[(unsigned)rand() % N];
        /* Bias the mix over time so the map grows, drains and grows again. */
        bool grow_phase = (step / 40000) % 2 == 0;
        bool insert = (rand() % 100) < (grow_phase ? 70 : 30);
        if (insert) {
            assert_int_equal(np_map_put(&m, x->key, x->klen, x), 0);
            if (!x->in) count++;
            x->in = true;
        } else {
            void *got = np_map_del(&m, x->key, x->klen);
            assert_ptr_equal(got, x->in ? x : NULL);
            if (x->in) count--;
            x->in = false;
        }
        if (step % 20000 == 0) check_model(&m, items, N, count);
    }
    check_model(&m, items, N, count);
    for (unsigned i = 0; i < N; i++) {
        if (items[i].in) assert_ptr_equal(np_map_del(&m, items[i].key, items[i].klen), &items[i]);
        items[i].in = false;
    }
    check_model(&m, items, N, 0);
    assert_null(m.slots);
    free(items);
}

static uint64_t
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A server copies a map into another in iteration order when it sends a peer its interest and the
 * peer stores it. That must cost about what filling the map in any other order does; with homes
 * taken from the bare hash it cost 17 times as much, and the ratio grows with the size.
 */
static void
test_copy_in_iteration_order(void **state)
{
    (void)state;
    enum { N = 200000 };
    struct item *items = calloc(N, sizeof *items);
    assert_non_null(items);
    struct np_map a = {0}, b = {0};
    uint64_t t0 = cpu_ns();
    for (unsigned i = 0; i < N; i++) {
        item_set(&items[i], "bench.sub.%u", i);
        assert_int_equal(np_map_put(&a, items[i].key, items[i].klen, &items[i]), 0);
    }
    uint64_t t1 = cpu_ns();
    size_t it = 0, klen;
    const char *key;
    void *val;
    while (np_map_next(&a, &it, &key, &klen, &val))
        assert_int_equal(np_map_put(&b, key, klen, val), 0);
    uint64_t t2 = cpu_ns();
    assert_int_equal(np_map_count(&b), N);
    for (unsigned i = 0; i < N; i++)
        assert_ptr_equal(np_map_get(&b, items[i].key, items[i].klen), &items[i]);
    if (t2 - t1 > 5 * (t1 - t0))
        fail_msg("copying took %llu us, filling %llu us", (unsigned long long)(t2 - t1) / 1000,
                 (unsigned long long)(t1 - t0) / 1000);
    np_map_release(&a);
    np_map_release(&b);
    free(items);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),           cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_invalid_args),    cmocka_unit_test(test_empty_and_binary_keys),
        cmocka_unit_test(test_shared_prefixes), cmocka_unit_test(test_grow_and_iterate),
        cmocka_unit_test(test_random_churn),    cmocka_unit_test(test_copy_in_iteration_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
