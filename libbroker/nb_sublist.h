/*
 * The subscription interest graph: a trie keyed by subject tokens with a result cache in front.
 *
 * The sublist does not own subscriptions; it stores pointers to struct nb_sub objects that the caller
 * allocates and keeps alive until they are removed. It reads only the subject and queue fields.
 */
#ifndef NB_SUBLIST_H
#define NB_SUBLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who receives what a subscription matches (spec 2.4 for clients, 5.5 for routes). */
enum nb_recv_kind {
    NB_RECV_CLIENT,   /* owner is a struct nb_client: MSG/HMSG on its connection */
    NB_RECV_ROUTE,    /* owner is a route's struct nb_conn: one RMSG per route and message */
    NB_RECV_INTERNAL, /* owner is a struct nb_isub: a callback on the loop thread */
};

/* One subscription. Allocated by its owner; subject, queue and sid point into the same block. */
struct nb_sub {
    void *owner; /* see enum nb_recv_kind */
    const char *subject;
    const char *queue; /* NULL for a plain subscription */
    const char *sid;
    uint32_t subject_len, queue_len, sid_len;
    uint8_t kind;       /* enum nb_recv_kind */
    uint8_t filtered;   /* a client's: its messages pass the subscribe deny list (nb_perm.h) */
    uint64_t delivered; /* messages delivered so far */
    uint64_t max;       /* auto-unsubscribe after this many; 0 = no limit */
};

/* A queue group in a match result: every matching member of one queue name. */
struct nb_qgroup {
    const char *name;
    uint32_t name_len;
    uint32_t n;
    struct nb_sub **members;
};

/*
 * What a subject matched. Owned by the sublist; valid until the next insert, remove or match (a
 * later match may evict it from the cache), so use one result before asking for another.
 */
struct nb_result {
    uint32_t npsubs, nqgroups;
    struct nb_sub **psubs;     /* plain subscriptions */
    struct nb_qgroup *qgroups; /* one entry per distinct queue name */
};

struct nb_sublist_stats {
    uint64_t count; /* subscriptions stored */
    uint64_t inserts, removes, matches, cache_hits;
    uint64_t cache_entries;
};

/* Over the cached results, as nats-server reports them (a queue group counts as one receiver). */
struct nb_sublist_fanout {
    uint64_t max; /* the most receivers of one cached result */
    double avg;   /* receivers per cached result */
};

struct nb_sublist;

/* Returns a new empty sublist, or NULL when out of memory. */
struct nb_sublist *nb_sublist_new(void);
/* Frees the sublist (not the subscriptions in it). */
void nb_sublist_free(struct nb_sublist *sl);
/*
 * Adds sub. Its subject must be a valid subscription subject (np_subject_valid()). Returns 0, or
 * NP_ESUBJECT-style -EINVAL for an invalid subject, or -ENOMEM.
 */
int nb_sublist_insert(struct nb_sublist *sl, struct nb_sub *sub);
/* Removes sub (by pointer identity). Returns 0, or -ENOENT if it was not there. */
int nb_sublist_remove(struct nb_sublist *sl, struct nb_sub *sub);
/*
 * Matches a literal subject. Returns the result (possibly empty, never NULL unless out of memory).
 * The result is cached; it stays valid until the next nb_sublist_insert(), nb_sublist_remove() or
 * nb_sublist_match().
 * A subject that is not a valid literal (empty token) matches nothing.
 */
const struct nb_result *nb_sublist_match(struct nb_sublist *sl, const char *subject, size_t len);
void nb_sublist_stats(const struct nb_sublist *sl, struct nb_sublist_stats *st);
/* Changes with every insert and remove: an answer computed from the trie holds while it does not. */
uint64_t nb_sublist_generation(const struct nb_sublist *sl);
/*
 * Whether sub, a plain subscription on prefix followed by '>', is the only subscription that can
 * match a subject starting with prefix (literal tokens, ending with '.'). Conservative: false
 * whenever a wildcard elsewhere might match.
 */
bool nb_sublist_sole(const struct nb_sublist *sl, const char *prefix, size_t len,
                     const struct nb_sub *sub);
/* Walks the cache (up to its 1,024 entries): for the monitoring port, not for hot paths. */
void nb_sublist_fanout(const struct nb_sublist *sl, struct nb_sublist_fanout *out);

#endif
