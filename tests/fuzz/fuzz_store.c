/*
 * libFuzzer target for the file store's recovery: the input is the content of a store's only
 * segment. Whatever recovery keeps must then be readable: state, next over everything, get of
 * every sequence in range; then one buffered append must be readable at once and, flushed,
 * survive a checkpoint; then close, which writes the index snapshot, and reopen with one of its
 * bytes (chosen by the input) flipped: the open must still succeed and be consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nb_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void
write_segment(const uint8_t *data, size_t size)
{
    if (!dir[0]) snprintf(dir, sizeof dir, "/tmp/fuzz_store.%ld", (long)getpid());
    mkdir(dir, 0755); /* nb_store_destroy() removed it after the previous input */
    char path[128];
    snprintf(path, sizeof path, "%s/00000000000000000001.blk", dir);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}

/* Flips one byte of the snapshot, or none when the position falls past its end. */
static void
damage_snapshot(size_t at)
{
    char path[128];
    snprintf(path, sizeof path, "%s/index.snap", dir);
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    int c;
    if (fseek(f, (long)at, SEEK_SET) == 0 && (c = fgetc(f)) != EOF &&
        fseek(f, (long)at, SEEK_SET) == 0)
        fputc(c ^ 0x01, f);
    fclose(f);
}

static void
check_reopen(const struct nb_store_opts *o, size_t at)
{
    damage_snapshot(at);
    struct nb_store *st;
    if (nb_store_open(&st, o, NULL) != 0) abort();
    struct nb_store_state s;
    nb_store_state(st, &s);
    struct nb_store_msg m;
    uint64_t n = 0;
    for (uint64_t seq = 0; nb_store_next(st, seq, NULL, &m) == 0; seq = m.seq + 1)
        n++;
    if (n != s.msgs) abort();
    if (nb_store_destroy(st) != 0) abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_segment(data, size);
    struct nb_store_opts o = {.kind = NB_STORE_FILE, .dir = dir};
    struct nb_store *st;
    struct nb_store_recovery rec;
    if (nb_store_open(&st, &o, &rec) != 0) abort();
    struct nb_store_state s;
    nb_store_state(st, &s);
    struct nb_store_msg m;
    uint64_t n = 0;
    for (uint64_t seq = 0; nb_store_next(st, seq, NULL, &m) == 0; seq = m.seq + 1)
        n++;
    if (n != s.msgs) abort();
    for (uint64_t seq = s.first_seq; seq <= s.last_seq && seq - s.first_seq < 4096; seq++)
        (void)nb_store_get(st, seq, &m);
    uint64_t del[8];
    if (nb_store_deleted(st, del, 8) != s.num_deleted) abort();
    uint64_t seq;
    if (nb_store_append(st, "fz", 2, NULL, 0, "x", 1, 1, &seq) == 0) {
        if (nb_store_get(st, seq, &m) != 0 || m.data_len != 1 || nb_store_flush(st) != 0) abort();
        if (nb_store_checkpoint(st) != 0 || nb_store_get(st, seq, &m) != 0) abort();
    }
    nb_store_close(st);
    check_reopen(&o, size ? (size_t)data[size - 1] * 8 : 0);
    return 0;
}
