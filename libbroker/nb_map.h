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
 * Not thread-safe. An iteration (nb_map_next) must not be interleaved with nb_map_put or
 * nb_map_del on the same map: either may move entries between slots.
 */
#ifndef NB_MAP_H
#define NB_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nb_map_slot;

struct nb_map {
    struct nb_map_slot *slots; /* NULL until the first insert */
    uint32_t count;            /* entries stored */
    uint32_t mask;             /* slot count - 1 when slots is set */
};

/* Makes m empty without allocating. A zeroed struct nb_map is also a valid empty map. */
void nb_map_init(struct nb_map *m);
/* Frees the slot array (not keys or values) and leaves m empty and reusable. */
void nb_map_release(struct nb_map *m);
/* Returns the value stored under key, or NULL. */
void *nb_map_get(const struct nb_map *m, const char *key, size_t klen);
/*
 * Stores val under key, replacing (value and key view) any entry with an equal key. Returns 0,
 * -EINVAL when val is NULL or klen does not fit in 32 bits, or -ENOMEM (m is then unchanged).
 */
int nb_map_put(struct nb_map *m, const char *key, size_t klen, void *val);
/*
 * Removes the entry under key. Returns its value, or NULL when there was none. Never fails: a table
 * that becomes mostly empty is shrunk when memory allows, and an emptied map frees its slots.
 */
void *nb_map_del(struct nb_map *m, const char *key, size_t klen);
/* Returns the number of entries. */
size_t nb_map_count(const struct nb_map *m);
/*
 * Iterates: start with *it = 0 and call until it returns false. Each true return sets the entry's
 * key view and value; key, klen or val may be NULL when not wanted. The order is unspecified.
 */
bool nb_map_next(const struct nb_map *m, size_t *it, const char **key, size_t *klen, void **val);

#endif
