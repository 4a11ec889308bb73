/*
 * The duplicate window of a stream: Nats-Msg-Id -> sequence, for ids stored less than
 * duplicate_window ago. Entries form a queue in arrival order, so expiring is popping the head.
 */
#include "nb_js.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;
    uint64_t seq;
    int64_t ts;
    size_t len;
    char id[]; /* the map's key */
};

struct nb_dedupe {
    struct np_map ids; /* id -> newest struct entry with that id */
    struct entry *head, *tail;
};

struct nb_dedupe *
nb__dedupe_new(void)
{
    return calloc(1, sizeof(struct nb_dedupe));
}

void
nb__dedupe_free(struct nb_dedupe *d)
{
    if (!d) return;
    while (d->head) {
        struct entry *e = d->head;
        d->head = e->next;
        free(e);
    }
    np_map_release(&d->ids);
    free(d);
}

int
nb__dedupe_add(struct nb_dedupe *d, const char *id, size_t len, uint64_t seq, int64_t ts)
{
    struct entry *e = malloc(sizeof *e + len);
    if (!e) return -1;
    *e = (struct entry){.seq = seq, .ts = ts, .len = len};
    memcpy(e->id, id, len);
    if (np_map_put(&d->ids, e->id, len, e) != 0) {
        free(e);
        return -1;
    }
    if (d->tail)
        d->tail->next = e;
    else
        d->head = e;
    d->tail = e;
    return 0;
}

uint64_t
nb__dedupe_find(const struct nb_dedupe *d, const char *id, size_t len)
{
    const struct entry *e = np_map_get(&d->ids, id, len);
    return e ? e->seq : 0;
}

void
nb__dedupe_expire(struct nb_dedupe *d, int64_t ts)
{
    while (d->head && d->head->ts < ts) {
        struct entry *e = d->head;
        d->head = e->next;
        if (!d->head) d->tail = NULL;
        /* A newer entry with the same id owns the key now; only the newest one is in the map. */
        if (np_map_get(&d->ids, e->id, e->len) == e) np_map_del(&d->ids, e->id, e->len);
        free(e);
    }
}
