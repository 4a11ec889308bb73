/*
 * A compact hash map from byte-string keys to non-NULL void * values.
 *
 * Ownership: the map owns only its slot array. It neither copies nor frees keys or values: a key is a
 * (pointer, length) view that the caller keeps alive and unchanged for as long as its entry is in
 * the map, which is natural when the key lives inside the value (a trie node's token, a
 * subscription's sid). Values are never NULL, so NULL can mean "not found".
 *
 * An empty map is three zero fields and owns no memory; the first insert allocates. Each entry
 * costs one 24-byte slot, and the table stays at most 7/8 full.
 *
 * The hash is not keyed: whoever chooses the keys can choose colliding ones, which slows the map
 * down (it never breaks it).
 *
 * Not thread-safe. An iteration (np_map_next) must not be interleaved with np_map_put or
 * np_map_del on the same map: either may move entries between slots.
 */
#ifndef NP_MAP_H
#define NP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np.h"

struct np_map_slot;

struct np_map {
    struct np_map_slot *slots; /* NULL until the first insert */
    uint32_t count;            /* entries stored */
    uint32_t mask;             /* slot count - 1 when slots is set */
};

/* Makes m empty without allocating. A zeroed struct np_map is also a valid empty map. */
void np_map_init(struct np_map *m);
/* Frees the slot array (not keys or values) and leaves m empty and reusable. */
void np_map_release(struct np_map *m);
/* Returns the value stored under key, or NULL. */
void *np_map_get(const struct np_map *m, const char *key, size_t klen);
/*
 * Stores val under key, replacing (value and key view) any entry with an equal key. Returns 0,
 * NP_EINVAL when val is NULL or klen does not fit in 32 bits, or NP_ENOMEM (m is then unchanged).
 */
int np_map_put(struct np_map *m, const char *key, size_t klen, void *val);
/*
 * Removes the entry under key. Returns its value, or NULL when there was none. Never fails: a table
 * that becomes mostly empty is shrunk when memory allows, and an emptied map frees its slots.
 */
void *np_map_del(struct np_map *m, const char *key, size_t klen);
/* Returns the number of entries. */
size_t np_map_count(const struct np_map *m);
/*
 * Iterates: start with *it = 0 and call until it returns false. Each true return sets the entry's
 * key view and value; key, klen or val may be NULL when not wanted. The order is unspecified.
 */
bool np_map_next(const struct np_map *m, size_t *it, const char **key, size_t *klen, void **val);

#endif
