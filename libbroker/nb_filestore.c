/*
 * The file store's message bodies: segment files of checksummed records (docs/storage.md has
 * the format), recovery, tombstones and compaction. The index itself is nb_store.c's.
 */
#include "nb.h"
#include "nb_store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define F_TOMB        (UINT64_C(1) << 62)
#define F_HEAD        (UINT64_C(1) << 61) /* with F_TOMB: every sequence below this one is deleted */
#define F_SEQ         (F_HEAD - 1)
#define F_HDRS        0x80000000u
#define DEFAULT_BLOCK (UINT64_C(8) << 20)
/* Offsets are 32 bits: a segment is cut before 1 GiB, so one more record still fits. */
#define MAX_BLOCK  (UINT64_C(1) << 30)
#define READ_AHEAD (256u << 10)
/* Past this many buffered bytes an append flushes first: bounds the memory and the undo. */
#define WBUF_MAX (UINT64_C(1) << 20)

struct rec {
    uint32_t len;
    uint64_t seq; /* without flags */
    bool tomb, head;
    int64_t ts;
    const char *subject, *hdr, *data;
    size_t subject_len, hdr_len, data_len;
};

static size_t
rec_len(size_t subject_len, size_t hdr_len, size_t data_len)
{
    return NB_REC_MIN + subject_len + data_len + (hdr_len ? 4 + hdr_len : 0);
}

static size_t
rec_put(char *p, uint64_t seq, int64_t ts, const struct nb_store_msg *m)
{
    size_t len = rec_len(m->subject_len, m->hdr_len, m->data_len);
    nb__put32(p, (uint32_t)len | (m->hdr_len ? F_HDRS : 0));
    nb__put64(p + 4, seq);
    nb__put64(p + 12, (uint64_t)ts);
    nb__put16(p + 20, (uint16_t)m->subject_len);
    char *q = p + 22;
    if (m->subject_len) memcpy(q, m->subject, m->subject_len);
    q += m->subject_len;
    if (m->hdr_len) {
        nb__put32(q, (uint32_t)m->hdr_len);
        memcpy(q + 4, m->hdr, m->hdr_len);
        q += 4 + m->hdr_len;
    }
    if (m->data_len) memcpy(q, m->data, m->data_len);
    nb__put64(p + len - 8, XXH3_64bits(p, len - 8));
    return len;
}

/* Parses the record at p; returns NULL or why it is not a valid record. */
static const char *
rec_parse(const char *p, size_t avail, struct rec *r)
{
    if (avail < 4) return "torn record";
    uint32_t raw = (uint32_t)nb__get_le(p, 4);
    bool hdrs = raw & F_HDRS;
    r->len = raw & ~F_HDRS;
    if (r->len < NB_REC_MIN + (hdrs ? 4 : 0)) return "bad length";
    if (r->len > avail) return "torn record";
    uint64_t seq = nb__get_le(p + 4, 8);
    r->ts = (int64_t)nb__get_le(p + 12, 8);
    r->subject_len = (size_t)nb__get_le(p + 20, 2);
    r->subject = p + 22;
    size_t rest = r->len - NB_REC_MIN - (hdrs ? 4 : 0);
    if (r->subject_len > rest) return "bad length";
    rest -= r->subject_len;
    r->hdr_len = hdrs ? (size_t)nb__get_le(p + 22 + r->subject_len, 4) : 0;
    r->hdr = hdrs ? p + 26 + r->subject_len : NULL;
    if (r->hdr_len > rest || (hdrs && !r->hdr_len)) return "bad length";
    r->data_len = rest - r->hdr_len;
    r->data = p + r->len - 8 - r->data_len;
    if (XXH3_64bits(p, r->len - 8) != nb__get_le(p + r->len - 8, 8)) return "bad checksum";
    r->tomb = seq & F_TOMB;
    r->head = seq & F_HEAD;
    r->seq = seq & F_SEQ;
    if (seq >> 63 || (r->head && !r->tomb) || (r->tomb && r->len != NB_REC_MIN) ||
        (!r->tomb && !r->subject_len) || !r->seq)
        return "bad record";
    return NULL;
}

void
nb__seg_name(char *buf, uint64_t first, const char *suffix)
{
    snprintf(buf, NB_SEG_NAME_LEN, "%020" PRIu64 ".blk%s", first, suffix);
}

static int
grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    char *nb = realloc(*buf, c);
    if (!nb) return NB_ENOMEM;
    *buf = nb;
    *cap = c;
    return 0;
}

/* Writes len bytes at the end of b; on failure cuts off whatever part got written. */
static int
seg_write(struct nb_store *st, struct nb__blk *b, const char *buf, size_t len)
{
    size_t done = 0;
    int err = 0;
    while (done < len && !err) {
        ssize_t w = write(b->fd, buf + done, len - done);
        if (w > 0)
            done += (size_t)w;
        else if (w == 0)
            err = -EIO;
        else if (errno != EINTR)
            err = -errno;
    }
    if (err) {
        if (done) (void)ftruncate(b->fd, (off_t)b->size);
        return err;
    }
    b->size += len;
    b->dirty = true;
    st->gen++;
    return 0;
}

int
nb__file_new_blk(struct nb_store *st, uint64_t first, struct nb__blk **out)
{
    char name[NB_SEG_NAME_LEN];
    nb__seg_name(name, first, "");
    int fd = openat(st->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    struct nb__blk *b = nb__blk_new(st, first);
    if (!b) {
        close(fd);
        unlinkat(st->dirfd, name, 0);
        return NB_ENOMEM;
    }
    b->fd = fd;
    st->dir_dirty = true;
    *out = b;
    return 0;
}

/* The buffered appends, newest first, leave the index; the active segment keeps its file size. */
static void
undo_buffered(struct nb_store *st, struct nb__blk *b)
{
    uint64_t end = b->size + st->wlen;
    for (uint32_t k = b->n; k-- > st->wmark.n;) {
        if (b->slot[k].sid) nb__index_remove(st, b, k, end - b->slot[k].off);
        end = b->slot[k].off;
    }
    nb__index_cut(st, b, &st->wmark);
    st->wlen = 0;
}

int
nb__file_flush(struct nb_store *st)
{
    if (!st->wlen) return 0;
    struct nb__blk *b = st->blks[st->nblks - 1];
    int rc = seg_write(st, b, st->wbuf, st->wlen);
    if (rc)
        undo_buffered(st, b);
    else
        st->wlen = 0;
    return rc;
}

/* Flushes when the record would overfill the buffer or start a new segment, then rolls. */
static int
make_room(struct nb_store *st, size_t len, struct nb__blk **b)
{
    *b = st->blks[st->nblks - 1];
    bool roll = (*b)->size + st->wlen >= st->block_size && (*b)->n;
    int rc = 0;
    if (roll || (st->wlen && st->wlen + len > WBUF_MAX)) rc = nb__file_flush(st);
    if (rc == 0 && roll) rc = nb__file_new_blk(st, st->last_seq + 1, b);
    return rc;
}

int
nb__file_append(struct nb_store *st, const char *subject, size_t subject_len, const char *hdr,
                size_t hdr_len, const char *data, size_t data_len, int64_t ts)
{
    size_t len = rec_len(subject_len, hdr_len, data_len);
    struct nb__blk *b;
    struct nb__subj *s;
    int rc = make_room(st, len, &b);
    if (rc || (rc = nb__blk_reserve(st, b, false, b->n + 1)) ||
        (rc = grow(&st->wbuf, &st->wcap, st->wlen + len)) ||
        (rc = nb__subj_ref(st, subject, subject_len, &s)))
        return rc;
    if (!st->wlen) st->wmark = (struct nb__wmark){st->last_seq, st->last_ts, b->last_ts, b->n};
    struct nb_store_msg m = {.subject = subject,
                             .subject_len = subject_len,
                             .hdr = hdr,
                             .hdr_len = hdr_len,
                             .data = data,
                             .data_len = data_len};
    rec_put(st->wbuf + st->wlen, st->last_seq + 1, ts, &m);
    b->slot[b->n].off = (uint32_t)(b->size + st->wlen);
    st->wlen += len;
    nb__index_add(st, b, s, len, ts);
    return 0;
}

/* Points *p at need bytes of b from off, through the read-ahead cache. */
static int
read_at(struct nb_store *st, const struct nb__blk *b, uint64_t off, size_t need, const char **p)
{
    if (st->rblk != b || off < st->roff || off + need > st->roff + st->rlen) {
        size_t want = need > READ_AHEAD ? need : READ_AHEAD;
        if (grow(&st->rbuf, &st->rcap, want)) return NB_ENOMEM;
        st->rblk = NULL;
        size_t got = 0;
        while (got < need) {
            ssize_t r = pread(b->fd, st->rbuf + got, want - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return r < 0 ? -errno : -EIO;
            got += (size_t)r;
        }
        st->rblk = b;
        st->roff = off;
        st->rlen = got;
    }
    *p = st->rbuf + (off - st->roff);
    return 0;
}

/* A record not flushed yet lies in the write buffer: the file ends at b->size. */
static int
rec_at(struct nb_store *st, const struct nb__blk *b, uint64_t off, size_t need, const char **p)
{
    if (off < b->size) return read_at(st, b, off, need, p);
    *p = st->wbuf + (off - b->size);
    return off - b->size + need <= st->wlen ? 0 : -EIO;
}

int
nb__file_load(struct nb_store *st, const struct nb__blk *b, uint32_t slot, struct nb_store_msg *out)
{
    const char *p;
    int rc = rec_at(st, b, b->slot[slot].off, 4, &p);
    if (rc) return rc;
    size_t len = (uint32_t)nb__get_le(p, 4) & ~F_HDRS;
    if (len < NB_REC_MIN) return -EIO;
    rc = rec_at(st, b, b->slot[slot].off, len, &p);
    struct rec r;
    if (rc || rec_parse(p, len, &r) || r.tomb || r.seq != b->first + slot) return rc ? rc : -EIO;
    *out = (struct nb_store_msg){r.seq,  r.ts,          r.subject, r.hdr,
                                 r.data, r.subject_len, r.hdr_len, r.data_len};
    return 0;
}

static size_t
tomb_put(char *p, uint64_t seq, int64_t ts)
{
    struct nb_store_msg empty = {0};
    return rec_put(p, seq, ts, &empty);
}

int
nb__file_tombstones(struct nb_store *st, uint64_t head, const uint64_t *seqs, size_t n, int64_t ts)
{
    /* The buffered records come first: their offsets are already in the index. */
    int rc = nb__file_flush(st);
    if (rc) return rc;
    struct nb__blk *b = st->blks[st->nblks - 1];
    if (grow(&st->wbuf, &st->wcap, (n + 1) * NB_REC_MIN)) return NB_ENOMEM;
    size_t len = head ? tomb_put(st->wbuf, head | F_TOMB | F_HEAD, 0) : 0;
    bool xref = head != 0;
    for (size_t i = 0; i < n; i++) {
        len += tomb_put(st->wbuf + len, seqs[i] | F_TOMB, ts);
        xref |= seqs[i] < b->first;
    }
    rc = seg_write(st, b, st->wbuf, len);
    if (rc == 0 && xref) b->xref = true;
    return rc;
}

static void
invalidate(struct nb_store *st, const struct nb__blk *b)
{
    if (st->rblk == b) st->rblk = NULL;
}

void
nb__file_drop(struct nb_store *st, struct nb__blk *b)
{
    char name[NB_SEG_NAME_LEN];
    nb__seg_name(name, b->first, "");
    invalidate(st, b);
    if (b->fd >= 0) {
        unlinkat(st->dirfd, name, 0);
        close(b->fd);
    }
    st->dir_dirty = true;
}

int
nb__file_reset(struct nb_store *st)
{
    struct nb__blk *b = st->blks[st->nblks - 1];
    /* Best effort (a full disk refuses it): a crash before the unlinks then still purges all. */
    (void)nb__file_tombstones(st, st->last_seq + 1, NULL, 0, 0);
    if (b->first != st->last_seq + 1) return nb__file_new_blk(st, st->last_seq + 1, &b);
    /* The active segment has no sequence of its own: emptied, it is the new one. */
    if (ftruncate(b->fd, 0) != 0) return -errno;
    st->gen++;
    invalidate(st, b);
    b->size = 0;
    b->xref = false;
    return 0;
}

/* What a recovery scan collects before applying deletions. */
struct scan {
    struct nb_store_recovery *rec;
    uint64_t head;   /* the highest "all below" mark */
    uint64_t *tombs; /* sequences deleted by tombstones */
    size_t ntombs, tombs_cap;
    uint64_t max_span;     /* most sequences one segment may cover: bounds a corrupt sequence */
    struct nb__subj *last; /* the previous record's subject: runs of one subject skip the map */
};

static int
tomb_push(struct scan *sc, uint64_t seq)
{
    if (sc->ntombs == sc->tombs_cap) {
        size_t cap = sc->tombs_cap ? sc->tombs_cap * 2 : 256;
        uint64_t *t = realloc(sc->tombs, cap * sizeof *t);
        if (!t) return NB_ENOMEM;
        sc->tombs = t;
        sc->tombs_cap = cap;
    }
    sc->tombs[sc->ntombs++] = seq;
    return 0;
}

/* Adds one parsed record to block b. Returns 0, an error, or 1 with *why when it is invalid. */
static int
scan_rec(struct nb_store *st, struct scan *sc, struct nb__blk *b, const struct rec *r, uint64_t off,
         uint64_t limit, const char **why)
{
    uint64_t next = b->first + b->n;
    if (r->tomb && r->head) {
        if (r->seq > sc->head) sc->head = r->seq;
        if (r->seq - 1 > st->last_seq) st->last_seq = r->seq - 1;
        b->xref = true;
        return 0;
    }
    if (r->tomb && r->seq < next) {
        b->xref |= r->seq < b->first;
        return tomb_push(sc, r->seq);
    }
    *why = "sequence out of order";
    if (r->seq < next || r->seq >= limit || r->seq - b->first >= sc->max_span) return 1;
    int rc = nb__blk_reserve(st, b, false, (uint32_t)(r->seq - b->first + 1));
    if (rc) return rc;
    if (r->tomb) {
        nb__index_extend(st, b, r->seq, r->ts);
        return 0;
    }
    struct nb__subj *s = sc->last;
    if ((!s || s->len != r->subject_len || memcmp(s->name, r->subject, s->len) != 0) &&
        (rc = nb__subj_ref(st, r->subject, r->subject_len, &s)))
        return rc;
    sc->last = s;
    if (r->seq > next) nb__index_extend(st, b, r->seq - 1, b->last_ts);
    b->slot[b->n].off = (uint32_t)off;
    nb__index_add(st, b, s, r->len, r->ts);
    return 0;
}

/* Counts the messages a truncation loses: the damaged record at p and the valid ones after it. */
static uint64_t
count_lost(const char *p, size_t avail)
{
    uint64_t n = 1;
    size_t len = (size_t)(nb__get_le(p, avail >= 4 ? 4 : 0) & ~F_HDRS);
    struct rec r;
    for (size_t off = len >= NB_REC_MIN ? len : avail;
         off < avail && !rec_parse(p + off, avail - off, &r); off += r.len)
        n += !r.tomb;
    return n;
}

/* Cuts b at off, where p points at its first invalid record, and size is the file's length. */
static int
cut_segment(struct nb_store *st, struct scan *sc, struct nb__blk *b, const char *p, uint64_t off,
            uint64_t size, const char *why)
{
    char name[NB_SEG_NAME_LEN];
    nb__seg_name(name, b->first, "");
    /* Counted first: the mapping past the new end faults once the file is cut. */
    uint64_t lost = count_lost(p, (size_t)(size - off));
    if (ftruncate(b->fd, (off_t)off) != 0 || fsync(b->fd) != 0) return -errno;
    if (!sc->rec->truncated_segments++)
        snprintf(sc->rec->detail, sizeof sc->rec->detail, "segment %s truncated at %" PRIu64 ": %s",
                 name, off, why);
    sc->rec->lost_msgs += lost;
    sc->rec->lost_bytes += size - off;
    st->lost_msgs += lost;
    st->lost_bytes += size - off;
    return 0;
}

/*
 * Reads b's records from b->size (0, or where its snapshot ended) to the end of the file, cutting
 * the segment at the first invalid one. The mapping starts at the page holding b->size.
 */
static int
scan_from(struct nb_store *st, struct scan *sc, struct nb__blk *b, uint64_t limit)
{
    struct stat sb;
    if (fstat(b->fd, &sb) != 0) return -errno;
    uint64_t size = (uint64_t)sb.st_size, off = b->size;
    if (off >= size) return 0;
    uint64_t base = off & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
    const char *map = mmap(NULL, (size_t)(size - base), PROT_READ, MAP_PRIVATE, b->fd, (off_t)base);
    if (map == MAP_FAILED) return -errno;
    (void)madvise((void *)map, (size_t)(size - base), MADV_SEQUENTIAL);
    int rc = 0;
    while (off < size) {
        struct rec r;
        const char *p = map + (off - base);
        const char *why = rec_parse(p, (size_t)(size - off), &r);
        if (!why) {
            rc = scan_rec(st, sc, b, &r, off, limit, &why);
            if (rc == 0) off += r.len;
            if (rc < 0) break;
            if (rc == 0) continue;
        }
        rc = cut_segment(st, sc, b, p, off, size, why);
        break;
    }
    munmap((void *)map, (size_t)(size - base));
    b->size = off;
    return rc;
}

/* Loads one segment into a new block. */
static int
scan_segment(struct nb_store *st, struct scan *sc, uint64_t first, uint64_t limit)
{
    char name[NB_SEG_NAME_LEN];
    nb__seg_name(name, first, "");
    int fd = openat(st->dirfd, name, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct nb__blk *b = nb__blk_new(st, first);
    if (!b) {
        close(fd);
        return NB_ENOMEM;
    }
    b->fd = fd;
    if (first - 1 > st->last_seq) st->last_seq = first - 1;
    return scan_from(st, sc, b, limit);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The first sequences of the segments in the directory, sorted; leftover temp files go. */
static int
list_segments(struct nb_store *st, uint64_t **out, size_t *n)
{
    int fd = dup(st->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) return fd >= 0 ? (close(fd), -errno) : -errno;
    uint64_t *v = NULL;
    size_t k = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        char *end;
        unsigned long long seq = strtoull(e->d_name, &end, 10);
        if (end != e->d_name + 20 || seq == 0 || seq > F_SEQ) continue;
        if (strcmp(end, ".blk.tmp") == 0) unlinkat(st->dirfd, e->d_name, 0);
        if (strcmp(end, ".blk") != 0) continue;
        if (k == cap) {
            uint64_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *nv);
            if (!nv)
                rc = NB_ENOMEM;
            else
                v = nv;
        }
        if (rc == 0) v[k++] = seq;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (k) qsort(v, k, sizeof *v, cmp_u64);
    *out = v;
    *n = k;
    return 0;
}

static int
apply_deletions(struct nb_store *st, const struct scan *sc)
{
    for (uint64_t seq = st->msgs ? st->first_seq : 0; seq && seq < sc->head;) {
        int rc = nb__remove_seq(st, seq);
        if (rc && rc != NB_STORE_ENOTFOUND) return rc;
        seq = st->msgs ? st->first_seq : 0;
    }
    for (size_t i = 0; i < sc->ntombs; i++) {
        int rc = nb__remove_seq(st, sc->tombs[i]);
        if (rc && rc != NB_STORE_ENOTFOUND) return rc;
    }
    return 0;
}

static int
recover(struct nb_store *st, struct nb_store_recovery *rec, uint64_t first)
{
    uint64_t *segs = NULL;
    size_t n = 0;
    int rc = list_segments(st, &segs, &n);
    if (rc) return rc;
    struct scan sc = {.rec = rec,
                      .max_span = (st->block_size > (UINT64_C(64) << 20) ? st->block_size
                                                                         : (UINT64_C(64) << 20)) /
                                  NB_REC_MIN};
    /* A valid snapshot stands for the segments it lists: only what follows them is read. */
    int loaded = n ? nb__snap_load(st, segs, n) : 0;
    uint64_t gen = st->gen;
    size_t i = loaded > 0 ? st->nblks : 0;
    rc = loaded < 0 ? loaded : 0;
    rec->snapshot = loaded > 0;
    if (loaded > 0)
        rc = scan_from(st, &sc, st->blks[i - 1], i < n ? segs[i] : F_SEQ + 1);
    else if (n)
        st->last_seq = 0;
    for (; i < n && rc == 0; i++)
        rc = scan_segment(st, &sc, segs[i], i + 1 < n ? segs[i + 1] : F_SEQ + 1);
    free(segs);
    if (!st->msgs) st->first_seq = st->last_seq + 1;
    if (rc == 0) rc = apply_deletions(st, &sc);
    free(sc.tombs);
    struct nb__blk *b;
    if (rc == 0 && !n) rc = nb__file_new_blk(st, first, &b);
    if (rc == 0) nb__reap(st);
    /* Nothing was added to what the snapshot holds: it need not be written again. */
    if (loaded == 1 && st->gen == gen) st->snap_gen = gen;
    return rc;
}

int
nb__file_open(struct nb_store *st, const struct nb_store_opts *opts, struct nb_store_recovery *rec)
{
    if (!opts->dir) return -EINVAL;
    st->dir = strdup(opts->dir);
    if (!st->dir) return NB_ENOMEM;
    st->block_size = opts->block_size ? opts->block_size : DEFAULT_BLOCK;
    if (st->block_size > MAX_BLOCK) st->block_size = MAX_BLOCK;
    if (mkdir(opts->dir, 0755) != 0 && errno != EEXIST) return -errno;
    st->dirfd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0) return -errno;
    return recover(st, rec, st->first_seq);
}

/*
 * Makes NB_RM_LIMIT removals durable: one "all below" mark for the evicted head, tombstones for
 * the rest whose record is still on disk (not in a segment just compacted or unlinked).
 */
static int
flush_pending(struct nb_store *st)
{
    if (!st->npending) return 0;
    uint64_t *seqs = malloc(st->npending * sizeof *seqs), head = 0;
    if (!seqs) return NB_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < st->npending; i++) {
        const struct nb__blk *b;
        uint32_t slot;
        if (st->pending[i] < st->first_seq)
            head = st->first_seq;
        else if ((b = nb__blk_find(st, st->pending[i], &slot)) && !b->compacted)
            seqs[k++] = st->pending[i];
    }
    int rc = head || k ? nb__file_tombstones(st, head, seqs, k, 0) : 0;
    free(seqs);
    if (rc == 0) st->npending = 0;
    return rc;
}

int
nb__write_all(int fd, const char *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? -errno : -EIO;
        done += (size_t)w;
    }
    return 0;
}

/*
 * Copies what must survive of b's records into out: live messages, tombstones still needed for
 * older segments, and a tombstone for b's last sequence when that one is deleted (the segment's
 * range would shrink otherwise). Sets the new offsets and whether cross references remain.
 */
static size_t
compact_copy(const struct nb_store *st, const struct nb__blk *b, const char *map, char *out,
             uint32_t *off, bool *xref)
{
    uint64_t oldest = st->blks[0]->first;
    bool older = st->blks[0] != b;
    size_t pos = 0;
    struct rec r;
    *xref = false;
    for (size_t p = 0; p < b->size && !rec_parse(map + p, (size_t)(b->size - p), &r); p += r.len) {
        bool keep;
        if (!r.tomb) {
            uint64_t slot = r.seq - b->first;
            keep = slot < b->n && b->slot[slot].sid;
            if (keep) off[slot] = (uint32_t)pos;
        } else {
            keep = older && (r.head ? r.seq > oldest : r.seq >= oldest && r.seq < b->first);
            *xref |= keep;
        }
        if (keep) memcpy(out + pos, map + p, r.len);
        pos += keep ? r.len : 0;
    }
    if (b->n && !b->slot[b->n - 1].sid)
        pos += tomb_put(out + pos, (b->first + b->n - 1) | F_TOMB, b->last_ts);
    return pos;
}

/* Rewrites b without its deleted records: temp file, fsync, rename, fsync of the directory. */
static int
compact(struct nb_store *st, struct nb__blk *b)
{
    char name[NB_SEG_NAME_LEN], tmp[NB_SEG_NAME_LEN];
    nb__seg_name(name, b->first, "");
    nb__seg_name(tmp, b->first, ".tmp");
    char *out = malloc((size_t)b->size + NB_REC_MIN);
    uint32_t *off = malloc((b->n ? b->n : 1) * sizeof *off);
    const char *map = mmap(NULL, (size_t)b->size, PROT_READ, MAP_PRIVATE, b->fd, 0);
    int rc = !out || !off ? NB_ENOMEM : map == MAP_FAILED ? -errno : 0;
    int fd = -1;
    bool xref = false;
    size_t len = 0;
    if (rc == 0) {
        len = compact_copy(st, b, map, out, off, &xref);
        fd = openat(st->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        rc = fd < 0 ? -errno : nb__write_all(fd, out, len);
    }
    if (rc == 0 &&
        (fsync(fd) != 0 || renameat(st->dirfd, tmp, st->dirfd, name) != 0 || fsync(st->dirfd) != 0))
        rc = -errno;
    if (map != MAP_FAILED) munmap((void *)map, (size_t)b->size);
    if (rc == 0) {
        for (uint32_t k = 0; k < b->n; k++)
            if (b->slot[k].sid) b->slot[k].off = off[k];
        close(b->fd);
        b->fd = fd;
        b->size = len;
        b->xref = xref;
        b->clean_live = b->live_bytes;
        b->compacted = true;
        b->dirty = false;
        st->gen++;
        invalidate(st, b);
    } else if (fd >= 0) {
        close(fd);
        unlinkat(st->dirfd, tmp, 0);
    }
    free(out);
    free(off);
    return rc;
}

/* Compaction goes first: removals whose records it drops need no tombstone. */
int
nb__file_checkpoint(struct nb_store *st)
{
    int rc = 0;
    for (size_t i = 0; i + 1 < st->nblks && rc == 0; i++) {
        struct nb__blk *b = st->blks[i];
        if (b->size - b->live_bytes > b->size / 2 && b->live_bytes != b->clean_live)
            rc = compact(st, b);
    }
    if (rc == 0) rc = flush_pending(st);
    for (size_t i = 0; i < st->nblks; i++)
        st->blks[i]->compacted = false;
    if (rc == 0) nb__reap(st);
    return rc;
}

int
nb__file_close(struct nb_store *st, bool unlink_all)
{
    int rc = 0;
    for (size_t i = 0; i < st->nblks; i++) {
        struct nb__blk *b = st->blks[i];
        char name[NB_SEG_NAME_LEN];
        nb__seg_name(name, b->first, "");
        if (unlink_all && b->fd >= 0 && unlinkat(st->dirfd, name, 0) != 0) rc = -errno;
        if (b->fd >= 0) close(b->fd);
        b->fd = -1;
    }
    if (unlink_all && st->dirfd >= 0 && unlinkat(st->dirfd, NB_SNAP_NAME, 0) != 0 &&
        errno != ENOENT && rc == 0)
        rc = -errno;
    if (st->dirfd >= 0) close(st->dirfd);
    st->dirfd = -1;
    if (unlink_all && st->dir && rmdir(st->dir) != 0 && rc == 0) rc = -errno;
    return rc;
}
