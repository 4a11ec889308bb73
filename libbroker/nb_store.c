/*
 * The stream store's shared index and public entry points; nb_memstore.c and nb_filestore.c only
 * hold and fetch message bytes, so every rule about sequences, gaps, subjects and state lives here
 * once for both kinds.
 */
#include "nb.h"
#include "nb_store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np.h"

/* Bits 61..63 of an on-disk sequence are flags, so sequences stay below 2^61. */
#define MAX_SEQ    ((UINT64_C(1) << 61) - 1)
#define MAX_RECORD 0x7fffffffu

struct nb__blk *
nb__blk_new(struct nb_store *st, uint64_t first)
{
    if (st->nblks == st->blks_cap) {
        size_t cap = st->blks_cap ? st->blks_cap * 2 : 8;
        struct nb__blk **nb = realloc(st->blks, cap * sizeof *nb);
        if (!nb) return NULL;
        st->blks = nb;
        st->blks_cap = cap;
    }
    struct nb__blk *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->first = first;
    b->fd = -1;
    st->blks[st->nblks++] = b;
    st->gen++;
    return b;
}

/* A mapped block's slots leave the snapshot mapping; the last one to leave unmaps it. */
static void
blk_unmap(struct nb_store *st, struct nb__blk *b)
{
    b->slot = NULL;
    b->mapped = false;
    if (--st->nmapped == 0) nb__snap_unmap(st);
}

int
nb__blk_reserve(struct nb_store *st, struct nb__blk *b, bool with_mem, uint32_t need)
{
    if (need <= b->cap) return 0;
    uint32_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    struct nb__slot *slot = realloc(b->mapped ? NULL : b->slot, cap * sizeof *slot);
    if (!slot) return NB_ENOMEM;
    if (b->mapped) {
        memcpy(slot, b->slot, b->n * sizeof *slot);
        blk_unmap(st, b);
    }
    b->slot = slot;
    if (with_mem) {
        struct nb__mrec **mem = realloc(b->mem, cap * sizeof *mem);
        if (!mem) return NB_ENOMEM;
        b->mem = mem;
    }
    b->cap = cap;
    return 0;
}

void
nb__blk_free(struct nb_store *st, struct nb__blk *b)
{
    if (!b) return;
    if (b->mapped)
        blk_unmap(st, b);
    else
        free(b->slot);
    free(b->mem);
    free(b);
}

/* Index of the last block whose first sequence is <= seq, or 0. */
static size_t
blk_index(const struct nb_store *st, uint64_t seq)
{
    size_t lo = 0, hi = st->nblks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->blks[mid]->first <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

struct nb__blk *
nb__blk_find(const struct nb_store *st, uint64_t seq, uint32_t *slot)
{
    if (!st->nblks) return NULL;
    struct nb__blk *b = st->blks[blk_index(st, seq)];
    if (seq < b->first || seq - b->first >= b->n) return NULL;
    *slot = (uint32_t)(seq - b->first);
    return b;
}

/* The first live sequence >= from and <= to on subject s (any subject when NULL), or 0. */
static uint64_t
scan_fwd(const struct nb_store *st, uint64_t from, uint64_t to, const struct nb__subj *s)
{
    for (size_t i = st->nblks ? blk_index(st, from) : 0; i < st->nblks; i++) {
        const struct nb__blk *b = st->blks[i];
        if (b->first > to) break;
        uint64_t seq = from > b->first ? from : b->first;
        for (; seq - b->first < b->n && seq <= to; seq++) {
            uint32_t sid = b->slot[seq - b->first].sid;
            if (sid && (!s || sid == s->id)) return seq;
        }
    }
    return 0;
}

/* The last sequence < from on subject s, or 0. */
static uint64_t
scan_back(const struct nb_store *st, uint64_t from, const struct nb__subj *s)
{
    for (size_t i = blk_index(st, from) + 1; i-- > 0;) {
        const struct nb__blk *b = st->blks[i];
        uint64_t end = b->first + b->n; /* exclusive */
        uint64_t seq = from < end ? from : end;
        for (; seq > b->first; seq--)
            if (b->slot[seq - 1 - b->first].sid == s->id) return seq - 1;
    }
    return 0;
}

/* Makes room for ids below need; id 0 stays NULL, the mark of a deleted slot. */
static int
subjv_grow(struct nb_store *st, uint32_t need)
{
    if (need <= st->subjv_cap) return 0;
    uint32_t cap = st->subjv_cap ? st->subjv_cap : 64;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    struct nb__subj **v = realloc(st->subjv, cap * sizeof *v);
    if (!v) return NB_ENOMEM;
    memset(v + st->subjv_cap, 0, (cap - st->subjv_cap) * sizeof *v);
    st->subjv = v;
    st->subjv_cap = cap;
    if (!st->nsubjv) st->nsubjv = 1;
    return 0;
}

int
nb__subj_add(struct nb_store *st, uint32_t id, const char *subject, size_t len,
             struct nb__subj **out)
{
    if (id == 0 || id == UINT32_MAX) return NB_ENOMEM;
    struct nb__subj *s = malloc(sizeof *s + len);
    if (!s) return NB_ENOMEM;
    memcpy(s->name, subject, len);
    if (subjv_grow(st, id + 1) != 0 || np_map_put(&st->subjects, s->name, len, s) != 0) {
        free(s);
        return NB_ENOMEM;
    }
    s->len = len;
    s->count = s->first = s->last = 0;
    s->id = id;
    st->subjv[id] = s;
    if (id >= st->nsubjv) st->nsubjv = id + 1;
    *out = s;
    return 0;
}

void
nb__subj_free_id(struct nb_store *st, uint32_t id)
{
    if (st->nfree == st->free_cap) {
        uint32_t cap = st->free_cap ? st->free_cap * 2 : 16;
        uint32_t *v = realloc(st->free_ids, cap * sizeof *v);
        if (!v) return; /* the id is only lost for reuse */
        st->free_ids = v;
        st->free_cap = cap;
    }
    st->free_ids[st->nfree++] = id;
}

int
nb__subj_ref(struct nb_store *st, const char *subject, size_t len, struct nb__subj **out)
{
    struct nb__subj *s = np_map_get(&st->subjects, subject, len);
    if (s) {
        *out = s;
        return 0;
    }
    bool reuse = st->nfree > 0;
    uint32_t id = reuse ? st->free_ids[st->nfree - 1] : st->nsubjv ? st->nsubjv : 1;
    int rc = nb__subj_add(st, id, subject, len, out);
    if (rc == 0 && reuse) st->nfree--;
    return rc;
}

void
nb__subj_unref_unused(struct nb_store *st, struct nb__subj *s)
{
    if (s->count) return;
    np_map_del(&st->subjects, s->name, s->len);
    st->subjv[s->id] = NULL;
    nb__subj_free_id(st, s->id);
    free(s);
}

void
nb__index_add(struct nb_store *st, struct nb__blk *b, struct nb__subj *s, uint64_t size, int64_t ts)
{
    uint64_t seq = b->first + b->n;
    st->gen++;
    b->slot[b->n++].sid = s->id;
    b->live++;
    b->last_ts = st->last_ts = ts;
    if (st->kind == NB_STORE_FILE) b->live_bytes += size;
    if (s->count++ == 0) s->first = seq;
    s->last = seq;
    if (st->msgs++ == 0) {
        st->first_seq = seq;
        st->first_ts = ts;
    }
    st->bytes += size;
    st->last_seq = seq;
}

void
nb__index_extend(struct nb_store *st, struct nb__blk *b, uint64_t seq, int64_t ts)
{
    st->gen++;
    while (b->first + b->n <= seq) {
        if (b->mem) b->mem[b->n] = NULL;
        b->slot[b->n++] = (struct nb__slot){0, 0};
    }
    b->last_ts = st->last_ts = ts;
    if (seq > st->last_seq) st->last_seq = seq;
    if (!st->msgs) st->first_seq = st->last_seq + 1;
}

/*
 * Back to the mark of the last flush once its later slots are removed: limit removals queued for
 * those sequences go too, since the sequences will be handed out again.
 */
void
nb__index_cut(struct nb_store *st, struct nb__blk *b, const struct nb__wmark *m)
{
    st->gen++;
    b->n = m->n;
    b->last_ts = m->blk_last_ts;
    st->last_seq = m->last_seq;
    st->last_ts = m->last_ts;
    if (!st->msgs) {
        st->first_seq = st->last_seq + 1;
        st->first_ts = 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < st->npending; i++)
        if (st->pending[i] <= st->last_seq) st->pending[k++] = st->pending[i];
    st->npending = k;
}

static int
load(struct nb_store *st, const struct nb__blk *b, uint32_t slot, struct nb_store_msg *out)
{
    const struct nb__subj *s = nb__slot_subj(st, b, slot);
    if (st->kind == NB_STORE_MEMORY) {
        nb__mem_load(b, slot, out);
        out->subject = s->name;
        out->subject_len = s->len;
        out->seq = b->first + slot;
        return 0;
    }
    return nb__file_load(st, b, slot, out);
}

static int
slot_size(struct nb_store *st, const struct nb__blk *b, uint32_t slot, uint64_t *size)
{
    struct nb_store_msg m;
    int rc = load(st, b, slot, &m);
    if (rc) return rc;
    *size = nb_store_record_size(st, m.subject_len, m.hdr_len, m.data_len);
    return 0;
}

/* A new first message: its timestamp is read back (one cached read for file stores). */
static void
refresh_first(struct nb_store *st, uint64_t from)
{
    st->first_ts = 0;
    uint64_t seq = st->msgs ? scan_fwd(st, from, st->last_seq, NULL) : 0;
    st->first_seq = seq ? seq : st->last_seq + 1;
    uint32_t slot;
    const struct nb__blk *b = seq ? nb__blk_find(st, seq, &slot) : NULL;
    struct nb_store_msg m;
    if (b && load(st, b, slot, &m) == 0) st->first_ts = m.ts;
}

void
nb__index_remove(struct nb_store *st, struct nb__blk *b, uint32_t slot, uint64_t size)
{
    struct nb__subj *s = nb__slot_subj(st, b, slot);
    uint64_t seq = b->first + slot;
    st->gen++;
    b->slot[slot].sid = 0;
    b->live--;
    if (st->kind == NB_STORE_FILE)
        b->live_bytes -= size;
    else
        nb__mem_free_slot(b, slot);
    st->msgs--;
    st->bytes -= size;
    if (--s->count == 0)
        nb__subj_unref_unused(st, s);
    else if (seq == s->first)
        s->first = scan_fwd(st, seq + 1, s->last, s);
    else if (seq == s->last)
        s->last = scan_back(st, seq, s);
    if (seq == st->first_seq) refresh_first(st, seq + 1);
}

/* Removes seq from memory only; the caller made it durable or will. */
int
nb__remove_seq(struct nb_store *st, uint64_t seq)
{
    uint32_t slot;
    struct nb__blk *b = nb__blk_find(st, seq, &slot);
    if (!b || !nb__slot_subj(st, b, slot)) return NB_STORE_ENOTFOUND;
    uint64_t size;
    int rc = slot_size(st, b, slot, &size);
    if (rc) return rc;
    nb__index_remove(st, b, slot, size);
    if (!b->live) nb__reap(st);
    return 0;
}

void
nb__drop_blk(struct nb_store *st, size_t i)
{
    struct nb__blk *b = st->blks[i];
    st->gen++;
    if (st->kind == NB_STORE_FILE) nb__file_drop(st, b);
    for (uint32_t k = 0; b->mem && k < b->n; k++)
        nb__mem_free_slot(b, k);
    nb__blk_free(st, b);
    memmove(st->blks + i, st->blks + i + 1, (st->nblks - i - 1) * sizeof *st->blks);
    st->nblks--;
}

/*
 * Frees emptied blocks but the active one. A segment holding tombstones for older segments must
 * outlive those, or the deleted messages would come back at the next open.
 */
void
nb__reap(struct nb_store *st)
{
    for (size_t i = 0; i + 1 < st->nblks;) {
        const struct nb__blk *b = st->blks[i];
        if (!b->live && (!b->xref || i == 0))
            nb__drop_blk(st, i);
        else
            i++;
    }
}

static void
clear_subjects(struct nb_store *st)
{
    size_t it = 0;
    void *v;
    while (np_map_next(&st->subjects, &it, NULL, NULL, &v))
        free(v);
    np_map_release(&st->subjects);
    if (st->subjv) memset(st->subjv, 0, st->subjv_cap * sizeof *st->subjv);
    st->nsubjv = st->subjv ? 1 : 0;
    st->nfree = 0;
}

/* Forgets the index without touching any file: a rejected snapshot gives way to a full scan. */
void
nb__index_reset(struct nb_store *st, uint64_t first)
{
    for (size_t i = 0; i < st->nblks; i++) {
        if (st->blks[i]->fd >= 0) close(st->blks[i]->fd);
        nb__blk_free(st, st->blks[i]);
    }
    st->nblks = 0;
    clear_subjects(st);
    st->msgs = st->bytes = 0;
    st->first_seq = first;
    st->last_seq = first - 1;
    st->first_ts = st->last_ts = 0;
}

/*
 * Forgets the n oldest blocks, whose segments were emptied and unlinked after the snapshot that
 * listed them: their messages leave the index, and subjects that kept messages start later.
 */
void
nb__index_forget_head(struct nb_store *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct nb__blk *b = st->blks[i];
        for (uint32_t k = 0; k < b->n; k++) {
            struct nb__subj *s = nb__slot_subj(st, b, k);
            if (s && s->count) s->count--;
        }
        st->msgs -= b->live;
        st->bytes -= b->live_bytes;
        nb__blk_free(st, b);
    }
    memmove(st->blks, st->blks + n, (st->nblks - n) * sizeof *st->blks);
    st->nblks -= n;
    st->gen++;
    uint64_t from = st->nblks ? st->blks[0]->first : st->last_seq + 1;
    for (uint32_t id = 1; id < st->nsubjv; id++) {
        struct nb__subj *s = st->subjv[id];
        if (s && !s->count)
            nb__subj_unref_unused(st, s);
        else if (s && s->first < from)
            s->first = scan_fwd(st, from, s->last, s);
    }
    if (st->first_seq < from) refresh_first(st, from);
}

static void
free_index(struct nb_store *st)
{
    while (st->nblks)
        nb__drop_blk(st, st->nblks - 1);
    clear_subjects(st);
}

static void
store_free(struct nb_store *st)
{
    free_index(st);
    free(st->blks);
    free(st->dir);
    free(st->wbuf);
    free(st->rbuf);
    free(st->pending);
    free(st->subjv);
    free(st->free_ids);
    nb__snap_unmap(st);
    nb__snap_orphan(st);
    free(st);
}

int
nb_store_open(struct nb_store **out, const struct nb_store_opts *opts,
              struct nb_store_recovery *rec)
{
    struct nb_store_recovery dummy;
    if (!rec) rec = &dummy;
    memset(rec, 0, sizeof *rec);
    struct nb_store *st = calloc(1, sizeof *st);
    if (!st) return NB_ENOMEM;
    st->kind = opts->kind;
    st->dirfd = -1;
    uint64_t first = opts->first_seq ? opts->first_seq : 1;
    if (first > MAX_SEQ) first = MAX_SEQ;
    st->first_seq = first;
    st->last_seq = first - 1;
    int rc;
    if (st->kind == NB_STORE_FILE)
        rc = nb__file_open(st, opts, rec);
    else
        rc = nb__blk_new(st, first) ? 0 : NB_ENOMEM;
    if (rc) {
        if (st->kind == NB_STORE_FILE) (void)nb__file_close(st, false);
        store_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

void
nb_store_close(struct nb_store *st)
{
    if (!st) return;
    if (st->kind == NB_STORE_FILE) {
        (void)nb_store_checkpoint(st);
        (void)nb__file_close(st, false);
    }
    store_free(st);
}

int
nb_store_destroy(struct nb_store *st)
{
    if (!st) return 0;
    int rc = nb_store_flush(st);
    if (st->kind == NB_STORE_FILE) {
        int crc = nb__file_close(st, true);
        if (rc == 0) rc = crc;
    }
    store_free(st);
    return rc;
}

uint64_t
nb_store_record_size(const struct nb_store *st, size_t subject_len, size_t hdr_len, size_t data_len)
{
    uint64_t body = (uint64_t)subject_len + hdr_len + data_len;
    if (st->kind == NB_STORE_MEMORY) return body + 16;
    return 22 + body + 8 + (hdr_len ? 4 : 0);
}

int
nb_store_append(struct nb_store *st, const char *subject, size_t subject_len, const char *hdr,
                size_t hdr_len, const char *data, size_t data_len, int64_t ts, uint64_t *seq)
{
    if (!subject_len || subject_len > UINT16_MAX ||
        (uint64_t)hdr_len + data_len > MAX_RECORD - 64 - subject_len)
        return -EINVAL;
    if (st->last_seq >= MAX_SEQ) return -EOVERFLOW;
    int rc = st->kind == NB_STORE_FILE
                 ? nb__file_append(st, subject, subject_len, hdr, hdr_len, data, data_len, ts)
                 : nb__mem_append(st, subject, subject_len, hdr, hdr_len, data, data_len, ts);
    if (rc == 0 && seq) *seq = st->last_seq;
    return rc;
}

int
nb_store_flush(struct nb_store *st)
{
    return st->kind == NB_STORE_FILE ? nb__file_flush(st) : 0;
}

int
nb_store_skip(struct nb_store *st, int64_t ts, uint64_t *seq)
{
    int frc = nb_store_flush(st);
    if (frc) return frc;
    if (st->last_seq >= MAX_SEQ) return -EOVERFLOW;
    uint64_t next = st->last_seq + 1;
    struct nb__blk *b = st->blks[st->nblks - 1];
    if (st->kind == NB_STORE_MEMORY && b->n >= MEM_BLK_SLOTS) {
        b = nb__blk_new(st, next);
        if (!b) return NB_ENOMEM;
    }
    int rc = nb__blk_reserve(st, b, st->kind == NB_STORE_MEMORY, (uint32_t)(next - b->first + 1));
    if (rc == 0 && st->kind == NB_STORE_FILE) rc = nb__file_tombstones(st, 0, &next, 1, ts);
    if (rc) return rc;
    nb__index_extend(st, b, next, ts);
    if (seq) *seq = next;
    return 0;
}

int
nb_store_get(struct nb_store *st, uint64_t seq, struct nb_store_msg *out)
{
    uint32_t slot;
    const struct nb__blk *b = nb__blk_find(st, seq, &slot);
    if (!b || !nb__slot_subj(st, b, slot)) return NB_STORE_ENOTFOUND;
    return load(st, b, slot, out);
}

/* Remembers the last subject tested against a wildcard filter: runs of one subject are common. */
struct matcher {
    const char *filter;
    size_t flen;
    const struct nb__subj *last;
    bool last_ok;
};

static bool
matches(struct matcher *m, const struct nb__subj *s)
{
    if (!m->filter) return true;
    if (s != m->last) {
        m->last = s;
        m->last_ok = np_subject_match(m->filter, m->flen, s->name, s->len);
    }
    return m->last_ok;
}

static void
matcher_init(struct matcher *m, const char *filter)
{
    m->filter = filter && strcmp(filter, ">") != 0 ? filter : NULL;
    m->flen = m->filter ? strlen(filter) : 0;
    m->last = NULL;
    m->last_ok = false;
}

/* The first sequence >= from with a message matching m, or 0. */
static uint64_t
next_match(const struct nb_store *st, uint64_t from, struct matcher *m)
{
    for (uint64_t seq = from < st->first_seq ? st->first_seq : from; seq && seq <= st->last_seq;) {
        seq = scan_fwd(st, seq, st->last_seq, NULL);
        if (!seq) break;
        uint32_t slot;
        const struct nb__blk *b = nb__blk_find(st, seq, &slot);
        for (; slot < b->n; slot++, seq++)
            if (b->slot[slot].sid && matches(m, nb__slot_subj(st, b, slot))) return seq;
    }
    return 0;
}

int
nb_store_next(struct nb_store *st, uint64_t start, const char *filter, struct nb_store_msg *out)
{
    struct matcher m;
    matcher_init(&m, filter);
    uint64_t seq;
    if (m.filter && !np_subject_has_wildcard(m.filter, m.flen)) {
        const struct nb__subj *s = np_map_get(&st->subjects, m.filter, m.flen);
        if (!s || start > s->last) return NB_STORE_ENOTFOUND;
        seq = scan_fwd(st, start > s->first ? start : s->first, s->last, s);
    } else {
        seq = next_match(st, start, &m);
    }
    return seq ? nb_store_get(st, seq, out) : NB_STORE_ENOTFOUND;
}

/* Live slots from seq on whose subject passes m (every one when m is NULL). */
static uint64_t
count_slots(const struct nb_store *st, uint64_t from, struct matcher *m)
{
    uint64_t n = 0;
    for (size_t i = blk_index(st, from); i < st->nblks; i++) {
        const struct nb__blk *b = st->blks[i];
        if (!m && b->first >= from) {
            n += b->live;
            continue;
        }
        for (uint64_t seq = from > b->first ? from : b->first; seq - b->first < b->n; seq++) {
            const struct nb__subj *s = nb__slot_subj(st, b, (uint32_t)(seq - b->first));
            n += s && (!m || matches(m, s));
        }
    }
    return n;
}

static bool
add_count(void *ud, const char *subject, size_t len, const struct nb_store_subject *s)
{
    (void)subject;
    (void)len;
    *(uint64_t *)ud += s->count;
    return true;
}

uint64_t
nb_store_count(const struct nb_store *st, uint64_t from, const char *filter)
{
    struct matcher m;
    matcher_init(&m, filter);
    if (from < st->first_seq) from = st->first_seq;
    if (!st->msgs || from > st->last_seq) return 0;
    if (!m.filter) return from == st->first_seq ? st->msgs : count_slots(st, from, NULL);
    if (!np_subject_has_wildcard(m.filter, m.flen)) {
        const struct nb__subj *s = np_map_get(&st->subjects, m.filter, m.flen);
        if (!s || from > s->last) return 0;
        if (from <= s->first) return s->count;
    } else if (from == st->first_seq) {
        uint64_t n = 0;
        nb_store_each_subject(st, filter, add_count, &n);
        return n;
    }
    return count_slots(st, from, &m);
}

int
nb_store_last_for(struct nb_store *st, const char *subject, size_t subject_len,
                  struct nb_store_msg *out)
{
    const struct nb__subj *s = np_map_get(&st->subjects, subject, subject_len);
    return s ? nb_store_get(st, s->last, out) : NB_STORE_ENOTFOUND;
}

void
nb_store_subject_state(const struct nb_store *st, const char *subject, size_t subject_len,
                       struct nb_store_subject *out)
{
    const struct nb__subj *s = np_map_get(&st->subjects, subject, subject_len);
    *out = s ? (struct nb_store_subject){s->count, s->first, s->last}
             : (struct nb_store_subject){0, 0, 0};
}

void
nb_store_each_subject(const struct nb_store *st, const char *filter,
                      bool (*fn)(void *ud, const char *subject, size_t len,
                                 const struct nb_store_subject *s),
                      void *ud)
{
    struct matcher m;
    matcher_init(&m, filter);
    size_t it = 0;
    void *v;
    while (np_map_next(&st->subjects, &it, NULL, NULL, &v)) {
        const struct nb__subj *s = v;
        struct nb_store_subject ss = {s->count, s->first, s->last};
        if (matches(&m, s) && !fn(ud, s->name, s->len, &ss)) return;
    }
}

static int
pending_push(struct nb_store *st, uint64_t seq)
{
    if (st->npending == st->pending_cap) {
        size_t cap = st->pending_cap ? st->pending_cap * 2 : 64;
        uint64_t *p = realloc(st->pending, cap * sizeof *p);
        if (!p) return NB_ENOMEM;
        st->pending = p;
        st->pending_cap = cap;
    }
    st->pending[st->npending++] = seq;
    return 0;
}

int
nb_store_remove(struct nb_store *st, uint64_t seq, enum nb_rm how)
{
    /* First: a failed flush may undo the very message. */
    int frc = how == NB_RM_DURABLE ? nb_store_flush(st) : 0;
    if (frc) return frc;
    uint32_t slot;
    const struct nb__blk *b = nb__blk_find(st, seq, &slot);
    if (!b || !nb__slot_subj(st, b, slot)) return NB_STORE_ENOTFOUND;
    if (st->kind == NB_STORE_FILE) {
        /* Read first: a record that cannot be read must not lose its tombstone. */
        uint64_t size;
        int rc = slot_size(st, b, slot, &size);
        if (rc == 0 && how == NB_RM_DURABLE) rc = nb__file_tombstones(st, 0, &seq, 1, 0);
        if (rc == 0 && how == NB_RM_LIMIT) rc = pending_push(st, seq);
        if (rc) return rc;
    }
    return nb__remove_seq(st, seq);
}

/* The matching live sequences (before upto when set), oldest first, in a malloc'd array. */
static int
purge_candidates(const struct nb_store *st, const char *filter, uint64_t upto, uint64_t **out,
                 size_t *n)
{
    struct matcher m;
    matcher_init(&m, filter);
    uint64_t *v = malloc((size_t)(st->msgs ? st->msgs : 1) * sizeof *v);
    if (!v) return NB_ENOMEM;
    size_t k = 0;
    for (uint64_t seq = next_match(st, 0, &m); seq && (!upto || seq < upto);
         seq = next_match(st, seq + 1, &m))
        v[k++] = seq;
    *out = v;
    *n = k;
    return 0;
}

/* Removes (durably) the oldest n of seqs. */
static int
purge_some(struct nb_store *st, const uint64_t *seqs, size_t n)
{
    if (st->kind == NB_STORE_FILE) {
        /* The removed head becomes one "all below" mark; only interior removals need tombstones. */
        size_t i = 0;
        uint64_t seq = st->first_seq;
        while (i < n && seq == seqs[i]) {
            i++;
            seq = scan_fwd(st, seq + 1, st->last_seq, NULL);
        }
        uint64_t head = i ? (seq ? seq : st->last_seq + 1) : 0;
        int rc = nb__file_tombstones(st, head, seqs + i, n - i, 0);
        if (rc) return rc;
    }
    for (size_t i = 0; i < n; i++)
        (void)nb__remove_seq(st, seqs[i]);
    return 0;
}

/* Everything goes, but not the sequence: the new active block starts at last_seq + 1. */
static int
purge_all(struct nb_store *st)
{
    if (st->kind == NB_STORE_FILE) {
        int rc = nb__file_reset(st);
        if (rc) return rc;
    } else if (!nb__blk_new(st, st->last_seq + 1)) {
        return NB_ENOMEM;
    }
    while (st->nblks > 1)
        nb__drop_blk(st, st->nblks - 2);
    clear_subjects(st);
    st->msgs = st->bytes = 0;
    st->first_seq = st->last_seq + 1;
    st->first_ts = 0;
    st->npending = 0;
    return 0;
}

int
nb_store_purge(struct nb_store *st, const char *filter, uint64_t upto, uint64_t keep,
               uint64_t *purged)
{
    if (purged) *purged = 0;
    uint64_t *seqs;
    size_t n;
    int rc = nb_store_flush(st);
    if (rc == 0) rc = purge_candidates(st, filter, upto, &seqs, &n);
    if (rc) return rc;
    n = n > keep ? n - (size_t)keep : 0;
    if (n == 0)
        rc = 0;
    else if (n == st->msgs)
        rc = purge_all(st);
    else
        rc = purge_some(st, seqs, n);
    free(seqs);
    if (purged) *purged = rc ? 0 : n;
    return rc;
}

void
nb_store_state(const struct nb_store *st, struct nb_store_state *out)
{
    memset(out, 0, sizeof *out);
    out->msgs = st->msgs;
    out->bytes = st->bytes;
    out->last_seq = st->last_seq;
    out->first_seq = st->last_seq ? st->first_seq : 0;
    if (st->msgs) {
        out->first_ts = st->first_ts;
        out->last_ts = st->last_ts;
        out->num_deleted = st->last_seq - st->first_seq + 1 - st->msgs;
    }
    out->num_subjects = np_map_count(&st->subjects);
    out->lost_msgs = st->lost_msgs;
    out->lost_bytes = st->lost_bytes;
}

static void
put_deleted(uint64_t *seqs, size_t cap, size_t *k, uint64_t from, uint64_t to)
{
    for (uint64_t s = from; s < to; s++, (*k)++)
        if (*k < cap) seqs[*k] = s;
}

size_t
nb_store_deleted(const struct nb_store *st, uint64_t *seqs, size_t cap)
{
    size_t k = 0;
    if (!st->msgs) return 0;
    uint64_t next = st->first_seq; /* the first sequence not yet accounted for */
    for (size_t i = blk_index(st, next); i < st->nblks && next <= st->last_seq; i++) {
        const struct nb__blk *b = st->blks[i];
        if (b->first > next) put_deleted(seqs, cap, &k, next, b->first);
        for (uint64_t seq = b->first > next ? b->first : next; seq - b->first < b->n; seq++)
            if (!b->slot[seq - b->first].sid) put_deleted(seqs, cap, &k, seq, seq + 1);
        next = b->first + b->n > next ? b->first + b->n : next;
    }
    return k;
}

/* After it, the disk holds exactly the index: no buffered append, no pending removal. */
static int
checkpoint_files(struct nb_store *st)
{
    int rc = nb_store_flush(st);
    return rc == 0 && st->kind == NB_STORE_FILE ? nb__file_checkpoint(st) : rc;
}

int
nb_store_checkpoint(struct nb_store *st)
{
    int rc = checkpoint_files(st);
    if (rc == 0 && st->kind == NB_STORE_FILE && st->gen != st->snap_gen) rc = nb__snap_write(st);
    return rc;
}

int
nb_store_checkpoint_begin(struct nb_store *st, struct nb_store_snap **snap)
{
    *snap = NULL;
    int rc = checkpoint_files(st);
    if (rc == 0 && st->kind == NB_STORE_FILE && st->gen != st->snap_gen && !st->snap_job)
        rc = nb__snap_begin(st, snap);
    return rc;
}

int
nb_store_take_dirty(struct nb_store *st, int *fds, size_t cap)
{
    int k = 0;
    if (st->kind != NB_STORE_FILE) return 0;
    int rc = nb_store_flush(st);
    if (rc) return rc;
    if (st->dir_dirty && cap && (fds[k] = dup(st->dirfd)) >= 0) {
        st->dir_dirty = false;
        k++;
    }
    for (size_t i = 0; i < st->nblks && (size_t)k < cap; i++) {
        struct nb__blk *b = st->blks[i];
        if (b->dirty && (fds[k] = dup(b->fd)) >= 0) {
            b->dirty = false;
            k++;
        }
    }
    return k;
}
