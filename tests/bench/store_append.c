/*
 * Micro benchmark of the file store's append path, run by hand (not part of any suite):
 * appends N records of 16 B with a flush every F appends into DIR, and prints ns per append.
 *
 *   make && cc -O2 -std=c11 -D_DEFAULT_SOURCE -Ilibproto -Ilibbroker tests/bench/store_append.c \
 *       build/libbroker.a build/libproto.a $(pkg-config --libs libuv libcjson) -lm \
 *       -o build/store_append
 *   build/store_append /dev/shm/sb [N [F]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nb_store.h"

static int64_t
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [N [FLUSH_EVERY]]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 1000000, every = argc > 3 ? atol(argv[3]) : 256;
    struct nb_store_opts o = {.kind = NB_STORE_FILE, .dir = argv[1]};
    struct nb_store *st;
    int rc = nb_store_open(&st, &o, NULL);
    if (rc) {
        fprintf(stderr, "open %s: %d\n", argv[1], rc);
        return 1;
    }
    static const char data[16] = "0123456789abcdef";
    int64_t t0 = now_ns();
    for (long i = 0; i < n && rc == 0; i++) {
        rc = nb_store_append(st, "bench.store", 11, NULL, 0, data, sizeof data, i, NULL);
        if (rc == 0 && (i + 1) % every == 0) rc = nb_store_flush(st);
    }
    if (rc == 0) rc = nb_store_flush(st);
    int64_t t1 = now_ns();
    int drc = nb_store_destroy(st);
    if (rc || drc) {
        fprintf(stderr, "append: %d, destroy: %d\n", rc, drc);
        return 1;
    }
    printf("%ld appends, flush every %ld: %.1f ns/append\n", n, every, (double)(t1 - t0) / n);
    return 0;
}
