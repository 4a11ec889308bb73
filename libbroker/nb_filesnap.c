/*
 * The file store's index snapshot (docs/storage.md, "Index snapshot"): written by checkpoints so
 * that an open rebuilds the index without reading every record, and trusted only while each
 * segment it lists is still the file it describes. Anything doubtful means a full scan instead.
 */
#include "nb.h"
#include "nb_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SNAP_MAGIC   "NBSNAP\r\n"
#define SNAP_VERSION 1u
#define SNAP_TMP     NB_SNAP_NAME ".tmp"
#define HDR_LEN      48u /* magic, version, subjects, blocks, last_seq, first_ts, last_ts */
#define BLK_LEN      56u /* first, size, inode, tail hash, live_bytes, last_ts, slots, flags */
#define SLOT_LEN     8u  /* subject number (0: deleted), record offset */
#define BLK_XREF     1u
/* A segment's last bytes, hashed: they hold at least its last record's checksum. */
#define TAIL_LEN 4096u
#define MAX_SEQ  ((UINT64_C(1) << 61) - 1)

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
    size_t len = HDR_LEN + 8, it = 0;
    void *v;
    while (np_map_next(&st->subjects, &it, NULL, NULL, &v))
        len += 2 + ((const struct nb__subj *)v)->len;
    for (size_t i = 0; i < st->nblks; i++)
        len += BLK_LEN + (size_t)st->blks[i]->n * SLOT_LEN;
    return len;
}

/* Numbers the subjects from 1 in the order written. */
static size_t
put_subjects(struct nb_store *st, char *p)
{
    size_t it = 0, pos = 0;
    uint32_t id = 0;
    void *v;
    while (np_map_next(&st->subjects, &it, NULL, NULL, &v)) {
        struct nb__subj *s = v;
        s->id = ++id;
        nb__put16(p + pos, (uint16_t)s->len);
        memcpy(p + pos + 2, s->name, s->len);
        pos += 2 + s->len;
    }
    return pos;
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
    nb__put32(p + 52, b->xref ? BLK_XREF : 0);
    char *q = p + BLK_LEN;
    for (uint32_t k = 0; k < b->n; k++, q += SLOT_LEN) {
        nb__put32(q, b->subj[k] ? b->subj[k]->id : 0);
        nb__put32(q + 4, b->subj[k] ? b->off[k] : 0);
    }
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

int
nb__snap_write(struct nb_store *st)
{
    size_t len = snap_len(st);
    char *buf = malloc(len);
    if (!buf) return NB_ENOMEM;
    memcpy(buf, SNAP_MAGIC, 8);
    nb__put32(buf + 8, SNAP_VERSION);
    nb__put32(buf + 12, (uint32_t)np_map_count(&st->subjects));
    nb__put64(buf + 16, st->nblks);
    nb__put64(buf + 24, st->last_seq);
    nb__put64(buf + 32, (uint64_t)st->first_ts);
    nb__put64(buf + 40, (uint64_t)st->last_ts);
    char *p = buf + HDR_LEN + put_subjects(st, buf + HDR_LEN);
    int rc = 0;
    for (size_t i = 0; i < st->nblks && rc == 0; i++) {
        rc = put_block(st->blks[i], p);
        p += BLK_LEN + (size_t)st->blks[i]->n * SLOT_LEN;
    }
    nb__put64(buf + len - 8, XXH3_64bits(buf, len - 8));
    if (rc == 0) rc = write_atomic(st, buf, len);
    free(buf);
    if (rc == 0) st->snap_gen = st->gen;
    return rc;
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

/* Reads the whole snapshot into *buf. Returns 0, or 1 when there is none usable. */
static int
read_snap(struct nb_store *st, char **buf, size_t *len)
{
    int fd = openat(st->dirfd, NB_SNAP_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    struct stat sb;
    char *b = NULL;
    size_t got = 0, want = 0;
    if (fstat(fd, &sb) == 0 && sb.st_size >= HDR_LEN + 8 && (uint64_t)sb.st_size < SIZE_MAX)
        b = malloc(want = (size_t)sb.st_size);
    while (b && got < want) {
        ssize_t r = read(fd, b + got, want - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!b || got < want) {
        free(b);
        return 1;
    }
    *buf = b;
    *len = want;
    return 0;
}

/* The subject table; duplicates would only share an entry. Returns 1, 0 if invalid, or an error. */
static int
load_subjects(struct nb_store *st, struct reader *r, struct nb__subj **subj, uint32_t nsubj)
{
    for (uint32_t i = 0; i < nsubj; i++) {
        const char *h = take(r, 2);
        size_t len = h ? (size_t)nb__get_le(h, 2) : 0;
        const char *name = len ? take(r, len) : NULL;
        if (!name) return 0;
        int rc = nb__subj_ref(st, name, len, &subj[i]);
        if (rc) return rc;
    }
    return 1;
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

/* Fills b's slots and the subjects' state. Returns whether every slot is sane. */
static bool
load_slots(struct nb_store *st, struct nb__blk *b, const char *q, struct nb__subj **subj,
           uint32_t nsubj, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++, q += SLOT_LEN) {
        uint32_t id = (uint32_t)nb__get_le(q, 4), off = (uint32_t)nb__get_le(q + 4, 4);
        struct nb__subj *s = id && id <= nsubj ? subj[id - 1] : NULL;
        if (id > nsubj || (s && (uint64_t)off + NB_REC_MIN > b->size)) return false;
        b->subj[k] = s;
        b->off[k] = off;
        if (!s) continue;
        uint64_t seq = b->first + k;
        if (s->count++ == 0) s->first = seq;
        s->last = seq;
        b->live++;
        if (st->msgs++ == 0) st->first_seq = seq;
    }
    b->n = n;
    return true;
}

/* One block, checked against its segment. Returns 1, 0 if it does not match, or an error. */
static int
load_block(struct nb_store *st, struct reader *r, struct nb__subj **subj, uint32_t nsubj,
           const uint64_t *segs, size_t nsegs, size_t i, uint64_t last_seq, bool last)
{
    const char *h = take(r, BLK_LEN);
    if (!h || nb__get_le(h, 8) != segs[i]) return 0;
    uint32_t n = (uint32_t)nb__get_le(h + 48, 4), flags = (uint32_t)nb__get_le(h + 52, 4);
    const char *slots = take(r, (size_t)n * SLOT_LEN);
    uint64_t end = segs[i] + n; /* one past the block's last sequence */
    if (!slots || flags & ~BLK_XREF || end - 1 > last_seq || (i + 1 < nsegs && end > segs[i + 1]))
        return 0;
    struct nb__blk *b = nb__blk_new(st, segs[i]);
    if (!b) return NB_ENOMEM;
    b->size = nb__get_le(h + 8, 8);
    b->live_bytes = nb__get_le(h + 32, 8);
    b->last_ts = (int64_t)nb__get_le(h + 40, 8);
    b->xref = flags & BLK_XREF;
    int rc = nb__blk_reserve(b, true, false, n);
    if (rc) return rc;
    if (b->live_bytes > b->size || !seg_matches(st, b, h, last) ||
        !load_slots(st, b, slots, subj, nsubj, n))
        return 0;
    st->bytes += b->live_bytes;
    return 1;
}

static bool
subjects_used(struct nb__subj *const *subj, uint32_t nsubj)
{
    for (uint32_t i = 0; i < nsubj; i++)
        if (!subj[i]->count) return false;
    return true;
}

/* Returns 1 with the index built, 0 when the snapshot cannot be trusted, or an error. */
static int
load(struct nb_store *st, const char *buf, size_t len, const uint64_t *segs, size_t nsegs)
{
    if (memcmp(buf, SNAP_MAGIC, 8) != 0 || nb__get_le(buf + 8, 4) != SNAP_VERSION ||
        XXH3_64bits(buf, len - 8) != nb__get_le(buf + len - 8, 8))
        return 0;
    uint32_t nsubj = (uint32_t)nb__get_le(buf + 12, 4);
    uint64_t nblk = nb__get_le(buf + 16, 8), last_seq = nb__get_le(buf + 24, 8);
    struct reader r = {buf + HDR_LEN, len - HDR_LEN - 8};
    /* Every listed segment exists, and a newer one can only have been started later. */
    if (nsubj > r.left / 3 || !nblk || nblk > nsegs || last_seq > MAX_SEQ ||
        segs[nblk - 1] - 1 > last_seq || (nblk < nsegs && last_seq >= segs[nblk]))
        return 0;
    struct nb__subj **subj = malloc((nsubj ? nsubj : 1) * sizeof *subj);
    if (!subj) return NB_ENOMEM;
    int rc = load_subjects(st, &r, subj, nsubj);
    for (size_t i = 0; i < nblk && rc > 0; i++)
        rc = load_block(st, &r, subj, nsubj, segs, nsegs, i, last_seq, i + 1 == nblk);
    if (rc > 0 && (r.left || !subjects_used(subj, nsubj))) rc = 0;
    free(subj);
    if (rc <= 0) return rc;
    st->last_seq = last_seq;
    st->first_ts = (int64_t)nb__get_le(buf + 32, 8);
    st->last_ts = (int64_t)nb__get_le(buf + 40, 8);
    if (!st->msgs) st->first_seq = last_seq + 1;
    return 1;
}

int
nb__snap_load(struct nb_store *st, const uint64_t *segs, size_t nsegs)
{
    (void)unlinkat(st->dirfd, SNAP_TMP, 0); /* left by a crash while writing */
    char *buf;
    size_t len;
    if (read_snap(st, &buf, &len) != 0) return 0;
    uint64_t first = st->first_seq;
    int rc = load(st, buf, len, segs, nsegs);
    free(buf);
    if (rc <= 0) nb__index_reset(st, first);
    return rc;
}
