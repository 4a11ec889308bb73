/*
 * libbroker internal: a bounded map from subjects to a small record, for what a connection
 * remembers about subjects (its permission answers, the replies it may send). At most max entries:
 * a new subject then takes the place of the oldest, reusing its key buffer, so a warm cache
 * allocates nothing however many different subjects pass through it.
 */
#ifndef NB_SCACHE_H
#define NB_SCACHE_H

#include "np_map.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct nb_scache_entry {
    char *key; /* owned; cap bytes, len used */
    uint32_t len, cap;
    bool allowed;  /* free for the user */
    int64_t count; /* free for the user */
    uint64_t time; /* free for the user */
};

/* Zero-initialised: an empty cache of no capacity; set max before the first put. */
struct nb_scache {
    struct np_map map; /* key -> (index + 1) into entries */
    struct nb_scache_entry *entries;
    uint32_t count, alloc, max;
    uint32_t oldest; /* the entry the next put replaces once count == max */
    /* index + 1 of the entry found last, tried first: a connection's subjects repeat */
    uint32_t last;
};

/*
 * a == b over len bytes, a word at a time, the last word overlapping the one before: musl's memcmp
 * goes byte by byte, and this runs on every message.
 */
static inline bool
nb__scache_same(const char *a, const char *b, size_t len)
{
    uint64_t x, y;
    if (len < sizeof x) return memcmp(a, b, len) == 0;
    size_t last = len - sizeof x;
    for (size_t i = 0; i < last; i += sizeof x) {
        memcpy(&x, a + i, sizeof x);
        memcpy(&y, b + i, sizeof y);
        if (x != y) return false;
    }
    memcpy(&x, a + last, sizeof x);
    memcpy(&y, b + last, sizeof y);
    return x == y;
}

/*
 * The entry found last if it holds subject, else NULL (subject may still be cached): the check
 * before nb__scache_get(), inline so that a hot path that keeps seeing one subject neither calls
 * nor hashes. A slot below count with a length is in the map under its index, so this answers as
 * the map would.
 */
static inline struct nb_scache_entry *
nb__scache_last(struct nb_scache *c, const char *subject, size_t len)
{
    if (c->last == 0 || c->last > c->count) return NULL;
    struct nb_scache_entry *e = &c->entries[c->last - 1];
    return e->len == len && len && nb__scache_same(e->key, subject, len) ? e : NULL;
}

/* The entry for subject, or NULL. */
struct nb_scache_entry *nb__scache_get(struct nb_scache *c, const char *subject, size_t len);
/*
 * The entry for subject, new (its record zeroed) or existing (unchanged). NULL without memory or
 * when max is 0; the cache is then unchanged.
 */
struct nb_scache_entry *nb__scache_put(struct nb_scache *c, const char *subject, size_t len);
/* Removes an entry nb__scache_get() or nb__scache_put() returned. */
void nb__scache_del(struct nb_scache *c, struct nb_scache_entry *e);
/* Frees everything; the cache is empty again (max is kept). */
void nb__scache_release(struct nb_scache *c);

#endif
