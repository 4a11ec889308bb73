/*
 * The file store's index snapshot (docs/storage.md, "Index snapshot"): written by checkpoints so
 * that an open rebuilds the index without reading every record, and trusted only while each
 * segment it lists is still the file it describes. Anything doubtful means a full scan instead.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include "nb.h"
#include "nb_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SNAP_MAGIC   "NBSNAP\r\n"
#define SNAP_VERSION 2u
#define SNAP_TMP     NB_SNAP_NAME ".tmp"
/* magic, version, byte order, subject ids, pad, blocks, first_seq, last_seq, first_ts, last_ts */
#define HDR_LEN  64u
#define SUBJ_LEN 26u /* length, count, first, last; then the name */
/* first, size, inode, tail hash, live_bytes, last_ts, slots, live, flags, pad */
#define BLK_LEN  64u
#define BLK_XREF 1u
/* Slots are stored as the host lays them out; a snapshot from another byte order is not used. */
#define BYTE_ORDER_MARK UINT32_C(0x01020304)
/* A segment's last bytes, hashed: they hold at least its last record's checksum. */
#define TAIL_LEN 4096u
#define MAX_SEQ  ((UINT64_C(1) << 61) - 1)

_Static_assert(sizeof(struct nb__slot) == 8, "slots are mapped from the snapshot as 8 bytes");

static size_t
pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static int
tail_hash(int fd, uint64_t size, uint64_t *out)
{
    char buf[TAIL_LEN];
    size_t len = size < TAIL_LEN ? (size_t)size : TAIL_LEN;
    for (size_t got = 0; got < len;) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(size - len + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return r < 0 ? -errno : -EIO;
        got += (size_t)r;
    }
    *out = XXH3_64bits(buf, len);
    return 0;
}

static size_t
snap_len(const struct nb_store *st)
{
    size_t subjects = 0;
    for (uint32_t id = 1; id < st->nsubjv; id++)
        subjects += st->subjv[id] ? SUBJ_LEN + st->subjv[id]->len : 2;
    size_t len = HDR_LEN + pad8(subjects) + 8;
    for (size_t i = 0; i < st->nblks; i++)
        len += BLK_LEN + (size_t)st->blks[i]->n * sizeof(struct nb__slot);
    return len;
}

/* Every subject id in order, a free one as a zero length, so that the slots' ids stay valid. */
static size_t
put_subjects(const struct nb_store *st, char *p)
{
    size_t pos = 0;
    for (uint32_t id = 1; id < st->nsubjv; id++) {
        const struct nb__subj *s = st->subjv[id];
        nb__put16(p + pos, (uint16_t)(s ? s->len : 0));
        if (!s) {
            pos += 2;
            continue;
        }
        nb__put64(p + pos + 2, s->count);
        nb__put64(p + pos + 10, s->first);
        nb__put64(p + pos + 18, s->last);
        memcpy(p + pos + SUBJ_LEN, s->name, s->len);
        pos += SUBJ_LEN + s->len;
    }
    memset(p + pos, 0, pad8(pos) - pos);
    return pad8(pos);
}

static int
put_block(const struct nb__blk *b, char *p)
{
    struct stat sb;
    uint64_t tail;
    if (fstat(b->fd, &sb) != 0) return -errno;
    int rc = tail_hash(b->fd, b->size, &tail);
    if (rc) return rc;
    nb__put64(p, b->first);
    nb__put64(p + 8, b->size);
    nb__put64(p + 16, (uint64_t)sb.st_ino);
    nb__put64(p + 24, tail);
    nb__put64(p + 32, b->live_bytes);
    nb__put64(p + 40, (uint64_t)b->last_ts);
    nb__put32(p + 48, b->n);
    nb__put32(p + 52, (uint32_t)b->live);
    nb__put32(p + 56, b->xref ? BLK_XREF : 0);
    nb__put32(p + 60, 0);
    if (b->n) memcpy(p + BLK_LEN, b->slot, (size_t)b->n * sizeof *b->slot);
    return 0;
}

/* Temp file, fsync, rename, fsync of the directory: a crash leaves the old snapshot or the new. */
static int
write_atomic(struct nb_store *st, const char *buf, size_t len)
{
    int fd = openat(st->dirfd, SNAP_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int rc = nb__write_all(fd, buf, len);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && renameat(st->dirfd, SNAP_TMP, st->dirfd, NB_SNAP_NAME) != 0) rc = -errno;
    if (rc) {
        unlinkat(st->dirfd, SNAP_TMP, 0);
        return rc;
    }
    return fsync(st->dirfd) != 0 ? -errno : 0;
}

/* A snapshot on its way to the disk off the loop thread (nb_store_checkpoint_begin()). */
struct nb_store_snap {
    struct nb_store *st; /* NULL once the store is closed: the file is dropped */
    int dirfd, fd;       /* a copy of the store's directory; the unnamed file */
    char *buf;
    size_t len;
    uint64_t gen;    /* the index generation the copy holds */
    bool written;    /* the file holds the copy, synced */
    bool superseded; /* a newer snapshot was written on the loop thread meanwhile */
};

/* The whole snapshot of the index, in a malloc'd buffer. */
static int
build(struct nb_store *st, char **out, size_t *out_len)
{
    size_t len = snap_len(st);
    char *buf = malloc(len);
    if (!buf) return NB_ENOMEM;
    uint32_t mark = BYTE_ORDER_MARK;
    memcpy(buf, SNAP_MAGIC, 8);
    nb__put32(buf + 8, SNAP_VERSION);
    memcpy(buf + 12, &mark, 4);
    nb__put32(buf + 16, st->nsubjv ? st->nsubjv : 1);
    nb__put32(buf + 20, 0);
    nb__put64(buf + 24, st->nblks);
    nb__put64(buf + 32, st->msgs ? st->first_seq : st->last_seq + 1);
    nb__put64(buf + 40, st->last_seq);
    nb__put64(buf + 48, (uint64_t)st->first_ts);
    nb__put64(buf + 56, (uint64_t)st->last_ts);
    char *p = buf + HDR_LEN + put_subjects(st, buf + HDR_LEN);
    int rc = 0;
    for (size_t i = 0; i < st->nblks && rc == 0; i++) {
        rc = put_block(st->blks[i], p);
        p += BLK_LEN + (size_t)st->blks[i]->n * sizeof(struct nb__slot);
    }
    nb__put64(buf + len - 8, XXH3_64bits(buf, len - 8));
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int
nb__snap_write(struct nb_store *st)
{
    char *buf;
    size_t len;
    int rc = build(st, &buf, &len);
    if (rc) return rc;
    rc = write_atomic(st, buf, len);
    free(buf);
    if (rc) return rc;
    st->snap_gen = st->gen;
    if (st->snap_job) st->snap_job->superseded = true;
    return 0;
}

/* ---- the snapshot written off the loop thread ---------------------------------------------- */

/* Naming an unnamed file goes through /proc (linkat with AT_EMPTY_PATH needs privileges). */
static bool
can_name_unnamed(void)
{
    static int ok = -1;
    if (ok < 0) ok = access("/proc/self/fd", X_OK) == 0;
    return ok;
}

int
nb__snap_begin(struct nb_store *st, struct nb_store_snap **out)
{
    int fd =
        can_name_unnamed() ? openat(st->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644) : -1;
    if (fd < 0) return nb__snap_write(st); /* no unnamed files here: the old way */
    struct nb_store_snap *snap = calloc(1, sizeof *snap);
    int rc = snap ? build(st, &snap->buf, &snap->len) : NB_ENOMEM;
    if (rc == 0 && (snap->dirfd = fcntl(st->dirfd, F_DUPFD_CLOEXEC, 0)) < 0) {
        rc = -errno;
        free(snap->buf);
    }
    if (rc) {
        close(fd);
        free(snap);
        return rc;
    }
    snap->st = st;
    snap->fd = fd;
    snap->gen = st->gen;
    st->snap_job = snap;
    *out = snap;
    return 0;
}

void
nb_store_snap_write(struct nb_store_snap *snap)
{
    snap->written = nb__write_all(snap->fd, snap->buf, snap->len) == 0 && fsync(snap->fd) == 0;
    free(snap->buf);
    snap->buf = NULL;
}

/* Links the written file as the temporary name, then renames it over the snapshot. */
static bool
name_snapshot(struct nb_store_snap *snap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", snap->fd);
    (void)unlinkat(snap->dirfd, SNAP_TMP, 0);
    if (linkat(AT_FDCWD, path, snap->dirfd, SNAP_TMP, AT_SYMLINK_FOLLOW) != 0) return false;
    if (renameat(snap->dirfd, SNAP_TMP, snap->dirfd, NB_SNAP_NAME) == 0) return true;
    (void)unlinkat(snap->dirfd, SNAP_TMP, 0);
    return false;
}

void
nb_store_snap_end(struct nb_store_snap *snap)
{
    struct nb_store *st = snap->st;
    if (st) st->snap_job = NULL;
    /* The rename reaches the disk with the directory's next sync; until then the old one holds. */
    if (st && snap->written && !snap->superseded && name_snapshot(snap)) {
        st->snap_gen = snap->gen;
        st->dir_dirty = true;
    }
    close(snap->fd);
    close(snap->dirfd);
    free(snap->buf);
    free(snap);
}

void
nb__snap_orphan(struct nb_store *st)
{
    if (st->snap_job) st->snap_job->st = NULL;
    st->snap_job = NULL;
}

/* Bounds-checked reading of the snapshot: any overrun marks it invalid. */
struct reader {
    const char *p;
    size_t left;
};

static const char *
take(struct reader *r, size_t n)
{
    if (n > r->left) return NULL;
    const char *q = r->p;
    r->p += n;
    r->left -= n;
    return q;
}

/*
 * Maps the whole snapshot, privately: the blocks use its slot arrays in place, and a change to
 * one copies only the page it touches. Returns 0, or 1 when there is none usable.
 */
static int
map_snap(struct nb_store *st)
{
    int fd = openat(st->dirfd, NB_SNAP_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    struct stat sb;
    void *map = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && sb.st_size >= HDR_LEN + 8 && sb.st_size % 8 == 0 &&
        (uint64_t)sb.st_size < SIZE_MAX)
        map = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return 1;
    st->snap_map = map;
    st->snap_len = (size_t)sb.st_size;
    return 0;
}

void
nb__snap_unmap(struct nb_store *st)
{
    if (st->snap_map) munmap(st->snap_map, st->snap_len);
    st->snap_map = NULL;
    st->snap_len = 0;
}

/* The subject table, ids in order. Returns 1, 0 if invalid, or an error. */
static int
load_subjects(struct nb_store *st, struct reader *r, uint32_t nsubjv, uint64_t last_seq)
{
    for (uint32_t id = 1; id < nsubjv; id++) {
        const char *h = take(r, 2);
        size_t len = h ? (size_t)nb__get_le(h, 2) : 0;
        if (!h) return 0;
        if (!len) {
            nb__subj_free_id(st, id);
            continue;
        }
        const char *q = take(r, SUBJ_LEN - 2 + len);
        if (!q || np_map_get(&st->subjects, q + SUBJ_LEN - 2, len)) return 0;
        struct nb__subj *s;
        int rc = nb__subj_add(st, id, q + SUBJ_LEN - 2, len, &s);
        if (rc) return rc;
        s->count = nb__get_le(q, 8);
        s->first = nb__get_le(q + 8, 8);
        s->last = nb__get_le(q + 16, 8);
        if (!s->count || !s->first || s->first > s->last || s->last > last_seq) return 0;
    }
    size_t at = (size_t)(r->p - (const char *)st->snap_map);
    return take(r, pad8(at) - at) != NULL; /* the blocks' slots start 8-byte aligned */
}

/*
 * Whether b's segment is still what the snapshot saw: same file (a compaction renames a new one
 * over it), same size (the last segment may have grown), same last bytes. Keeps the descriptor.
 */
static bool
seg_matches(struct nb_store *st, struct nb__blk *b, const char *h, bool last)
{
    char name[NB_SEG_NAME_LEN];
    nb__seg_name(name, b->first, "");
    b->fd = openat(st->dirfd, name, O_RDWR | O_APPEND | O_CLOEXEC);
    struct stat sb;
    uint64_t tail;
    if (b->fd < 0 || fstat(b->fd, &sb) != 0) return false;
    uint64_t size = (uint64_t)sb.st_size;
    return (uint64_t)sb.st_ino == nb__get_le(h + 16, 8) &&
           (size == b->size || (last && size > b->size)) && tail_hash(b->fd, b->size, &tail) == 0 &&
           tail == nb__get_le(h + 24, 8);
}

/*
 * One block, checked against its segment, segs[*j]; its slots stay in the mapping. A block older
 * than every segment (emptied and unlinked after the snapshot) is loaded without a file and
 * counted in *gone; only the oldest blocks can be such, and not the last. Returns 1, 0 when the
 * snapshot cannot be trusted, or an error.
 */
static int
load_block(struct nb_store *st, struct reader *r, const uint64_t *segs, size_t nsegs, size_t *j,
           size_t *gone, uint64_t last_seq, bool last)
{
    const char *h = take(r, BLK_LEN);
    uint64_t first = h ? nb__get_le(h, 8) : 0;
    bool missing = h && *j == 0 && first < segs[0] && !last;
    if (!h || (!missing && (*j >= nsegs || first != segs[*j]))) return 0;
    uint32_t n = (uint32_t)nb__get_le(h + 48, 4), live = (uint32_t)nb__get_le(h + 52, 4),
             flags = (uint32_t)nb__get_le(h + 56, 4);
    const char *slots = take(r, (size_t)n * sizeof(struct nb__slot));
    uint64_t end = first + n; /* one past the block's last sequence */
    uint64_t next = missing ? segs[0] : *j + 1 < nsegs ? segs[*j + 1] : UINT64_MAX;
    if (!slots || live > n || flags & ~BLK_XREF || end - 1 > last_seq || end > next) return 0;
    struct nb__blk *b = nb__blk_new(st, first);
    if (!b) return NB_ENOMEM;
    b->size = nb__get_le(h + 8, 8);
    b->live_bytes = nb__get_le(h + 32, 8);
    b->last_ts = (int64_t)nb__get_le(h + 40, 8);
    b->xref = flags & BLK_XREF;
    b->slot = (struct nb__slot *)(uintptr_t)slots;
    b->n = b->cap = n;
    b->live = live;
    b->mapped = true;
    st->nmapped++;
    if (b->live_bytes > b->size || (!missing && !seg_matches(st, b, h, last))) return 0;
    *gone += missing;
    *j += !missing;
    st->msgs += live;
    st->bytes += b->live_bytes;
    return 1;
}

static uint64_t
subject_msgs(const struct nb_store *st)
{
    uint64_t n = 0;
    for (uint32_t id = 1; id < st->nsubjv; id++)
        n += st->subjv[id] ? st->subjv[id]->count : 0;
    return n;
}

/* Returns 1 with the index built, 0 when the snapshot cannot be trusted, or an error. */
static int
load(struct nb_store *st, const uint64_t *segs, size_t nsegs)
{
    const char *buf = st->snap_map;
    size_t len = st->snap_len;
    uint32_t mark = BYTE_ORDER_MARK;
    if (memcmp(buf, SNAP_MAGIC, 8) != 0 || nb__get_le(buf + 8, 4) != SNAP_VERSION ||
        memcmp(buf + 12, &mark, 4) != 0 ||
        XXH3_64bits(buf, len - 8) != nb__get_le(buf + len - 8, 8))
        return 0;
    uint32_t nsubjv = (uint32_t)nb__get_le(buf + 16, 4);
    uint64_t nblk = nb__get_le(buf + 24, 8), first_seq = nb__get_le(buf + 32, 8),
             last_seq = nb__get_le(buf + 40, 8);
    struct reader r = {buf + HDR_LEN, len - HDR_LEN - 8};
    if (nsubjv > r.left / 2 + 1 || !nblk || last_seq > MAX_SEQ || first_seq > last_seq + 1)
        return 0;
    int rc = load_subjects(st, &r, nsubjv, last_seq);
    size_t j = 0, gone = 0;
    for (size_t i = 0; i < nblk && rc > 0; i++)
        rc = load_block(st, &r, segs, nsegs, &j, &gone, last_seq, i + 1 == nblk);
    /* The listed segments are the oldest present; a newer one can only have been started later. */
    if (rc > 0 && (r.left || subject_msgs(st) != st->msgs || (st->msgs && first_seq > last_seq) ||
                   (j < nsegs && last_seq >= segs[j])))
        rc = 0;
    if (rc <= 0) return rc;
    st->first_seq = st->msgs ? first_seq : last_seq + 1;
    st->last_seq = last_seq;
    st->first_ts = (int64_t)nb__get_le(buf + 48, 8);
    st->last_ts = (int64_t)nb__get_le(buf + 56, 8);
    if (!gone) return 1;
    nb__index_forget_head(st, gone);
    return 2;
}

int
nb__snap_load(struct nb_store *st, const uint64_t *segs, size_t nsegs)
{
    (void)unlinkat(st->dirfd, SNAP_TMP, 0); /* left by a crash while writing */
    if (map_snap(st) != 0) return 0;
    uint64_t first = st->first_seq;
    int rc = load(st, segs, nsegs);
    if (rc <= 0) nb__index_reset(st, first);
    if (!st->nmapped) nb__snap_unmap(st);
    return rc;
}
