/*
 * Open-addressing hash map with Robin Hood linear probing and backward-shift deletion.
 *
 * Invariants: the slot count is a power of two (mask + 1) and at least one slot is always empty, so
 * every probe loop ends. A slot is empty when its value is NULL. Along any probe run, entries are
 * ordered so that an entry never sits further from its home slot than the entry after it would
 * allow (Robin Hood); a lookup can therefore stop as soon as it meets an entry closer to home than
 * the distance probed so far, which keeps misses short even at 7/8 load. Deletion shifts the rest
 * of the run back by one instead of leaving tombstones, so the table never degrades with churn.
 * Each slot keeps its 32-bit hash: probe distances and growth need no rehash of the key bytes.
 *
 * An entry's home slot mixes its hash with the address of the slot array. Iterating a map visits
 * entries in home order; were homes the bare low bits of the hash, copying those entries into a
 * smaller table (a map still growing, a peer server's map of the same keys) would wrap around and
 * pile the later entries onto the start of the table, into probe runs thousands long (100,000
 * route subscriptions took 260 ms instead of a few). Every slot array gets its own order instead;
 * a resize moves every entry anyway, so the new address costs nothing.
 */
#include "np_map.h"

#include <stdlib.h>
#include <string.h>

struct np_map_slot {
    const char *key;
    void *val; /* NULL: empty slot */
    uint32_t klen;
    uint32_t hash;
};

#define MIN_SLOTS    2u
#define MAX_SLOTS    (1u << 30)
#define SHRINK_ABOVE 16u /* tables this small are never shrunk */

static uint64_t
hash_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xFF51AFD7ED558CCDu;
    return h ^ (h >> 32);
}

/*
 * A multiply/xor-shift hash over 8-byte words (word loads through memcpy, so unaligned keys are
 * fine), with a final avalanche so that the low bits used for slot selection depend on every byte.
 * The tail is assembled byte by byte rather than by a variable-length memcpy, which compilers
 * may turn into a library call or a byte loop per word.
 */
static uint32_t
hash_bytes(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = 0x243F6A8885A308D3u ^ ((uint64_t)len * 0x9E3779B97F4A7C15u);
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = hash_mix(h, w);
    }
    if (len > 0) {
        uint64_t w = 0;
        for (size_t i = 0; i < len; i++)
            w |= (uint64_t)p[i] << (8 * i);
        h = hash_mix(h, w);
    }
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53u;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

/* The slot hash h prefers in m's current slot array. */
static uint32_t
home(const struct np_map *m, uint32_t h)
{
    uint32_t x = h ^ (uint32_t)((uintptr_t)m->slots >> 4);
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    return x & m->mask;
}

/* How far the entry in slot i sits from its home slot. */
static uint32_t
distance(const struct np_map *m, uint32_t i)
{
    return (i - home(m, m->slots[i].hash)) & m->mask;
}

/* Entries a table of n slots may hold: 7/8 of it, leaving at least one slot empty. */
static uint32_t
capacity(uint32_t n)
{
    return n - n / 8 - (n < 8 ? 1 : 0);
}

static bool
key_eq(const struct np_map_slot *s, const char *key, uint32_t klen, uint32_t h)
{
    return s->hash == h && s->klen == klen && (klen == 0 || memcmp(s->key, key, klen) == 0);
}

/* Returns the slot index holding key, or -1. */
static int64_t
find(const struct np_map *m, const char *key, uint32_t klen, uint32_t h)
{
    if (!m->slots) return -1;
    uint32_t start = home(m, h);
    for (uint32_t d = 0;; d++) {
        uint32_t i = (start + d) & m->mask;
        const struct np_map_slot *s = &m->slots[i];
        if (!s->val || distance(m, i) < d) return -1;
        if (key_eq(s, key, klen, h)) return i;
    }
}

/* Places an entry known to be absent into a table with a free slot. */
static void
place(struct np_map *m, struct np_map_slot cur)
{
    uint32_t i = home(m, cur.hash);
    for (uint32_t d = 0;; d++, i = (i + 1) & m->mask) {
        struct np_map_slot *s = &m->slots[i];
        if (!s->val) {
            *s = cur;
            return;
        }
        uint32_t sd = distance(m, i);
        if (sd < d) {
            /* The richer resident moves on; the new entry takes its place. */
            struct np_map_slot tmp = *s;
            *s = cur;
            cur = tmp;
            d = sd;
        }
    }
}

/* Moves every entry into a new table of n slots. Returns 0 or NP_ENOMEM (m unchanged). */
static int
resize(struct np_map *m, uint32_t n)
{
    struct np_map_slot *fresh = calloc(n, sizeof *fresh);
    if (!fresh) return NP_ENOMEM;
    struct np_map_slot *old = m->slots;
    uint32_t old_n = old ? m->mask + 1 : 0;
    m->slots = fresh;
    m->mask = n - 1;
    for (uint32_t i = 0; i < old_n; i++) {
        if (old[i].val) place(m, old[i]);
    }
    free(old);
    return 0;
}

void
np_map_init(struct np_map *m)
{
    m->slots = NULL;
    m->count = 0;
    m->mask = 0;
}

void
np_map_release(struct np_map *m)
{
    free(m->slots);
    np_map_init(m);
}

void *
np_map_get(const struct np_map *m, const char *key, size_t klen)
{
    if (klen > UINT32_MAX) return NULL;
    int64_t i = find(m, key, (uint32_t)klen, hash_bytes(key, klen));
    return i < 0 ? NULL : m->slots[i].val;
}

int
np_map_put(struct np_map *m, const char *key, size_t klen, void *val)
{
    if (!val || klen > UINT32_MAX) return NP_EINVAL;
    uint32_t h = hash_bytes(key, klen);
    int64_t i = find(m, key, (uint32_t)klen, h);
    if (i >= 0) {
        m->slots[i].key = key;
        m->slots[i].val = val;
        return 0;
    }
    uint32_t n = m->slots ? m->mask + 1 : 0;
    if (m->count + 1 > (n ? capacity(n) : 0)) {
        if (n >= MAX_SLOTS) return NP_ENOMEM;
        int rc = resize(m, n ? n * 2 : MIN_SLOTS);
        if (rc) return rc;
    }
    place(m, (struct np_map_slot){key, val, (uint32_t)klen, h});
    m->count++;
    return 0;
}

/* Closes the hole at slot i by pulling back the displaced entries that follow it. */
static void
backward_shift(struct np_map *m, uint32_t i)
{
    for (;;) {
        uint32_t next = (i + 1) & m->mask;
        if (!m->slots[next].val || distance(m, next) == 0) break;
        m->slots[i] = m->slots[next];
        i = next;
    }
    m->slots[i].val = NULL;
}

/*
 * A table that has become mostly empty shrinks to half load, so a burst of entries does not pin its
 * memory forever; if that allocation fails the larger table simply stays.
 */
static void
maybe_shrink(struct np_map *m)
{
    uint32_t n = m->mask + 1;
    if (m->count == 0) {
        np_map_release(m);
        return;
    }
    if (n > SHRINK_ABOVE && m->count <= n / 8) (void)resize(m, n / 4);
}

void *
np_map_del(struct np_map *m, const char *key, size_t klen)
{
    if (klen > UINT32_MAX) return NULL;
    int64_t i = find(m, key, (uint32_t)klen, hash_bytes(key, klen));
    if (i < 0) return NULL;
    void *val = m->slots[i].val;
    backward_shift(m, (uint32_t)i);
    m->count--;
    maybe_shrink(m);
    return val;
}

size_t
np_map_count(const struct np_map *m)
{
    return m->count;
}

bool
np_map_next(const struct np_map *m, size_t *it, const char **key, size_t *klen, void **val)
{
    if (!m->slots) return false;
    for (size_t i = *it; i <= m->mask; i++) {
        const struct np_map_slot *s = &m->slots[i];
        if (!s->val) continue;
        if (key) *key = s->key;
        if (klen) *klen = s->klen;
        if (val) *val = s->val;
        *it = i + 1;
        return true;
    }
    *it = (size_t)m->mask + 1;
    return false;
}
