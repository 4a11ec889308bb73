/*
 * Restart benchmark of the file store, run by hand (not part of any suite): how long
 * nb_store_open() takes on a store directory, with or without its index snapshot.
 *
 *   make && cc -O2 -std=c11 -D_DEFAULT_SOURCE -Ilibproto -Ilibbroker tests/bench/store_open.c \
 *       build/libbroker.a build/libproto.a $(pkg-config --libs libuv libcjson) -lm \
 *       -o build/store_open
 *   build/store_open fill DIR [N [SIZE]]  N records of SIZE bytes (1M of 1 KiB), closed cleanly
 *   build/store_open crash DIR [N]        opens, appends N more (10k), flushes, exits without close
 *   build/store_open open DIR             prints the open time and the state (closes cleanly)
 *   build/store_open open-nosave DIR      the same, but exits without close (keeps the snapshot)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nb_store.h"

static int64_t
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int
append_n(struct nb_store *st, long n, size_t size)
{
    char *data = malloc(size);
    if (!data) return -1;
    memset(data, 'x', size);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        char subj[32];
        int len = snprintf(subj, sizeof subj, "bench.open.%ld", i % 16);
        rc = nb_store_append(st, subj, (size_t)len, NULL, 0, data, size, i, NULL);
        if (rc == 0 && (i + 1) % 256 == 0) rc = nb_store_flush(st);
    }
    free(data);
    return rc ? rc : nb_store_flush(st);
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s fill|crash|open|open-nosave DIR [N [SIZE]]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    struct nb_store_opts o = {.kind = NB_STORE_FILE, .dir = argv[2]};
    struct nb_store *st;
    struct nb_store_recovery rec;
    int64_t t0 = now_ns();
    int rc = nb_store_open(&st, &o, &rec);
    int64_t t1 = now_ns();
    if (rc) {
        fprintf(stderr, "open %s: %d\n", argv[2], rc);
        return 1;
    }
    if (strcmp(mode, "fill") == 0 || strcmp(mode, "crash") == 0) {
        long n = argc > 3 ? atol(argv[3]) : mode[0] == 'f' ? 1000000 : 10000;
        size_t size = argc > 4 ? (size_t)atol(argv[4]) : 1024;
        rc = append_n(st, n, size);
        if (rc) fprintf(stderr, "append: %d\n", rc);
        if (mode[0] == 'c') _exit(rc ? 1 : 0);
    }
    struct nb_store_state s;
    nb_store_state(st, &s);
    printf("open %.1f ms: %llu msgs, seq %llu..%llu, truncated %llu\n", (double)(t1 - t0) / 1e6,
           (unsigned long long)s.msgs, (unsigned long long)s.first_seq,
           (unsigned long long)s.last_seq, (unsigned long long)rec.truncated_segments);
    fflush(stdout);
    if (strcmp(mode, "open-nosave") == 0) _exit(0);
    nb_store_close(st);
    return rc ? 1 : 0;
}
