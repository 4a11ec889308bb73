/*
 * The stream message store (libbroker/nb_store*.c): every behaviour against both kinds, then the
 * file store's own promises: reopen, survival without a clean shutdown, torn and corrupted
 * records, segment rolls, unlinks and compaction, and a full disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nb_store.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

struct fx {
    enum nb_store_kind kind;
    char dir[128];
    char mnt[128]; /* test_enospc's tmpfs while mounted: teardown unmounts it after a failure */
    char saved[128];
    uint64_t block_size;
    struct nb_store *st;
    struct nb_store_recovery rec;
};

static int
fx_open(struct fx *f)
{
    struct nb_store_opts o = {.kind = f->kind, .dir = f->dir, .block_size = f->block_size};
    return nb_store_open(&f->st, &o, &f->rec);
}

static int
setup(void **state, enum nb_store_kind kind)
{
    struct fx *f = calloc(1, sizeof *f);
    f->kind = kind;
    strcpy(f->dir, "/tmp/nb_store_XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    strcat(f->dir, "/s");
    if (fx_open(f) != 0) return -1;
    *state = f;
    return 0;
}

static int
setup_mem(void **state)
{
    return setup(state, NB_STORE_MEMORY);
}

static int
setup_file(void **state)
{
    return setup(state, NB_STORE_FILE);
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    if (f->st) assert_int_equal(nb_store_destroy(f->st), 0);
    if (f->mnt[0]) {
        umount2(f->mnt, MNT_DETACH);
        rmdir(f->mnt);
        strcpy(f->dir, f->saved);
    }
    if (f->kind == NB_STORE_FILE) rmdir(f->dir); /* destroy removed it: this only checks */
    *strrchr(f->dir, '/') = 0;
    assert_int_equal(rmdir(f->dir), 0);
    free(f);
    return 0;
}

static void
reopen(struct fx *f)
{
    if (f->kind == NB_STORE_MEMORY) return;
    nb_store_close(f->st);
    f->st = NULL;
    assert_int_equal(fx_open(f), 0);
}

static uint64_t
put(struct nb_store *st, const char *subject, const char *data, int64_t ts)
{
    uint64_t seq = 0;
    assert_int_equal(
        nb_store_append(st, subject, strlen(subject), NULL, 0, data, strlen(data), ts, &seq), 0);
    return seq;
}

static uint64_t
size_of(const struct nb_store *st, const char *subject, const char *data)
{
    return nb_store_record_size(st, strlen(subject), 0, strlen(data));
}

static void
check_msg(struct nb_store *st, uint64_t seq, const char *subject, const char *data)
{
    struct nb_store_msg m;
    assert_int_equal(nb_store_get(st, seq, &m), 0);
    assert_int_equal(m.seq, seq);
    assert_int_equal(m.subject_len, strlen(subject));
    assert_memory_equal(m.subject, subject, m.subject_len);
    assert_int_equal(m.data_len, strlen(data));
    if (m.data_len) assert_memory_equal(m.data, data, m.data_len);
}

static bool
count_subject(void *ud, const char *subject, size_t len, const struct nb_store_subject *s)
{
    (void)subject;
    (void)len;
    (void)s;
    (*(int *)ud)++;
    return true;
}

static void
test_record_size(void **state)
{
    struct fx *f = *state;
    uint64_t want = f->kind == NB_STORE_FILE ? 22 + 3 + 5 + 7 + 8 + 4 : 3 + 5 + 7 + 16;
    assert_int_equal(nb_store_record_size(f->st, 3, 5, 7), want);
    want = f->kind == NB_STORE_FILE ? 22 + 3 + 7 + 8 : 3 + 7 + 16;
    assert_int_equal(nb_store_record_size(f->st, 3, 0, 7), want);
}

static void
test_append_get_next(void **state)
{
    struct fx *f = *state;
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    assert_int_equal(s.first_seq, 0);
    assert_int_equal(s.last_seq, 0);
    assert_int_equal(put(f->st, "a.b", "one", 10), 1);
    assert_int_equal(put(f->st, "a.c", "two", 20), 2);
    assert_int_equal(put(f->st, "x.y", "three", 30), 3);
    assert_int_equal(put(f->st, "a.b", "four", 40), 4);
    uint64_t seq;
    assert_int_equal(nb_store_append(f->st, "h", 1, "NATS/1.0\r\n\r\n", 12, "", 0, 50, &seq), 0);
    assert_int_equal(seq, 5);
    for (int round = 0; round < 2; round++) {
        check_msg(f->st, 1, "a.b", "one");
        check_msg(f->st, 3, "x.y", "three");
        struct nb_store_msg m;
        assert_int_equal(nb_store_get(f->st, 5, &m), 0);
        assert_int_equal(m.hdr_len, 12);
        assert_memory_equal(m.hdr, "NATS/1.0\r\n\r\n", 12);
        assert_int_equal(m.data_len, 0);
        assert_int_equal(m.ts, 50);
        assert_int_equal(nb_store_get(f->st, 6, &m), NB_STORE_ENOTFOUND);
        assert_int_equal(nb_store_get(f->st, 0, &m), NB_STORE_ENOTFOUND);
        assert_int_equal(nb_store_next(f->st, 2, "a.b", &m), 0);
        assert_int_equal(m.seq, 4);
        assert_int_equal(nb_store_next(f->st, 2, "a.*", &m), 0);
        assert_int_equal(m.seq, 2);
        assert_int_equal(nb_store_next(f->st, 3, "a.>", &m), 0);
        assert_int_equal(m.seq, 4);
        assert_int_equal(nb_store_next(f->st, 3, ">", &m), 0);
        assert_int_equal(m.seq, 3);
        assert_int_equal(nb_store_next(f->st, 0, NULL, &m), 0);
        assert_int_equal(m.seq, 1);
        assert_int_equal(nb_store_next(f->st, 5, "a.*", &m), NB_STORE_ENOTFOUND);
        assert_int_equal(nb_store_next(f->st, 1, "zz", &m), NB_STORE_ENOTFOUND);
        assert_int_equal(nb_store_last_for(f->st, "a.b", 3, &m), 0);
        assert_int_equal(m.seq, 4);
        assert_int_equal(nb_store_last_for(f->st, "q", 1, &m), NB_STORE_ENOTFOUND);
        struct nb_store_subject ss;
        nb_store_subject_state(f->st, "a.b", 3, &ss);
        assert_int_equal(ss.count, 2);
        assert_int_equal(ss.first, 1);
        assert_int_equal(ss.last, 4);
        nb_store_subject_state(f->st, "nope", 4, &ss);
        assert_int_equal(ss.count, 0);
        int n = 0;
        nb_store_each_subject(f->st, "a.*", count_subject, &n);
        assert_int_equal(n, 2);
        n = 0;
        nb_store_each_subject(f->st, NULL, count_subject, &n);
        assert_int_equal(n, 4);
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, 5);
        assert_int_equal(s.first_seq, 1);
        assert_int_equal(s.last_seq, 5);
        assert_int_equal(s.first_ts, 10);
        assert_int_equal(s.last_ts, 50);
        assert_int_equal(s.num_subjects, 4);
        assert_int_equal(s.num_deleted, 0);
        assert_int_equal(s.bytes, size_of(f->st, "a.b", "one") + size_of(f->st, "a.c", "two") +
                                      size_of(f->st, "x.y", "three") +
                                      size_of(f->st, "a.b", "four") +
                                      nb_store_record_size(f->st, 1, 12, 0));
        reopen(f);
    }
}

static void
test_remove(void **state)
{
    struct fx *f = *state;
    for (int i = 1; i <= 6; i++)
        put(f->st, i % 2 ? "odd" : "even", "x", i * 10);
    assert_int_equal(nb_store_remove(f->st, 1, NB_RM_LIMIT), 0);
    assert_int_equal(nb_store_remove(f->st, 3, NB_RM_DURABLE), 0);
    assert_int_equal(nb_store_remove(f->st, 4, NB_RM_LIMIT), 0);
    assert_int_equal(nb_store_remove(f->st, 4, NB_RM_DURABLE), NB_STORE_ENOTFOUND);
    assert_int_equal(nb_store_remove(f->st, 9, NB_RM_DURABLE), NB_STORE_ENOTFOUND);
    for (int round = 0; round < 2; round++) {
        struct nb_store_state s;
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, 3);
        assert_int_equal(s.first_seq, 2);
        assert_int_equal(s.first_ts, 20);
        assert_int_equal(s.last_seq, 6);
        assert_int_equal(s.num_deleted, 2);
        assert_int_equal(s.bytes, 2 * size_of(f->st, "even", "x") + size_of(f->st, "odd", "x"));
        uint64_t del[4];
        assert_int_equal(nb_store_deleted(f->st, del, 4), 2);
        assert_int_equal(del[0], 3);
        assert_int_equal(del[1], 4);
        struct nb_store_subject ss;
        nb_store_subject_state(f->st, "odd", 3, &ss);
        assert_int_equal(ss.count, 1);
        assert_int_equal(ss.first, 5);
        assert_int_equal(ss.last, 5);
        nb_store_subject_state(f->st, "even", 4, &ss);
        assert_int_equal(ss.count, 2);
        assert_int_equal(ss.first, 2);
        assert_int_equal(ss.last, 6);
        reopen(f);
    }
    assert_int_equal(nb_store_remove(f->st, 6, NB_RM_DURABLE), 0);
    reopen(f);
    struct nb_store_subject ss;
    nb_store_subject_state(f->st, "even", 4, &ss);
    assert_int_equal(ss.last, 2);
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    assert_int_equal(s.last_seq, 6);
    assert_int_equal(s.num_deleted, 3);
    assert_int_equal(put(f->st, "odd", "y", 70), 7);
}

/* Fills a.1 b.1 a.2 b.2 ... (n of each) and purges with the given arguments. */
static void
purge_case(struct fx *f, const char *filter, uint64_t upto, uint64_t keep, uint64_t want_purged,
           uint64_t want_msgs, uint64_t want_first)
{
    for (int i = 0; i < 5; i++) {
        put(f->st, "a", "1", i);
        put(f->st, "b", "2", i);
    }
    uint64_t purged = 99;
    assert_int_equal(nb_store_purge(f->st, filter, upto, keep, &purged), 0);
    assert_int_equal(purged, want_purged);
    for (int round = 0; round < 2; round++) {
        struct nb_store_state s;
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, want_msgs);
        assert_int_equal(s.first_seq, want_first);
        assert_int_equal(s.last_seq, 10);
        assert_int_equal(s.num_deleted, want_msgs ? 10 - want_first + 1 - want_msgs : 0);
        reopen(f);
    }
    assert_int_equal(put(f->st, "c", "3", 99), 11);
}

static void
test_purge_all(void **state)
{
    struct fx *f = *state;
    purge_case(f, NULL, 0, 0, 10, 0, 11);
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    assert_int_equal(s.first_seq, 11);
    assert_int_equal(s.num_subjects, 1);
}

static void
test_purge_filter(void **state)
{
    purge_case(*state, "a", 0, 0, 5, 5, 2);
}

static void
test_purge_upto(void **state)
{
    purge_case(*state, NULL, 7, 0, 6, 4, 7);
}

static void
test_purge_keep(void **state)
{
    purge_case(*state, ">", 0, 3, 7, 3, 8);
}

static void
test_purge_filter_keep(void **state)
{
    struct fx *f = *state;
    purge_case(f, "b", 0, 2, 3, 7, 1);
    struct nb_store_subject ss;
    nb_store_subject_state(f->st, "b", 1, &ss);
    assert_int_equal(ss.count, 2);
    assert_int_equal(ss.first, 8);
}

static void
test_skip(void **state)
{
    struct fx *f = *state;
    uint64_t seq;
    assert_int_equal(nb_store_skip(f->st, 5, &seq), 0);
    assert_int_equal(seq, 1);
    put(f->st, "a", "x", 6);
    assert_int_equal(nb_store_skip(f->st, 7, &seq), 0);
    assert_int_equal(nb_store_skip(f->st, 8, &seq), 0);
    assert_int_equal(seq, 4);
    for (int round = 0; round < 2; round++) {
        struct nb_store_state s;
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, 1);
        assert_int_equal(s.first_seq, 2);
        assert_int_equal(s.last_seq, 4);
        assert_int_equal(s.last_ts, 8);
        assert_int_equal(s.num_deleted, 2);
        uint64_t del[4];
        assert_int_equal(nb_store_deleted(f->st, del, 1), 2);
        assert_int_equal(del[0], 3);
        reopen(f);
    }
    assert_int_equal(put(f->st, "a", "y", 9), 5);
}

/* The kill -9 case: a second instance opens the directory the first one never closed. */
static void
test_no_clean_shutdown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 5; i++)
        put(f->st, "a", "x", i);
    assert_int_equal(nb_store_remove(f->st, 2, NB_RM_DURABLE), 0);
    assert_int_equal(nb_store_purge(f->st, NULL, 2, 0, NULL), 0);
    struct nb_store *first = f->st;
    f->st = NULL;
    assert_int_equal(fx_open(f), 0);
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    assert_int_equal(s.msgs, 3);
    assert_int_equal(s.first_seq, 3);
    assert_int_equal(s.last_seq, 5);
    assert_int_equal(f->rec.truncated_segments, 0);
    check_msg(f->st, 5, "a", "x");
    /* The abandoned instance is freed without writing: its files were handed over. */
    nb_store_close(f->st);
    f->st = first;
}

static size_t
dir_files(const char *dir, off_t *total)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    *total = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".blk") != 0) continue; /* segments only */
        char path[512];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(stat(path, &sb), 0);
        *total += sb.st_size;
        n++;
    }
    closedir(d);
    return n;
}

static void
seg_path(char *buf, size_t cap, const char *dir, uint64_t first)
{
    snprintf(buf, cap, "%s/%020llu.blk", dir, (unsigned long long)first);
}

static off_t
file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void
fill4(struct fx *f, off_t *last_off)
{
    char path[256];
    seg_path(path, sizeof path, f->dir, 1);
    put(f->st, "a.1", "first", 1);
    put(f->st, "a.2", "second message", 2);
    put(f->st, "a.3", "third", 3);
    assert_int_equal(nb_store_flush(f->st), 0);
    *last_off = file_size(path);
    uint64_t seq;
    assert_int_equal(
        nb_store_append(f->st, "a.4", 3, "NATS/1.0\r\nk: v\r\n\r\n", 18, "fourth", 6, 4, &seq), 0);
    nb_store_close(f->st);
    f->st = NULL;
}

static void
test_torn_tail(void **state)
{
    struct fx *f = *state;
    char path[256];
    seg_path(path, sizeof path, f->dir, 1);
    off_t last_off;
    fill4(f, &last_off);
    off_t size = file_size(path);
    for (off_t cut = last_off + 1; cut < size; cut++) {
        assert_int_equal(truncate(path, cut), 0);
        assert_int_equal(fx_open(f), 0);
        assert_int_equal(f->rec.truncated_segments, 1);
        assert_int_equal(f->rec.lost_msgs, 1);
        assert_int_equal(f->rec.lost_bytes, cut - last_off);
        assert_non_null(strstr(f->rec.detail, "00000000000000000001.blk truncated at"));
        assert_int_equal(file_size(path), last_off);
        struct nb_store_state s;
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, 3);
        assert_int_equal(s.last_seq, 3);
        assert_int_equal(s.lost_msgs, 1);
        check_msg(f->st, 2, "a.2", "second message");
        assert_int_equal(put(f->st, "a.4", "again", 5), 4);
        check_msg(f->st, 4, "a.4", "again");
        assert_int_equal(nb_store_destroy(f->st), 0);
        f->st = NULL;
        assert_int_equal(fx_open(f), 0);
        fill4(f, &last_off);
    }
    assert_int_equal(fx_open(f), 0);
}

static void
test_corrupt_middle(void **state)
{
    struct fx *f = *state;
    char path[256];
    seg_path(path, sizeof path, f->dir, 1);
    off_t last_off;
    fill4(f, &last_off);
    size_t first_len = 30 + 3 + 5;
    size_t second_len = 30 + 3 + 14;
    for (size_t k = 0; k < second_len; k += 5) {
        int fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        char c;
        off_t at = (off_t)(first_len + k);
        assert_int_equal(pread(fd, &c, 1, at), 1);
        c ^= 0x5a;
        assert_int_equal(pwrite(fd, &c, 1, at), 1);
        close(fd);
        assert_int_equal(fx_open(f), 0);
        assert_int_equal(f->rec.truncated_segments, 1);
        assert_true(f->rec.lost_msgs >= 1);
        struct nb_store_state s;
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, 1);
        check_msg(f->st, 1, "a.1", "first");
        assert_int_equal(file_size(path), (off_t)first_len);
        assert_int_equal(nb_store_destroy(f->st), 0);
        f->st = NULL;
        assert_int_equal(fx_open(f), 0);
        fill4(f, &last_off);
    }
    assert_int_equal(fx_open(f), 0);
}

static void
test_segments(void **state)
{
    struct fx *f = *state;
    nb_store_destroy(f->st);
    f->block_size = 400;
    assert_int_equal(fx_open(f), 0);
    char data[64];
    memset(data, 'd', sizeof data - 1);
    data[sizeof data - 1] = 0;
    for (int i = 0; i < 60; i++)
        put(f->st, i % 3 ? "s.x" : "s.y", data, i);
    off_t total0;
    size_t files0 = dir_files(f->dir, &total0);
    assert_true(files0 >= 8);
    /* The first segments emptied are unlinked. */
    for (uint64_t seq = 1; seq <= 20; seq++)
        assert_int_equal(nb_store_remove(f->st, seq, NB_RM_DURABLE), 0);
    off_t total1;
    size_t files1 = dir_files(f->dir, &total1);
    assert_true(files1 < files0);
    /* Most of every other segment removed: compaction shrinks them. */
    for (uint64_t seq = 21; seq <= 60; seq++)
        if (seq % 4) assert_int_equal(nb_store_remove(f->st, seq, NB_RM_LIMIT), 0);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
    off_t total2;
    dir_files(f->dir, &total2);
    assert_true(total2 < total1 / 2);
    for (int round = 0; round < 2; round++) {
        struct nb_store_state s;
        nb_store_state(f->st, &s);
        assert_int_equal(s.msgs, 10);
        assert_int_equal(s.first_seq, 24);
        assert_int_equal(s.last_seq, 60);
        struct nb_store_msg m;
        uint64_t n = 0;
        for (uint64_t seq = 0; nb_store_next(f->st, seq, NULL, &m) == 0; seq = m.seq + 1) {
            assert_int_equal(m.seq % 4, 0);
            check_msg(f->st, m.seq, m.seq % 3 == 1 ? "s.y" : "s.x", data);
            n++;
        }
        assert_int_equal(n, 10);
        reopen(f);
        assert_int_equal(f->rec.truncated_segments, 0);
    }
    assert_int_equal(put(f->st, "z", "z", 61), 61);
}

static void
test_take_dirty(void **state)
{
    struct fx *f = *state;
    int fds[8];
    put(f->st, "a", "b", 1);
    size_t n = nb_store_take_dirty(f->st, fds, 8);
    if (f->kind == NB_STORE_MEMORY) {
        assert_int_equal(n, 0);
        return;
    }
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fsync(fds[i]), 0);
        close(fds[i]);
    }
    assert_int_equal(nb_store_take_dirty(f->st, fds, 8), 0);
}

/* Moves the store into a fresh tmpfs of size bytes (root only: the test is skipped otherwise). */
static void
mount_tmpfs(struct fx *f, const char *size, uint64_t block_size)
{
    char mnt[100], opts[32];
    strcpy(mnt, f->dir);
    *strrchr(mnt, '/') = 0;
    strcat(mnt, "/m");
    if (geteuid() != 0 || mkdir(mnt, 0755) != 0) skip();
    snprintf(opts, sizeof opts, "size=%s", size);
    if (mount("tmpfs", mnt, "tmpfs", 0, opts) != 0) {
        rmdir(mnt);
        skip();
    }
    nb_store_destroy(f->st);
    f->st = NULL;
    strcpy(f->mnt, mnt);
    strcpy(f->saved, f->dir);
    snprintf(f->dir, sizeof f->dir, "%s/s", mnt);
    f->block_size = block_size;
    assert_int_equal(fx_open(f), 0);
}

static void
unmount_tmpfs(struct fx *f)
{
    assert_int_equal(nb_store_destroy(f->st), 0);
    f->st = NULL;
    assert_int_equal(umount(f->mnt), 0);
    assert_int_equal(rmdir(f->mnt), 0);
    f->mnt[0] = 0;
    strcpy(f->dir, f->saved);
}

static int
append_flush(struct nb_store *st, const char *subject, const char *data)
{
    int rc = nb_store_append(st, subject, strlen(subject), NULL, 0, data, strlen(data), 1, NULL);
    return rc ? rc : nb_store_flush(st);
}

static void
test_enospc(void **state)
{
    struct fx *f = *state;
    mount_tmpfs(f, "1m", 256 << 10);
    char data[1000];
    memset(data, 'q', sizeof data - 1);
    data[sizeof data - 1] = 0;
    int rc = 0;
    uint64_t n = 0;
    while ((rc = append_flush(f->st, "fill", data)) == 0)
        n++;
    assert_int_equal(rc, -ENOSPC);
    assert_true(n > 100);
    struct nb_store_state s0, s1;
    nb_store_state(f->st, &s0);
    assert_int_equal(s0.msgs, n);
    assert_int_equal(append_flush(f->st, "fill", data), -ENOSPC);
    nb_store_state(f->st, &s1);
    assert_memory_equal(&s0, &s1, sizeof s0);
    for (uint64_t seq = 1; seq <= n; seq++)
        check_msg(f->st, seq, "fill", data);
    rc = nb_store_purge(f->st, NULL, 0, 0, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(put(f->st, "after", "ok", 2), n + 1);
    reopen(f);
    nb_store_state(f->st, &s1);
    assert_int_equal(s1.msgs, 1);
    assert_int_equal(s1.last_seq, n + 1);
    unmount_tmpfs(f);
}

/* Another instance on the same directory: what a restart after kill -9 would find. */
static uint64_t
msgs_on_disk(struct fx *f)
{
    struct nb_store *live = f->st;
    assert_int_equal(fx_open(f), 0);
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    nb_store_close(f->st);
    f->st = live;
    return s.msgs;
}

static void
test_buffered_reads(void **state)
{
    struct fx *f = *state;
    put(f->st, "a", "one", 1);
    assert_int_equal(nb_store_flush(f->st), 0);
    put(f->st, "b", "two", 2);
    put(f->st, "a", "three", 3);
    put(f->st, "c", "four", 4);
    assert_int_equal(nb_store_remove(f->st, 4, NB_RM_LIMIT), 0);
    check_msg(f->st, 2, "b", "two");
    check_msg(f->st, 3, "a", "three");
    struct nb_store_msg m;
    assert_int_equal(nb_store_next(f->st, 2, "a", &m), 0);
    assert_int_equal(m.seq, 3);
    assert_int_equal(nb_store_last_for(f->st, "b", 1, &m), 0);
    assert_int_equal(m.seq, 2);
    assert_int_equal(nb_store_get(f->st, 4, &m), NB_STORE_ENOTFOUND);
    struct nb_store_subject ss;
    nb_store_subject_state(f->st, "a", 1, &ss);
    assert_int_equal(ss.count, 2);
    assert_int_equal(ss.last, 3);
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    assert_int_equal(s.msgs, 3);
    assert_int_equal(s.last_seq, 4);
    assert_int_equal(s.last_ts, 4);
    assert_int_equal(s.num_subjects, 2);
    assert_int_equal(s.num_deleted, 1);
    if (f->kind == NB_STORE_MEMORY) {
        assert_int_equal(nb_store_flush(f->st), 0);
        return;
    }
    assert_int_equal(msgs_on_disk(f), 1);
    assert_int_equal(nb_store_flush(f->st), 0);
    assert_int_equal(msgs_on_disk(f), 4); /* the limit removal is durable at the checkpoint */
    reopen(f);
    nb_store_state(f->st, &s);
    assert_int_equal(s.msgs, 3);
    check_msg(f->st, 3, "a", "three");
}

/* The next write on a full tmpfs fails: every free page goes to a ballast file. */
static void
fill_disk(struct fx *f, char *ballast, size_t cap)
{
    snprintf(ballast, cap, "%s/ballast", f->mnt);
    int fd = open(ballast, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    static char page[4096];
    while (write(fd, page, sizeof page) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

struct snapshot {
    struct nb_store_state st;
    struct nb_store_subject subj[3];
    uint64_t last_for[3], deleted[8];
    size_t ndeleted;
};

static const char *const snap_subjects[3] = {"old", "new", "other"};

static void
snap(struct nb_store *st, struct snapshot *out)
{
    memset(out, 0, sizeof *out);
    nb_store_state(st, &out->st);
    for (int i = 0; i < 3; i++) {
        const char *subj = snap_subjects[i];
        nb_store_subject_state(st, subj, strlen(subj), &out->subj[i]);
        struct nb_store_msg m;
        if (nb_store_last_for(st, subj, strlen(subj), &m) == 0) out->last_for[i] = m.seq;
    }
    out->ndeleted = nb_store_deleted(st, out->deleted, 8);
}

static void
test_flush_undo(void **state)
{
    struct fx *f = *state;
    mount_tmpfs(f, "256k", 0);
    put(f->st, "old", "o1", 1);
    put(f->st, "other", "x2", 2);
    put(f->st, "old", "o3", 3);
    put(f->st, "other", "x4", 4);
    assert_int_equal(nb_store_remove(f->st, 2, NB_RM_DURABLE), 0);
    assert_int_equal(nb_store_flush(f->st), 0);
    struct snapshot before, after;
    snap(f->st, &before);
    char seg[256], ballast[256];
    seg_path(seg, sizeof seg, f->dir, 1);
    off_t size = file_size(seg);
    fill_disk(f, ballast, sizeof ballast);
    /* More than the free tail of the segment's last page: the write is short, then fails. */
    char big[3000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(put(f->st, "old", big, 5), 5);
    assert_int_equal(put(f->st, "new", big, 6), 6);
    assert_int_equal(put(f->st, "new", big, 7), 7);
    assert_int_equal(nb_store_remove(f->st, 6, NB_RM_LIMIT), 0);
    assert_int_equal(nb_store_remove(f->st, 1, NB_RM_LIMIT), 0); /* a flushed one: stays removed */
    struct nb_store_msg m;
    assert_int_equal(nb_store_get(f->st, 6, &m), NB_STORE_ENOTFOUND);
    check_msg(f->st, 7, "new", big);
    assert_int_equal(nb_store_flush(f->st), -ENOSPC);
    assert_int_equal(file_size(seg), size);
    assert_int_equal(nb_store_remove(f->st, 1, NB_RM_DURABLE), NB_STORE_ENOTFOUND);
    snap(f->st, &after);
    /* As before, minus seq 1: the flushed record removed by limits in between. */
    before.st.msgs--;
    before.st.bytes -= size_of(f->st, "old", "o1");
    before.st.first_seq = 3;
    before.st.first_ts = 3;
    before.st.num_deleted = 0;
    before.subj[0] = (struct nb_store_subject){1, 3, 3};
    before.ndeleted = 0;
    before.deleted[0] = 0;
    assert_memory_equal(&before, &after, sizeof before);
    check_msg(f->st, 3, "old", "o3");
    check_msg(f->st, 4, "other", "x4");
    for (uint64_t seq = 5; seq <= 8; seq++)
        assert_int_equal(nb_store_get(f->st, seq, &m), NB_STORE_ENOTFOUND);
    assert_int_equal(unlink(ballast), 0);
    assert_int_equal(put(f->st, "new", "n5", 5), 5);
    assert_int_equal(put(f->st, "new", "n6", 6), 6);
    assert_int_equal(nb_store_flush(f->st), 0);
    reopen(f);
    snap(f->st, &after);
    assert_int_equal(after.st.msgs, 4);
    assert_int_equal(after.st.first_seq, 3);
    assert_int_equal(after.st.last_seq, 6);
    assert_int_equal(after.st.num_subjects, 3);
    assert_int_equal(after.subj[1].count, 2);
    check_msg(f->st, 3, "old", "o3");
    check_msg(f->st, 4, "other", "x4");
    check_msg(f->st, 5, "new", "n5");
    check_msg(f->st, 6, "new", "n6");
    unmount_tmpfs(f);
}

/* An empty store fills the buffer up to the segment size; the append that rolls must flush. */
static void
test_roll_flush_fails(void **state)
{
    struct fx *f = *state;
    mount_tmpfs(f, "256k", 4096);
    char ballast[256], data[1000];
    fill_disk(f, ballast, sizeof ballast);
    memset(data, 'r', sizeof data - 1);
    data[sizeof data - 1] = 0;
    uint64_t n = 0;
    int rc;
    while ((rc = nb_store_append(f->st, n % 2 ? "r.a" : "r.b", 3, NULL, 0, data, sizeof data - 1, 1,
                                 NULL)) == 0)
        n++;
    assert_int_equal(rc, -ENOSPC);
    assert_int_equal(n, 4);
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    assert_int_equal(s.msgs, 0);
    assert_int_equal(s.last_seq, 0);
    assert_int_equal(s.num_subjects, 0);
    off_t total;
    assert_int_equal(dir_files(f->dir, &total), 1); /* no new segment */
    assert_int_equal(total, 0);
    assert_int_equal(unlink(ballast), 0);
    assert_int_equal(put(f->st, "r.a", "ok", 2), 1);
    assert_int_equal(nb_store_flush(f->st), 0);
    reopen(f);
    check_msg(f->st, 1, "r.a", "ok");
    unmount_tmpfs(f);
}

/* Everything a reader can observe of a store, as text: two stores compare with one string. */
struct dump {
    char *buf;
    size_t len, cap;
};

static void
dump_add(struct dump *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    while (d->len + (size_t)n + 1 > d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4096;
        d->buf = realloc(d->buf, d->cap);
        assert_non_null(d->buf);
    }
    va_start(ap, fmt);
    vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
    va_end(ap);
    d->len += (size_t)n;
}

static const char *const hist_subjects[] = {"h.0", "h.1", "h.2", "h.3", "k"};
#define NHIST (sizeof hist_subjects / sizeof *hist_subjects)

static char *
dump_store(struct nb_store *st)
{
    struct dump d = {0};
    struct nb_store_state s;
    nb_store_state(st, &s);
    dump_add(&d, "msgs %llu bytes %llu seq %llu..%llu ts %lld..%lld subj %llu del %llu lost %llu\n",
             (unsigned long long)s.msgs, (unsigned long long)s.bytes,
             (unsigned long long)s.first_seq, (unsigned long long)s.last_seq, (long long)s.first_ts,
             (long long)s.last_ts, (unsigned long long)s.num_subjects,
             (unsigned long long)s.num_deleted, (unsigned long long)s.lost_msgs);
    uint64_t del[4096];
    size_t ndel = nb_store_deleted(st, del, 4096);
    for (size_t i = 0; i < ndel && i < 4096; i++)
        dump_add(&d, "del %llu\n", (unsigned long long)del[i]);
    struct nb_store_msg m;
    for (uint64_t seq = 0; nb_store_next(st, seq, NULL, &m) == 0; seq = m.seq + 1)
        dump_add(&d, "msg %llu %lld %.*s %zu %.*s\n", (unsigned long long)m.seq, (long long)m.ts,
                 (int)m.subject_len, m.subject, m.hdr_len, (int)m.data_len, m.data);
    for (size_t i = 0; i < NHIST; i++) {
        struct nb_store_subject ss;
        nb_store_subject_state(st, hist_subjects[i], strlen(hist_subjects[i]), &ss);
        uint64_t last =
            nb_store_last_for(st, hist_subjects[i], strlen(hist_subjects[i]), &m) == 0 ? m.seq : 0;
        dump_add(&d, "subj %s %llu %llu %llu %llu\n", hist_subjects[i],
                 (unsigned long long)ss.count, (unsigned long long)ss.first,
                 (unsigned long long)ss.last, (unsigned long long)last);
    }
    return d.buf;
}

static void
snap_path(char *buf, size_t cap, const char *dir)
{
    snprintf(buf, cap, "%s/index.snap", dir);
}

/*
 * Opens a second instance of f's directory (the first may be left unclosed, as after kill -9),
 * checks whether it used the snapshot, and returns its dump; the instance is then closed, or
 * destroyed with its directory.
 */
static char *
open_dump(struct fx *f, bool want_snapshot, bool destroy)
{
    struct nb_store *keep = f->st;
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(f->rec.snapshot, want_snapshot);
    char *d = dump_store(f->st);
    if (destroy)
        assert_int_equal(nb_store_destroy(f->st), 0);
    else
        nb_store_close(f->st);
    f->st = keep;
    return d;
}

/*
 * The store as opened through its snapshot equals the store rebuilt by a full scan of a copy
 * taken before (the open may cut a damaged segment: the copy still has the damage).
 */
static void
check_same_as_scan(struct fx *f, bool want_snapshot)
{
    char dir[sizeof f->dir], cmd[512], path[256];
    strcpy(dir, f->dir);
    snprintf(cmd, sizeof cmd, "cp -a %s %s.scan", dir, dir);
    assert_int_equal(system(cmd), 0);
    char *via = open_dump(f, want_snapshot, false);
    strcat(f->dir, ".scan");
    snap_path(path, sizeof path, f->dir);
    assert_int_equal(unlink(path), 0);
    char *scan = open_dump(f, false, true);
    strcpy(f->dir, dir);
    assert_string_equal(via, scan);
    free(via);
    free(scan);
}

/* Appends, durable and limit removals, purges, skips and compactions over small segments. */
static void
make_history(struct fx *f)
{
    nb_store_destroy(f->st);
    f->block_size = 400;
    assert_int_equal(fx_open(f), 0);
    char data[48];
    for (int i = 0; i < 120; i++) {
        snprintf(data, sizeof data, "payload-%d-%.*s", i, i % 20, "xxxxxxxxxxxxxxxxxxxx");
        put(f->st, hist_subjects[i % 4], data, 1000 + i);
        if (i % 17 == 0) assert_int_equal(nb_store_skip(f->st, 5000 + i, NULL), 0);
    }
    for (uint64_t seq = 1; seq <= 15; seq++)
        (void)nb_store_remove(f->st, seq, NB_RM_LIMIT);
    for (uint64_t seq = 30; seq <= 90; seq += 3)
        (void)nb_store_remove(f->st, seq, seq % 2 ? NB_RM_DURABLE : NB_RM_LIMIT);
    assert_int_equal(nb_store_purge(f->st, "h.2", 60, 0, NULL), 0);
    assert_int_equal(nb_store_purge(f->st, NULL, 24, 0, NULL), 0);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
    for (uint64_t seq = 40; seq <= 70; seq++)
        (void)nb_store_remove(f->st, seq, NB_RM_LIMIT);
    put(f->st, "k", "last before the snapshot", 3000);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
}

static void
test_snapshot_exact(void **state)
{
    struct fx *f = *state;
    make_history(f);
    check_same_as_scan(f, true);
    /* A clean close and reopen goes through the snapshot too, and nothing changes. */
    char *before = dump_store(f->st);
    reopen(f);
    assert_true(f->rec.snapshot);
    char *after = dump_store(f->st);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* kill -9 after a checkpoint: what came later is read from the segments' tails. */
static void
test_snapshot_tail(void **state)
{
    struct fx *f = *state;
    make_history(f);
    put(f->st, "k", "after the snapshot", 4000);
    assert_int_equal(nb_store_remove(f->st, 100, NB_RM_DURABLE), 0);
    assert_int_equal(nb_store_remove(f->st, 101, NB_RM_LIMIT), 0); /* lost by the crash */
    assert_int_equal(nb_store_purge(f->st, "h.3", 0, 1, NULL), 0);
    assert_int_equal(nb_store_skip(f->st, 4001, NULL), 0);
    for (int i = 0; i < 20; i++) /* into new segments */
        put(f->st, hist_subjects[i % 5], "more after the snapshot", 4002 + i);
    assert_int_equal(nb_store_flush(f->st), 0);
    char *d = open_dump(f, true, false);
    assert_non_null(strstr(d, " k 0 after the snapshot\n"));
    assert_non_null(strstr(d, " h.0 0 more after the snapshot\n"));
    assert_null(strstr(d, "msg 100 "));
    assert_non_null(strstr(d, "subj h.3 5 ")); /* the one kept and 4 later */
    free(d);
    /* That open wrote a new snapshot at close; reopening the crashed directory uses it. */
    check_same_as_scan(f, true);
}

/*
 * An open through the snapshot uses its slots in place: removals, purges, compactions and appends
 * after it (into the mapped blocks, with freed subject ids reused) must give what a scan gives.
 */
static void
test_snapshot_mapped_changes(void **state)
{
    struct fx *f = *state;
    make_history(f);
    reopen(f);
    assert_true(f->rec.snapshot);
    for (uint64_t seq = 95; seq <= 110; seq += 2)
        (void)nb_store_remove(f->st, seq, seq % 4 == 1 ? NB_RM_DURABLE : NB_RM_LIMIT);
    assert_int_equal(nb_store_purge(f->st, "h.1", 0, 0, NULL), 0); /* frees its subject id */
    for (int i = 0; i < 8; i++)
        put(f->st, i % 2 ? "h.1" : "new", "after reopen", 6000 + i);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
    check_same_as_scan(f, true);
    reopen(f);
    char *d = dump_store(f->st);
    assert_non_null(strstr(d, "subj h.1 4 "));
    assert_null(strstr(d, "msg 97 "));
    free(d);
}

static off_t
file_size_at(const char *dir, const char *name)
{
    char path[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/*
 * Freed subject ids are reused: KV-style churn (2000 keys that come and go) leaves a snapshot of
 * about its 2001 slots (8 B each) and one subject, not a table of 2000 dead ids.
 */
static void
test_snapshot_subject_churn(void **state)
{
    struct fx *f = *state;
    char subject[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(subject, sizeof subject, "churn.%d", i);
        uint64_t seq = put(f->st, subject, "v", 100 + i);
        assert_int_equal(nb_store_remove(f->st, seq, NB_RM_DURABLE), 0);
    }
    put(f->st, "k", "kept", 9000);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
    assert_true(file_size_at(f->dir, "index.snap") < 2001 * 8 + 512);
    check_same_as_scan(f, true);
}

/* nb_store_count against a count of what nb_store_next returns, for filters and starts. */
static void
test_count(void **state)
{
    struct fx *f = *state;
    make_history(f);
    static const char *const filters[] = {NULL, ">", "h.0", "h.*", "k", "none", "h.>", "*"};
    struct nb_store_state st;
    nb_store_state(f->st, &st);
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
        for (uint64_t from = 0; from <= st.last_seq + 2; from++) {
            uint64_t want = 0;
            struct nb_store_msg m;
            for (uint64_t seq = from; nb_store_next(f->st, seq, filters[i], &m) == 0;
                 seq = m.seq + 1)
                want++;
            assert_int_equal(nb_store_count(f->st, from, filters[i]), want);
        }
    }
}

static int
count_segments(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".blk") != NULL;
    closedir(d);
    return n;
}

/*
 * kill -9 after the oldest segments were emptied and unlinked past the snapshot (a stream at its
 * limits): the snapshot still serves, without them, as a full scan would.
 */
static void
test_snapshot_head_gone(void **state)
{
    struct fx *f = *state;
    make_history(f);
    int before = count_segments(f->dir);
    struct nb_store_state st;
    nb_store_state(f->st, &st);
    for (uint64_t seq = st.first_seq; seq < st.first_seq + 30; seq++)
        (void)nb_store_remove(f->st, seq, NB_RM_DURABLE);
    put(f->st, "k", "after the head went", 6000);
    assert_int_equal(nb_store_flush(f->st), 0);
    assert_true(count_segments(f->dir) < before);
    check_same_as_scan(f, true);
}

static ino_t
snap_inode(struct fx *f)
{
    char path[256];
    struct stat sb;
    snap_path(path, sizeof path, f->dir);
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_ino;
}

/* A snapshot written off the loop thread, as the server does at its sync timer. */
static struct nb_store_snap *
snap_begin(struct fx *f)
{
    struct nb_store_snap *snap, *again;
    assert_int_equal(nb_store_checkpoint_begin(f->st, &snap), 0);
    assert_non_null(snap);
    assert_int_equal(nb_store_checkpoint_begin(f->st, &again), 0);
    assert_null(again); /* one at a time */
    return snap;
}

/*
 * It is named at its end and is then current (a checkpoint has nothing to write); it is dropped,
 * leaving the newer file in place, when a snapshot was written meanwhile or the store closed.
 */
static void
test_snapshot_async(void **state)
{
    struct fx *f = *state;
    make_history(f);
    put(f->st, "k", "before the async snapshot", 7000);
    struct nb_store_snap *snap = snap_begin(f);
    nb_store_snap_write(snap);
    nb_store_snap_end(snap);
    ino_t named = snap_inode(f);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
    assert_true(snap_inode(f) == named);

    put(f->st, "k", "superseded", 7001);
    snap = snap_begin(f);
    put(f->st, "k", "newer", 7002);
    assert_int_equal(nb_store_checkpoint(f->st), 0);
    ino_t newer = snap_inode(f);
    nb_store_snap_write(snap);
    nb_store_snap_end(snap);
    assert_true(snap_inode(f) == newer);

    put(f->st, "k", "orphaned", 7003);
    snap = snap_begin(f);
    reopen(f); /* the close writes its own snapshot */
    assert_true(f->rec.snapshot);
    newer = snap_inode(f);
    nb_store_snap_write(snap);
    nb_store_snap_end(snap);
    assert_true(snap_inode(f) == newer);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/index.snap.tmp", f->dir);
    assert_int_equal(access(tmp, F_OK), -1);
    check_same_as_scan(f, true);
}

static void
flip_byte(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    if (at < 0) at += lseek(fd, 0, SEEK_END);
    char c;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

/* The newest segment of f's directory. */
static uint64_t
last_segment(struct fx *f)
{
    struct nb_store_state s;
    nb_store_state(f->st, &s);
    char path[256];
    for (uint64_t seq = s.last_seq + 1;; seq--) {
        seg_path(path, sizeof path, f->dir, seq);
        if (access(path, F_OK) == 0) return seq;
    }
}

enum damage { SNAP_BYTE, SEG_SHORTER, SEG_TAIL_CHANGED, SEG_REMOVED, SEG_NEWER };

/* Damage done to a cleanly closed store, or (SEG_NEWER) appends after a checkpoint, then kill -9. */
static void
damage_case(struct fx *f, enum damage what)
{
    make_history(f);
    char path[256];
    uint64_t last = last_segment(f);
    bool trusted = false;
    if (what != SEG_NEWER) {
        nb_store_close(f->st);
        f->st = NULL;
    }
    switch (what) {
    case SNAP_BYTE:
        snap_path(path, sizeof path, f->dir);
        flip_byte(path, 100);
        break;
    case SEG_SHORTER:
        seg_path(path, sizeof path, f->dir, last);
        assert_int_equal(truncate(path, file_size(path) - 7), 0);
        break;
    case SEG_TAIL_CHANGED:
        seg_path(path, sizeof path, f->dir, last);
        flip_byte(path, -3);
        break;
    case SEG_REMOVED: { /* the second oldest: the oldest may go (test_snapshot_head_gone) */
        int found = 0;
        uint64_t seq = 1;
        for (; seq < last && found < 2; seq++) {
            seg_path(path, sizeof path, f->dir, seq);
            found += access(path, F_OK) == 0;
        }
        assert_int_equal(found, 2);
        assert_int_equal(unlink(path), 0);
        break;
    }
    case SEG_NEWER:
        for (int i = 0; i < 12; i++)
            put(f->st, "k", "a newer segment", 5000 + i);
        assert_int_equal(nb_store_flush(f->st), 0);
        assert_true(last_segment(f) > last);
        trusted = true;
        break;
    }
    check_same_as_scan(f, trusted);
    if (!f->st) assert_int_equal(fx_open(f), 0); /* for teardown */
}

static void
test_snapshot_bad_byte(void **state)
{
    damage_case(*state, SNAP_BYTE);
}

static void
test_snapshot_seg_shorter(void **state)
{
    damage_case(*state, SEG_SHORTER);
}

static void
test_snapshot_seg_changed(void **state)
{
    damage_case(*state, SEG_TAIL_CHANGED);
}

static void
test_snapshot_seg_removed(void **state)
{
    damage_case(*state, SEG_REMOVED);
}

static void
test_snapshot_seg_newer(void **state)
{
    damage_case(*state, SEG_NEWER);
}

/* Random bytes, bare or behind a valid header and checksum, are never trusted. */
static void
test_snapshot_garbage(void **state)
{
    struct fx *f = *state;
    make_history(f);
    char path[256], buf[4096];
    snap_path(path, sizeof path, f->dir);
    srand(7);
    for (int round = 0; round < 200; round++) {
        size_t len = (72 + (size_t)rand() % (sizeof buf - 72)) & ~(size_t)7;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)rand();
        if (round % 2) {
            uint32_t mark = 0x01020304, nsubjv = (uint32_t)(rand() % 8);
            memcpy(buf, "NBSNAP\r\n\2\0\0\0", 12);
            memcpy(buf + 12, &mark, 4);
            memcpy(buf + 16, &nsubjv, 4); /* little-endian host */
            uint64_t h = XXH3_64bits(buf, len - 8);
            memcpy(buf + len - 8, &h, 8); /* little-endian host */
        }
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, len, fp), len);
        fclose(fp);
        check_same_as_scan(f, false);
    }
}

#define BOTH(t)                                                                                    \
    cmocka_unit_test_setup_teardown(t, setup_mem, teardown),                                       \
        cmocka_unit_test_setup_teardown(t, setup_file, teardown)
#define FILE_ONLY(t) cmocka_unit_test_setup_teardown(t, setup_file, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_record_size),
        BOTH(test_append_get_next),
        BOTH(test_remove),
        BOTH(test_purge_all),
        BOTH(test_purge_filter),
        BOTH(test_purge_upto),
        BOTH(test_purge_keep),
        BOTH(test_purge_filter_keep),
        BOTH(test_skip),
        BOTH(test_take_dirty),
        BOTH(test_buffered_reads),
        FILE_ONLY(test_no_clean_shutdown),
        FILE_ONLY(test_torn_tail),
        FILE_ONLY(test_corrupt_middle),
        FILE_ONLY(test_segments),
        FILE_ONLY(test_enospc),
        FILE_ONLY(test_flush_undo),
        FILE_ONLY(test_roll_flush_fails),
        FILE_ONLY(test_snapshot_exact),
        FILE_ONLY(test_snapshot_tail),
        FILE_ONLY(test_count),
        FILE_ONLY(test_snapshot_head_gone),
        FILE_ONLY(test_snapshot_mapped_changes),
        FILE_ONLY(test_snapshot_subject_churn),
        FILE_ONLY(test_snapshot_async),
        FILE_ONLY(test_snapshot_bad_byte),
        FILE_ONLY(test_snapshot_seg_shorter),
        FILE_ONLY(test_snapshot_seg_changed),
        FILE_ONLY(test_snapshot_seg_removed),
        FILE_ONLY(test_snapshot_seg_newer),
        FILE_ONLY(test_snapshot_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
