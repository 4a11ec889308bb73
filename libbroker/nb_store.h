/*
 * A stream's message store: an append-only log of messages numbered by sequence, kept in memory
 * or in segment files (one interface, two implementations, chosen at open).
 *
 * Sequences start at 1 (or at opts.first_seq) and are never reused: removing a message leaves a
 * gap. The store also keeps per-subject state ({count, first, last}) because stream limits, KV and
 * the expected-sequence headers ask for it on every publish.
 *
 * Durability: a record reaches the OS at the next nb_store_flush(); the caller must not acknowledge
 * before it. nb_store_append() only builds the record in the store's write buffer and indexes it,
 * so it is readable at once by every read function, and the caller flushes once per event-loop
 * iteration (one write() for all the records appended in it). A flushed record survives kill -9
 * of the server, not a power cut. Every other call that writes (nb_store_remove() with
 * NB_RM_DURABLE, nb_store_purge(), nb_store_skip(), nb_store_checkpoint(),
 * nb_store_take_dirty(), nb_store_close(), nb_store_destroy()) flushes first, and so does an
 * append that would grow the buffer past 1 MiB or start a new segment; when that flush fails,
 * the call fails with its error and the buffered appends are undone as described at
 * nb_store_flush(). Syncing to the disk is the caller's decision: nb_store_take_dirty() hands out
 * the files written since the last call, to be fsync'd off the event loop. Removals have two
 * strengths: NB_RM_DURABLE (user deletes, purges, acknowledged work-queue messages) is written as
 * a tombstone before the call returns, while NB_RM_LIMIT (evictions by max_msgs, max_bytes,
 * max_age, max_msgs_per_subject) is only made durable at the next checkpoint, because the stream
 * enforces its limits again when it loads.
 *
 * Errors are negative: a negated errno from the file system (-ENOSPC, -EIO...), NB_ENOMEM, or
 * NB_STORE_ENOTFOUND. A failed call changes nothing, in memory or on disk, except that a failed
 * flush (its own or one a call does first) undoes the buffered appends.
 *
 * Views returned in struct nb_store_msg point into the store's buffers and stay valid until the
 * next call on the same store. Not thread-safe: one loop thread owns a store.
 */
#ifndef NB_STORE_H
#define NB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_STORE_ENOTFOUND (-300)

struct nb_store;

enum nb_store_kind { NB_STORE_MEMORY, NB_STORE_FILE };

struct nb_store_opts {
    enum nb_store_kind kind;
    const char *dir;     /* file stores: the directory holding the segments (created if missing) */
    uint64_t block_size; /* file stores: roll to a new segment past this many bytes, 0 = 8 MiB */
    uint64_t first_seq;  /* the first sequence of a new, empty store; 0 = 1 */
};

struct nb_store_msg {
    uint64_t seq;
    int64_t ts; /* Unix time in ns, as given to nb_store_append() */
    const char *subject, *hdr, *data;
    size_t subject_len, hdr_len, data_len; /* hdr_len 0: no header block */
};

struct nb_store_state {
    uint64_t msgs, bytes;         /* bytes: the sum of nb_store_record_size() over the messages */
    uint64_t first_seq, last_seq; /* empty: first = last + 1 (both 0 for a store never written) */
    int64_t first_ts, last_ts;    /* 0 when empty */
    uint64_t num_subjects;
    uint64_t num_deleted;           /* interior gaps between first_seq and last_seq */
    uint64_t lost_msgs, lost_bytes; /* dropped by recovery (a torn or corrupted tail) */
};

/* What recovery found, for the server's log. */
struct nb_store_recovery {
    uint64_t truncated_segments; /* segments cut at a bad record */
    uint64_t lost_msgs, lost_bytes;
    char detail[256]; /* the first damage, "segment FILE truncated at OFFSET: why", or "" */
    bool snapshot;    /* the index came from the snapshot: only later appends were read */
};

/*
 * Opens (or creates) a store. A file store is recovered from its segments: each record's checksum
 * is verified, a segment is truncated at its first torn or corrupted record (reported in rec),
 * tombstones are applied. Returns 0 and sets *out, or a negative code.
 */
int nb_store_open(struct nb_store **out, const struct nb_store_opts *opts,
                  struct nb_store_recovery *rec);
/* Flushes, writes a checkpoint, closes files and frees the store (NULL is a no-op). */
void nb_store_close(struct nb_store *st);
/*
 * Flushes, then closes and removes every file of the store and frees it. Returns 0, or the
 * error of the flush or of a removal (the store is freed anyway).
 */
int nb_store_destroy(struct nb_store *st);

/* Bytes one message accounts for in state.bytes and max_bytes (the store's record size). */
uint64_t nb_store_record_size(const struct nb_store *st, size_t subject_len, size_t hdr_len,
                              size_t data_len);

/*
 * Appends a message with sequence last_seq + 1 and timestamp ts (ns) to the write buffer; it is
 * on file only after the next nb_store_flush(). Returns 0 and sets *seq, or a negative code
 * (nothing was stored; when the flush this append needed first failed, the earlier buffered
 * appends were undone too).
 */
int nb_store_append(struct nb_store *st, const char *subject, size_t subject_len, const char *hdr,
                    size_t hdr_len, const char *data, size_t data_len, int64_t ts, uint64_t *seq);
/*
 * Writes every buffered append with one write() (repeated on short writes). Returns 0, or a
 * negative code after which every buffered append is undone exactly: the segment is cut back to
 * its size before them, and the index is as of the last successful flush for those sequences
 * (state, per-subject state, subjects, deleted sequences, first sequence of an emptied store),
 * so the next append gets the sequence after the last flushed one. NB_RM_LIMIT removals of
 * flushed messages made since then stay; those of buffered messages go with the messages. A
 * memory store has nothing to write: 0.
 */
int nb_store_flush(struct nb_store *st);
/*
 * Consumes the next sequence without storing a message (interest retention with no consumer).
 * The skipped sequence is a deleted one; it is durable like a tombstone.
 */
int nb_store_skip(struct nb_store *st, int64_t ts, uint64_t *seq);

/* Loads the message with sequence seq. Returns 0, NB_STORE_ENOTFOUND, or a read error. */
int nb_store_get(struct nb_store *st, uint64_t seq, struct nb_store_msg *out);
/*
 * Loads the first message with sequence >= start whose subject matches filter (a subject that may
 * contain wildcards; NULL or ">" matches all). Returns 0, NB_STORE_ENOTFOUND or a read error.
 */
int nb_store_next(struct nb_store *st, uint64_t start, const char *filter,
                  struct nb_store_msg *out);
/*
 * How many messages have a sequence >= from and a subject matching filter (NULL or ">": all),
 * from the index alone: no message is read, and whole blocks or subjects count at once.
 */
uint64_t nb_store_count(const struct nb_store *st, uint64_t from, const char *filter);
/* Loads the newest message on the literal subject. Returns 0, NB_STORE_ENOTFOUND or an error. */
int nb_store_last_for(struct nb_store *st, const char *subject, size_t subject_len,
                      struct nb_store_msg *out);

/* Per-subject state for a literal subject: all zero when the subject has no message. */
struct nb_store_subject {
    uint64_t count, first, last;
};
void nb_store_subject_state(const struct nb_store *st, const char *subject, size_t subject_len,
                            struct nb_store_subject *out);
/*
 * Calls fn for each subject with messages that matches filter (NULL = all), with its state; stops
 * early when fn returns false. The order is unspecified.
 */
void nb_store_each_subject(const struct nb_store *st, const char *filter,
                           bool (*fn)(void *ud, const char *subject, size_t len,
                                      const struct nb_store_subject *s),
                           void *ud);

enum nb_rm { NB_RM_LIMIT, NB_RM_DURABLE };
/* Removes one message. Returns 0, NB_STORE_ENOTFOUND, or a write error (nothing removed). */
int nb_store_remove(struct nb_store *st, uint64_t seq, enum nb_rm how);
/*
 * Removes durably the messages whose subject matches filter (NULL = all) and, when upto is not 0,
 * whose sequence is below upto; when keep is not 0, the newest keep of those candidates stay.
 * Sets *purged. A purge of everything keeps the sequence: the next append gets last_seq + 1.
 */
int nb_store_purge(struct nb_store *st, const char *filter, uint64_t upto, uint64_t keep,
                   uint64_t *purged);

void nb_store_state(const struct nb_store *st, struct nb_store_state *out);
/*
 * Interior deleted sequences, in ascending order: fills up to cap of them into seqs and returns
 * how many there are in all.
 */
size_t nb_store_deleted(const struct nb_store *st, uint64_t *seqs, size_t cap);

/*
 * Makes NB_RM_LIMIT removals durable and rewrites segments that are mostly deleted records
 * (compaction). Cheap when nothing changed; the stream calls it on its sync timer and before it
 * relaxes its limits.
 */
int nb_store_checkpoint(struct nb_store *st);
/*
 * A checkpoint whose index snapshot is written off the loop thread (8 B per message: a large
 * stream would stall the loop for the write and its fsync). nb_store_checkpoint_begin() does what
 * nb_store_checkpoint() does, except that a due snapshot is only copied into *snap, with an
 * unnamed file for it; *snap is NULL when none is due, when the previous one is still on its way
 * (the next checkpoint writes it), or when this file system cannot make unnamed files (then the
 * snapshot was written at once). nb_store_snap_write() writes and syncs the copy, from any thread,
 * touching nothing else. nb_store_snap_end(), back on the loop thread, names the file
 * `index.snap`, or drops it when it was not written, when the store was closed meanwhile, or when
 * a newer snapshot was written first; then it frees the copy.
 */
struct nb_store_snap;
int nb_store_checkpoint_begin(struct nb_store *st, struct nb_store_snap **snap);
void nb_store_snap_write(struct nb_store_snap *snap);
void nb_store_snap_end(struct nb_store_snap *snap);
/*
 * Flushes, then hands out the files written since the last call, as new descriptors (dup) that
 * the caller fsyncs and then closes, off the loop thread. Returns how many were stored in fds (at
 * most cap, which must fit an int), or the negative code of a failed flush; a memory store
 * returns 0.
 */
int nb_store_take_dirty(struct nb_store *st, int *fds, size_t cap);

#endif
