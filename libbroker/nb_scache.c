/*
 * The bounded subject cache. Entries live in one array that grows up to max; the map stores an
 * entry's index (plus one, since map values are never NULL), so the array can move when it grows.
 * Key buffers stay with their slot when an entry is removed or replaced and are reused by the next
 * subject that fits, which is why a cache in steady use stops allocating.
 */
#include "nb_scache.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_ALLOC 8

static void *
index_value(uint32_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

struct nb_scache_entry *
nb__scache_get(struct nb_scache *c, const char *subject, size_t len)
{
    struct nb_scache_entry *e = nb__scache_last(c, subject, len);
    if (e) return e;
    void *v = np_map_get(&c->map, subject, len);
    if (!v) return NULL;
    c->last = (uint32_t)(uintptr_t)v;
    return &c->entries[(uintptr_t)v - 1];
}

/* Makes room for one more entry below max. */
static bool
grow(struct nb_scache *c)
{
    if (c->count < c->alloc) return true;
    uint32_t n = c->alloc ? c->alloc * 2 : FIRST_ALLOC;
    if (n > c->max) n = c->max;
    struct nb_scache_entry *e = realloc(c->entries, n * sizeof *e);
    if (!e) return false;
    memset(e + c->alloc, 0, (n - c->alloc) * sizeof *e);
    c->entries = e;
    c->alloc = n;
    return true;
}

/* Gives slot e a key buffer of at least len bytes; false without memory (e unchanged). */
static bool
fit_key(struct nb_scache_entry *e, size_t len)
{
    if (len <= e->cap) return true;
    if (len > UINT32_MAX) return false;
    char *k = malloc(len);
    if (!k) return false;
    free(e->key);
    e->key = k;
    e->cap = (uint32_t)len;
    return true;
}

/*
 * The slot a new subject goes into: the next free one, or the oldest entry, taken out of the map
 * before its key buffer may be replaced. A slot left without a key (no memory) holds nothing: its
 * length says so until it is reused.
 */
static struct nb_scache_entry *
claim(struct nb_scache *c, size_t len, uint32_t *index)
{
    struct nb_scache_entry *e;
    if (c->count == c->max) {
        *index = c->oldest;
        c->oldest = (c->oldest + 1) % c->max;
        e = &c->entries[*index];
        if (e->len) np_map_del(&c->map, e->key, e->len);
        e->len = 0;
        return fit_key(e, len) ? e : NULL;
    }
    if (!grow(c)) return NULL;
    *index = c->count;
    e = &c->entries[*index];
    if (!fit_key(e, len)) return NULL;
    c->count++;
    return e;
}

struct nb_scache_entry *
nb__scache_put(struct nb_scache *c, const char *subject, size_t len)
{
    struct nb_scache_entry *e = nb__scache_get(c, subject, len);
    if (e) return e;
    if (c->max == 0 || len == 0) return NULL;
    uint32_t i;
    if (!(e = claim(c, len, &i))) return NULL;
    memcpy(e->key, subject, len);
    e->len = (uint32_t)len;
    e->allowed = false;
    e->count = 0;
    e->time = 0;
    if (np_map_put(&c->map, e->key, len, index_value(i)) != 0) {
        e->len = 0;
        return NULL;
    }
    c->last = i + 1;
    return e;
}

void
nb__scache_del(struct nb_scache *c, struct nb_scache_entry *e)
{
    uint32_t i = (uint32_t)(e - c->entries), last = c->count - 1;
    if (e->len) np_map_del(&c->map, e->key, e->len);
    e->len = 0;
    if (i != last) {
        struct nb_scache_entry moved = c->entries[last];
        c->entries[last] = *e;
        c->entries[i] = moved;
        if (moved.len) np_map_put(&c->map, moved.key, moved.len, index_value(i));
    }
    c->count--;
}

void
nb__scache_release(struct nb_scache *c)
{
    for (uint32_t i = 0; i < c->alloc; i++)
        free(c->entries[i].key);
    free(c->entries);
    np_map_release(&c->map);
    uint32_t max = c->max;
    memset(c, 0, sizeof *c);
    c->max = max;
}
