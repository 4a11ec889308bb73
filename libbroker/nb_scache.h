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
};

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
