/*
 * The store's shared index and the two backends behind it (private to nb_store*.c).
 *
 * Both kinds keep the same in-memory index: blocks of dense sequences, each with a slot per
 * sequence holding the message's subject id (0: deleted), plus the per-subject map.
 * Only where a message's bytes live differs: a malloc'd record (memory) or an offset in a
 * segment file (file), so the two kinds cannot drift apart in behaviour.
 */
#ifndef NB_STORE_INT_H
#define NB_STORE_INT_H

#include "nb_store.h"
#include "np_map.h"

/* Memory blocks are a bookkeeping unit only: small enough that evicted heads are freed soon. */
#define MEM_BLK_SLOTS 4096u

struct nb__subj {
    uint64_t count, first, last;
    uint32_t id; /* its place in st->subjv, which slots refer to; reused once it is freed */
    size_t len;
    char name[]; /* the map's key points here */
};

/* A memory store's message; the subject lives in its nb__subj. */
struct nb__mrec {
    int64_t ts;
    size_t hdr_len, data_len;
    char bytes[]; /* hdr then data */
};

/*
 * A sequence's place in its block. It has the same 8 bytes in memory and in the index snapshot, so
 * that an open maps the snapshot's slot arrays (copy-on-write) instead of rebuilding them.
 */
struct nb__slot {
    uint32_t sid; /* the message's subject id, 0 = deleted */
    uint32_t off; /* file: the record's offset in the segment */
};

struct nb__blk {
    uint64_t first;        /* sequence of slot 0 (a file segment's name) */
    uint32_t n, cap;       /* slots in use (first .. first + n - 1), allocated */
    uint64_t live;         /* slots holding a message */
    uint64_t size;         /* file: bytes in the segment file */
    uint64_t live_bytes;   /* file: record bytes of the live messages */
    int64_t last_ts;       /* timestamp of slot n - 1 (a message or a skip) */
    struct nb__slot *slot; /* per sequence */
    struct nb__mrec **mem; /* memory: record per slot */
    bool mapped;           /* file: slot points into the store's snapshot mapping */
    int fd;                /* file: the segment, or -1 */
    bool dirty;            /* file: written since the last nb_store_take_dirty() */
    bool xref;             /* file: holds tombstones for sequences of older segments */
    bool compacted;        /* file: rewritten by the running checkpoint */
    uint64_t clean_live;   /* file: live_bytes when last compacted (redoing it gains nothing) */
};

struct nb_store {
    enum nb_store_kind kind;
    struct nb__blk **blks; /* ascending by first; the last one takes appends */
    size_t nblks, blks_cap;
    uint64_t first_seq, last_seq, msgs, bytes;
    int64_t first_ts, last_ts;
    uint64_t lost_msgs, lost_bytes;
    struct np_map subjects;
    struct nb__subj **subjv; /* by id; [0] and free ids are NULL */
    uint32_t nsubjv, subjv_cap;
    uint32_t *free_ids; /* ids to reuse, so that subject churn does not grow subjv */
    uint32_t nfree, free_cap;

    /* file stores only */
    char *dir;
    int dirfd;
    bool dir_dirty;
    uint64_t block_size;
    char *
        wbuf; /* appended records wait here for nb_store_flush(), after the active segment's size */
    size_t wcap, wlen;
    struct nb__wmark { /* the index as of the last flush, for undoing the buffered appends */
        uint64_t last_seq;
        int64_t last_ts, blk_last_ts;
        uint32_t n; /* the active block's slots */
    } wmark;
    char *rbuf; /* read-ahead cache of one segment's bytes [roff, roff + rlen) */
    size_t rcap, rlen;
    uint64_t roff;
    const struct nb__blk *rblk;
    uint64_t *pending; /* NB_RM_LIMIT removals not yet durable */
    size_t npending, pending_cap;
    void *snap_map; /* the snapshot an open mapped, while mapped blocks use it */
    size_t snap_len, nmapped;
    struct nb_store_snap *snap_job; /* a snapshot being written off the loop thread */
    /* Bumped by every change of the index or of a segment: the snapshot is current at snap_gen. */
    uint64_t gen, snap_gen;
};

/* Shared index (nb_store.c). */
struct nb__blk *nb__blk_new(struct nb_store *st, uint64_t first);
int nb__blk_reserve(struct nb_store *st, struct nb__blk *b, bool with_mem, uint32_t need);
struct nb__blk *nb__blk_find(const struct nb_store *st, uint64_t seq, uint32_t *slot);
void nb__blk_free(struct nb_store *st, struct nb__blk *b);
int nb__subj_ref(struct nb_store *st, const char *subject, size_t len, struct nb__subj **out);
int nb__subj_add(struct nb_store *st, uint32_t id, const char *subject, size_t len,
                 struct nb__subj **out);
void nb__subj_free_id(struct nb_store *st, uint32_t id);
void nb__subj_unref_unused(struct nb_store *st, struct nb__subj *s);
void nb__index_add(struct nb_store *st, struct nb__blk *b, struct nb__subj *s, uint64_t size,
                   int64_t ts);
void nb__index_remove(struct nb_store *st, struct nb__blk *b, uint32_t slot, uint64_t size);
void nb__index_extend(struct nb_store *st, struct nb__blk *b, uint64_t seq, int64_t ts);
void nb__index_cut(struct nb_store *st, struct nb__blk *b, const struct nb__wmark *m);
int nb__remove_seq(struct nb_store *st, uint64_t seq);
void nb__drop_blk(struct nb_store *st, size_t i);
void nb__reap(struct nb_store *st);
void nb__index_reset(struct nb_store *st, uint64_t first);
void nb__index_forget_head(struct nb_store *st, size_t n);

/* The subject of slot k of b, or NULL when it is deleted. */
static inline struct nb__subj *
nb__slot_subj(const struct nb_store *st, const struct nb__blk *b, uint32_t k)
{
    uint32_t id = b->slot[k].sid;
    return id < st->nsubjv ? st->subjv[id] : NULL;
}

/* Memory backend (nb_memstore.c). */
int nb__mem_append(struct nb_store *st, const char *subject, size_t subject_len, const char *hdr,
                   size_t hdr_len, const char *data, size_t data_len, int64_t ts);
void nb__mem_load(const struct nb__blk *b, uint32_t slot, struct nb_store_msg *out);
void nb__mem_free_slot(struct nb__blk *b, uint32_t slot);

/* File backend (nb_filestore.c). */
#define NB_REC_MIN      30u /* a record's length, seq, ts, subject length and checksum */
#define NB_SEG_NAME_LEN 32
/* Little-endian fields of segment records and of the snapshot. */
static inline void
nb__put16(char *p, uint16_t v)
{
    p[0] = (char)(v & 0xff);
    p[1] = (char)(v >> 8);
}

static inline void
nb__put32(char *p, uint32_t v)
{
    nb__put16(p, (uint16_t)(v & 0xffff));
    nb__put16(p + 2, (uint16_t)(v >> 16));
}

static inline void
nb__put64(char *p, uint64_t v)
{
    nb__put32(p, (uint32_t)(v & 0xffffffffu));
    nb__put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t
nb__get_le(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

void nb__seg_name(char *buf, uint64_t first, const char *suffix);
int nb__write_all(int fd, const char *buf, size_t len);
int nb__file_open(struct nb_store *st, const struct nb_store_opts *opts,
                  struct nb_store_recovery *rec);
int nb__file_new_blk(struct nb_store *st, uint64_t first, struct nb__blk **out);
int nb__file_append(struct nb_store *st, const char *subject, size_t subject_len, const char *hdr,
                    size_t hdr_len, const char *data, size_t data_len, int64_t ts);
int nb__file_flush(struct nb_store *st);
int nb__file_load(struct nb_store *st, const struct nb__blk *b, uint32_t slot,
                  struct nb_store_msg *out);
int nb__file_tombstones(struct nb_store *st, uint64_t head, const uint64_t *seqs, size_t n,
                        int64_t ts);
int nb__file_reset(struct nb_store *st);
int nb__file_checkpoint(struct nb_store *st);
void nb__file_drop(struct nb_store *st, struct nb__blk *b);
int nb__file_close(struct nb_store *st, bool unlink_all);

/* Index snapshot of a file store (nb_filesnap.c). */
#define NB_SNAP_NAME "index.snap"
int nb__snap_write(struct nb_store *st);
int nb__snap_begin(struct nb_store *st, struct nb_store_snap **out);
void nb__snap_orphan(struct nb_store *st);
/*
 * Builds the index from the snapshot when it can be trusted for segs (the segment files present,
 * ascending). Returns 1, 2 when it was trusted but listed segments that are gone (it needs
 * rewriting), 0 when it cannot be trusted (nothing loaded), or an error.
 */
int nb__snap_load(struct nb_store *st, const uint64_t *segs, size_t nsegs);
void nb__snap_unmap(struct nb_store *st);

#endif
