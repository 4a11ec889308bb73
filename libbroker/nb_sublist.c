/*
 * The subscription trie and its result cache (spec 2.3; the design of nats-server's sublist.go).
 *
 * Each trie node stands for one token of a subscription subject. It owns a copy of that token, its
 * literal children (an np_map keyed by the child's own token), optional '*' and '>' children, the
 * plain subscriptions whose subject ends there, and their queue subscriptions grouped by queue
 * name. A subscription lives in exactly one node and the walk for a subject reaches a node at most
 * once, so no subscription appears twice in a result. A node with no subscriptions and no children
 * is freed at once (only the root stays), so removing everything returns the memory.
 *
 * The cache maps a published subject to one malloc'd block holding a copy of the subject and the
 * whole nb_result, so a hit costs one hash lookup and no allocation. A literal subscription can
 * only ever match its own subject, so inserting or removing one drops just that cache entry; a
 * wildcard change may touch any subject and empties the cache. When the cache is full, a random
 * entry makes room for the new one, so besides an insert or remove, a later match that misses a
 * full cache can also end the life of an earlier result (the broker uses one result at a time).
 *
 * A subject enters the cache only on its second miss within a while: a bitmap of the recent
 * misses (two bits per subject, cleared every SEEN_RESET misses) is the doorkeeper (TinyLFU's).
 * Request replies and JetStream acks go to subjects that are each used once; their results are
 * built in one reused scratch entry instead, so they neither allocate nor push out the results of
 * subjects that repeat. A false positive (about 1%) only caches a subject that did not need it.
 *
 * Subscriptions are identified by pointer and are not deduplicated: the caller inserts each one
 * once (the broker's per-connection sid table guarantees it).
 */
#include "nb_sublist.h"
#include "np.h"
#include "np_map.h"
#include "np_rand.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define CACHE_MAX  1024
#define SEEN_BITS  65536u
#define SEEN_RESET 4096u /* misses recorded before the doorkeeper forgets them all */

/* Two or more members of a set; one member is kept inline instead (union members). */
struct subarr {
    uint32_t cap;
    struct nb_sub *items[];
};

/* A set of subscriptions whose count lives with its owner: n == 1 uses one, n >= 2 uses arr. */
union members {
    struct nb_sub *one;
    struct subarr *arr;
};

/* The queue subscriptions of one node that share a queue name (taken from any member). */
struct queue {
    union members m;
    uint32_t n;
};

struct qset {
    uint32_t n, cap;
    struct queue q[];
};

struct node {
    struct node *parent;    /* NULL for the root */
    struct node *pwc, *fwc; /* the '*' and '>' children */
    struct np_map children; /* literal token -> struct node *, keyed by the child's tok */
    union members plain;
    struct qset *queues; /* NULL when the node has no queue subscriptions */
    uint32_t nplain;
    uint32_t toklen;
    char tok[];
};

/* One cached result; the subject bytes follow the struct, then the arrays res points into. */
struct centry {
    struct nb_result res;
    uint32_t idx; /* position in nb_sublist.centries */
    uint32_t subject_len;
};

/* A queue name being gathered while a result is built. */
struct gacc {
    const char *name;
    uint32_t name_len;
    uint32_t n;
};

struct nb_sublist {
    struct node *root;
    struct np_map cache; /* subject -> struct centry * */
    uint32_t ncache;
    struct np_rand rng; /* picks cache victims */
    /* Scratch reused by every cache miss, so a miss allocates only its cache entry. */
    const struct node **matched;
    size_t nmatched, matched_cap;
    struct gacc *groups;
    size_t ngroups, groups_cap;
    uint64_t count, inserts, removes, matches, cache_hits;
    struct centry *centries[CACHE_MAX]; /* every cache entry, for random eviction */
    struct centry *scratch;             /* the result of a subject not (yet) cached */
    size_t scratch_cap;
    uint64_t seen[SEEN_BITS / 64];
    uint32_t nseen;
};

static const struct nb_result empty_result;

/* ---- subscription sets ----------------------------------------------------------------------- */

static struct nb_sub *const *
members_items(const union members *m, uint32_t n)
{
    return n >= 2 ? m->arr->items : &m->one;
}

static int
members_add(union members *m, uint32_t *n, struct nb_sub *sub)
{
    if (*n == 0) {
        m->one = sub;
    } else if (*n == 1) {
        struct subarr *a = malloc(sizeof *a + 4 * sizeof a->items[0]);
        if (!a) return -ENOMEM;
        a->cap = 4;
        a->items[0] = m->one;
        a->items[1] = sub;
        m->arr = a;
    } else {
        if (*n == m->arr->cap) {
            if (m->arr->cap > UINT32_MAX / 2) return -ENOMEM;
            uint32_t cap = m->arr->cap * 2;
            struct subarr *a = realloc(m->arr, sizeof *a + cap * sizeof a->items[0]);
            if (!a) return -ENOMEM;
            a->cap = cap;
            m->arr = a;
        }
        m->arr->items[*n] = sub;
    }
    (*n)++;
    return 0;
}

/* Gives back memory once a set has shrunk well below its array; failure just keeps the array. */
static void
members_shrink(union members *m, uint32_t n)
{
    struct subarr *a = m->arr;
    if (n == 1) {
        m->one = a->items[0];
        free(a);
    } else if (n >= 2 && a->cap > 4 && n <= a->cap / 4) {
        uint32_t cap = a->cap / 2;
        struct subarr *s = realloc(a, sizeof *s + cap * sizeof s->items[0]);
        if (!s) return;
        s->cap = cap;
        m->arr = s;
    }
}

/* Removes sub by identity. Returns false when it is not a member. */
static bool
members_del(union members *m, uint32_t *n, const struct nb_sub *sub)
{
    struct nb_sub **items = *n >= 2 ? m->arr->items : &m->one;
    /* Newest first: short-lived subscriptions (request inboxes) go soonest. */
    for (uint32_t i = *n; i-- > 0;) {
        if (items[i] != sub) continue;
        items[i] = items[*n - 1];
        bool was_arr = *n >= 2;
        (*n)--;
        if (was_arr) members_shrink(m, *n);
        return true;
    }
    return false;
}

/* ---- queue groups of a node ------------------------------------------------------------------- */

static bool
same_queue(const struct nb_sub *a, const char *name, uint32_t len)
{
    return a->queue_len == len && (len == 0 || memcmp(a->queue, name, len) == 0);
}

static struct queue *
queue_find(struct qset *qs, const struct nb_sub *sub)
{
    for (uint32_t i = 0; qs && i < qs->n; i++) {
        const struct queue *q = &qs->q[i];
        if (same_queue(members_items(&q->m, q->n)[0], sub->queue, sub->queue_len)) return &qs->q[i];
    }
    return NULL;
}

/* Makes room for one more group. Returns 0 or -ENOMEM. */
static int
qset_reserve(struct node *n)
{
    struct qset *qs = n->queues;
    if (qs && qs->n < qs->cap) return 0;
    uint32_t cap = qs ? qs->cap * 2 : 1;
    struct qset *grown = realloc(qs, sizeof *grown + cap * sizeof grown->q[0]);
    if (!grown) return -ENOMEM;
    if (!qs) grown->n = 0;
    grown->cap = cap;
    n->queues = grown;
    return 0;
}

static int
queue_add(struct node *n, struct nb_sub *sub)
{
    struct queue *q = queue_find(n->queues, sub);
    if (q) return members_add(&q->m, &q->n, sub);
    int rc = qset_reserve(n);
    if (rc) return rc;
    q = &n->queues->q[n->queues->n++];
    q->n = 0;
    return members_add(&q->m, &q->n, sub);
}

static bool
queue_del(struct node *n, const struct nb_sub *sub)
{
    struct queue *q = queue_find(n->queues, sub);
    if (!q || !members_del(&q->m, &q->n, sub)) return false;
    if (q->n > 0) return true;
    struct qset *qs = n->queues;
    *q = qs->q[--qs->n];
    if (qs->n == 0) {
        free(qs);
        n->queues = NULL;
    }
    return true;
}

/* ---- trie nodes -------------------------------------------------------------------------------- */

static struct node *
node_new(struct node *parent, const char *tok, size_t len)
{
    struct node *n = calloc(1, sizeof *n + len);
    if (!n) return NULL;
    n->parent = parent;
    n->toklen = (uint32_t)len;
    memcpy(n->tok, tok, len);
    return n;
}

static bool
node_empty(const struct node *n)
{
    return n->nplain == 0 && !n->queues && !n->pwc && !n->fwc && np_map_count(&n->children) == 0;
}

/* The '*' or '>' child pointer for a wildcard token, else NULL. */
static struct node **
wild_link(struct node *n, const char *tok, size_t len)
{
    if (len != 1) return NULL;
    if (tok[0] == '*') return &n->pwc;
    if (tok[0] == '>') return &n->fwc;
    return NULL;
}

static struct node *
child_get(struct node *n, const char *tok, size_t len)
{
    struct node **w = wild_link(n, tok, len);
    return w ? *w : np_map_get(&n->children, tok, len);
}

/* Returns the child for tok, creating it when missing, or NULL when out of memory. */
static struct node *
child_make(struct node *n, const char *tok, size_t len)
{
    struct node *c = child_get(n, tok, len);
    if (c) return c;
    c = node_new(n, tok, len);
    if (!c) return NULL;
    struct node **w = wild_link(n, tok, len);
    if (w) {
        *w = c;
    } else if (np_map_put(&n->children, c->tok, c->toklen, c) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

/* Frees n and every empty ancestor below the root. */
static void
prune(struct nb_sublist *sl, struct node *n)
{
    while (n != sl->root && node_empty(n)) {
        struct node *parent = n->parent;
        struct node **w = wild_link(parent, n->tok, n->toklen);
        if (w)
            *w = NULL;
        else
            np_map_del(&parent->children, n->tok, n->toklen);
        np_map_release(&n->children);
        free(n);
        n = parent;
    }
}

/* Frees a whole subtree, including member arrays but not the subscriptions. */
static void
node_free_tree(struct node *n)
{
    if (!n) return;
    size_t it = 0;
    void *child;
    while (np_map_next(&n->children, &it, NULL, NULL, &child))
        node_free_tree(child);
    node_free_tree(n->pwc);
    node_free_tree(n->fwc);
    np_map_release(&n->children);
    if (n->nplain >= 2) free(n->plain.arr);
    for (uint32_t i = 0; n->queues && i < n->queues->n; i++) {
        if (n->queues->q[i].n >= 2) free(n->queues->q[i].m.arr);
    }
    free(n->queues);
    free(n);
}

/* The node where subject ends, or NULL when the trie has none. */
static struct node *
node_find(struct nb_sublist *sl, const char *s, size_t len)
{
    if (len == 0) return NULL;
    struct node *n = sl->root;
    const char *end = s + len;
    for (;;) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        size_t tlen = (size_t)((dot ? dot : end) - s);
        n = child_get(n, s, tlen);
        if (!n || !dot) return n;
        s = dot + 1;
    }
}

/* ---- cache ------------------------------------------------------------------------------------- */

static const char *
entry_subject(const struct centry *e)
{
    return (const char *)(e + 1);
}

/* Takes e out of the victim table and frees it; the caller has removed it from the map. */
static void
cache_forget(struct nb_sublist *sl, struct centry *e)
{
    struct centry *last = sl->centries[--sl->ncache];
    sl->centries[e->idx] = last;
    last->idx = e->idx;
    free(e);
}

static void
cache_clear(struct nb_sublist *sl)
{
    for (uint32_t i = 0; i < sl->ncache; i++)
        free(sl->centries[i]);
    sl->ncache = 0;
    np_map_release(&sl->cache);
}

static void
cache_evict_one(struct nb_sublist *sl)
{
    struct centry *e = sl->centries[np_rand_next(&sl->rng) % sl->ncache];
    np_map_del(&sl->cache, entry_subject(e), e->subject_len);
    cache_forget(sl, e);
}

static int
cache_add(struct nb_sublist *sl, struct centry *e)
{
    if (sl->ncache == CACHE_MAX) cache_evict_one(sl);
    int rc = np_map_put(&sl->cache, entry_subject(e), e->subject_len, e);
    if (rc) return rc;
    e->idx = sl->ncache;
    sl->centries[sl->ncache++] = e;
    return 0;
}

/* Drops whatever cached results the change of sub's interest can have made stale. */
static void
invalidate(struct nb_sublist *sl, const struct nb_sub *sub)
{
    if (np_subject_has_wildcard(sub->subject, sub->subject_len)) {
        cache_clear(sl);
        return;
    }
    struct centry *e = np_map_del(&sl->cache, sub->subject, sub->subject_len);
    if (e) cache_forget(sl, e);
}

/* ---- match ------------------------------------------------------------------------------------- */

static int
push_match(struct nb_sublist *sl, const struct node *n)
{
    if (n->nplain == 0 && !n->queues) return 0;
    if (sl->nmatched == sl->matched_cap) {
        size_t cap = sl->matched_cap ? sl->matched_cap * 2 : 16;
        const struct node **m = realloc(sl->matched, cap * sizeof *m);
        if (!m) return -ENOMEM;
        sl->matched = m;
        sl->matched_cap = cap;
    }
    sl->matched[sl->nmatched++] = n;
    return 0;
}

/*
 * Gathers the nodes whose subscriptions match s, starting below n: at each token the '>' child
 * matches the rest, the '*' child continues with the next token, and the literal child is followed.
 */
static int
collect(struct nb_sublist *sl, const struct node *n, const char *s, size_t len)
{
    for (;;) {
        const char *dot = memchr(s, '.', len);
        size_t tlen = dot ? (size_t)(dot - s) : len;
        if (n->fwc && push_match(sl, n->fwc)) return -ENOMEM;
        if (n->pwc) {
            int rc = dot ? collect(sl, n->pwc, dot + 1, len - tlen - 1) : push_match(sl, n->pwc);
            if (rc) return rc;
        }
        const struct node *c = np_map_get(&n->children, s, tlen);
        if (!c) return 0;
        if (!dot) return push_match(sl, c);
        n = c;
        s = dot + 1;
        len -= tlen + 1;
    }
}

/* Non-empty with no empty token: the subjects that can match anything at all. */
static bool
tokens_ok(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.') return false;
    for (size_t i = 1; i < len; i++) {
        if (s[i] == '.' && s[i - 1] == '.') return false;
    }
    return true;
}

/* Returns the gathering slot for queue q's name, adding one if needed, or -1 when out of memory. */
static ptrdiff_t
group_slot(struct nb_sublist *sl, const struct queue *q)
{
    const struct nb_sub *first = members_items(&q->m, q->n)[0];
    for (size_t i = 0; i < sl->ngroups; i++) {
        if (same_queue(first, sl->groups[i].name, sl->groups[i].name_len)) return (ptrdiff_t)i;
    }
    if (sl->ngroups == sl->groups_cap) {
        size_t cap = sl->groups_cap ? sl->groups_cap * 2 : 8;
        struct gacc *g = realloc(sl->groups, cap * sizeof *g);
        if (!g) return -1;
        sl->groups = g;
        sl->groups_cap = cap;
    }
    sl->groups[sl->ngroups] = (struct gacc){first->queue, first->queue_len, 0};
    return (ptrdiff_t)sl->ngroups++;
}

/* Counts plain subscriptions and queue members, and lists the distinct queue names. */
static int
size_result(struct nb_sublist *sl, size_t *np, size_t *nm)
{
    *np = *nm = 0;
    sl->ngroups = 0;
    for (size_t i = 0; i < sl->nmatched; i++) {
        const struct node *n = sl->matched[i];
        *np += n->nplain;
        for (uint32_t k = 0; n->queues && k < n->queues->n; k++) {
            ptrdiff_t g = group_slot(sl, &n->queues->q[k]);
            if (g < 0) return -ENOMEM;
            sl->groups[g].n += n->queues->q[k].n;
            *nm += n->queues->q[k].n;
        }
    }
    return *np > UINT32_MAX || *nm > UINT32_MAX ? -ENOMEM : 0;
}

static void
append(struct nb_sub **dst, uint32_t *at, const union members *m, uint32_t n)
{
    memcpy(dst + *at, members_items(m, n), n * sizeof *dst);
    *at += n;
}

/* Copies the matched nodes' subscriptions into e's arrays, merging queue groups by name. */
static void
fill_result(struct nb_sublist *sl, struct centry *e, struct nb_sub **members)
{
    struct nb_result *r = &e->res;
    for (size_t g = 0; g < sl->ngroups; g++) {
        r->qgroups[g] = (struct nb_qgroup){sl->groups[g].name, sl->groups[g].name_len, 0, members};
        members += sl->groups[g].n;
    }
    r->nqgroups = (uint32_t)sl->ngroups;
    for (size_t i = 0; i < sl->nmatched; i++) {
        const struct node *n = sl->matched[i];
        append(r->psubs, &r->npsubs, &n->plain, n->nplain);
        for (uint32_t k = 0; n->queues && k < n->queues->n; k++) {
            const struct queue *q = &n->queues->q[k];
            const struct nb_sub *first = members_items(&q->m, q->n)[0];
            struct nb_qgroup *dst = r->qgroups;
            while (!same_queue(first, dst->name, dst->name_len))
                dst++;
            append(dst->members, &dst->n, &q->m, q->n);
        }
    }
}

/* Builds the cache entry for subject from the nodes collect() gathered. */
/* A cache entry (malloc'd) or, when cache is false, the reused scratch entry. */
static struct centry *
build_entry(struct nb_sublist *sl, const char *subject, size_t len, bool cache)
{
    size_t np, nm;
    if (size_result(sl, &np, &nm)) return NULL;
    size_t subj = (len + 7) & ~(size_t)7; /* keeps the arrays after the subject aligned */
    size_t size = sizeof(struct centry) + subj + sl->ngroups * sizeof(struct nb_qgroup) +
                  (np + nm) * sizeof(struct nb_sub *);
    struct centry *e = cache ? malloc(size) : sl->scratch;
    if (!cache && size > sl->scratch_cap) {
        e = realloc(sl->scratch, size);
        if (e) {
            sl->scratch = e;
            sl->scratch_cap = size;
        }
    }
    if (!e) return NULL;
    char *p = (char *)(e + 1);
    memcpy(p, subject, len);
    e->subject_len = (uint32_t)len;
    e->res.qgroups = (struct nb_qgroup *)(void *)(p + subj);
    e->res.psubs = (struct nb_sub **)(void *)(e->res.qgroups + sl->ngroups);
    e->res.npsubs = 0;
    fill_result(sl, e, e->res.psubs + np);
    return e;
}

/* Whether the doorkeeper saw subject miss recently; records it when not. */
static bool
seen_before(struct nb_sublist *sl, const char *subject, size_t len)
{
    uint64_t h = XXH3_64bits(subject, len);
    uint32_t b1 = (uint32_t)h % SEEN_BITS, b2 = (uint32_t)(h >> 32) % SEEN_BITS;
    uint64_t m1 = UINT64_C(1) << (b1 % 64), m2 = UINT64_C(1) << (b2 % 64);
    if ((sl->seen[b1 / 64] & m1) && (sl->seen[b2 / 64] & m2)) return true;
    if (++sl->nseen == SEEN_RESET) {
        memset(sl->seen, 0, sizeof sl->seen);
        sl->nseen = 0;
    }
    sl->seen[b1 / 64] |= m1;
    sl->seen[b2 / 64] |= m2;
    return false;
}

/* ---- public API -------------------------------------------------------------------------------- */

struct nb_sublist *
nb_sublist_new(void)
{
    struct nb_sublist *sl = calloc(1, sizeof *sl);
    if (!sl) return NULL;
    sl->root = node_new(NULL, "", 0);
    if (!sl->root) {
        free(sl);
        return NULL;
    }
    np_rand_seed(&sl->rng, 0x9E3779B97F4A7C15u);
    return sl;
}

void
nb_sublist_free(struct nb_sublist *sl)
{
    if (!sl) return;
    cache_clear(sl);
    node_free_tree(sl->root);
    free(sl->scratch);
    free(sl->matched);
    free(sl->groups);
    free(sl);
}

int
nb_sublist_insert(struct nb_sublist *sl, struct nb_sub *sub)
{
    if (!np_subject_valid(sub->subject, sub->subject_len)) return -EINVAL;
    struct node *n = sl->root;
    const char *s = sub->subject, *end = s + sub->subject_len;
    for (;;) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        struct node *c = child_make(n, s, (size_t)((dot ? dot : end) - s));
        if (!c) {
            prune(sl, n);
            return -ENOMEM;
        }
        n = c;
        if (!dot) break;
        s = dot + 1;
    }
    int rc = sub->queue ? queue_add(n, sub) : members_add(&n->plain, &n->nplain, sub);
    if (rc) {
        prune(sl, n);
        return rc;
    }
    sl->count++;
    sl->inserts++;
    invalidate(sl, sub);
    return 0;
}

int
nb_sublist_remove(struct nb_sublist *sl, struct nb_sub *sub)
{
    struct node *n = node_find(sl, sub->subject, sub->subject_len);
    if (!n) return -ENOENT;
    bool found = sub->queue ? queue_del(n, sub) : members_del(&n->plain, &n->nplain, sub);
    if (!found) return -ENOENT;
    prune(sl, n);
    sl->count--;
    sl->removes++;
    invalidate(sl, sub);
    return 0;
}

const struct nb_result *
nb_sublist_match(struct nb_sublist *sl, const char *subject, size_t len)
{
    sl->matches++;
    struct centry *e = np_map_get(&sl->cache, subject, len);
    if (e) {
        sl->cache_hits++;
        return &e->res;
    }
    if (!tokens_ok(subject, len) || len > UINT32_MAX) return &empty_result;
    sl->nmatched = 0;
    if (collect(sl, sl->root, subject, len)) return NULL;
    bool again = seen_before(sl, subject, len);
    e = build_entry(sl, subject, len, again);
    if (!e || !again) return e ? &e->res : NULL;
    if (cache_add(sl, e)) {
        free(e);
        return NULL;
    }
    return &e->res;
}

void
nb_sublist_stats(const struct nb_sublist *sl, struct nb_sublist_stats *st)
{
    *st = (struct nb_sublist_stats){
        .count = sl->count,
        .inserts = sl->inserts,
        .removes = sl->removes,
        .matches = sl->matches,
        .cache_hits = sl->cache_hits,
        .cache_entries = sl->ncache,
    };
}

uint64_t
nb_sublist_generation(const struct nb_sublist *sl)
{
    return sl->inserts + sl->removes;
}

/* Wildcards are checked at every level of the prefix: a '*' or '>' there could match below it. */
bool
nb_sublist_sole(const struct nb_sublist *sl, const char *prefix, size_t len,
                const struct nb_sub *sub)
{
    const struct node *n = sl->root;
    const char *s = prefix, *end = prefix + len;
    while (s < end) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        if (!dot || n->pwc || n->fwc) return false;
        n = np_map_get(&n->children, s, (size_t)(dot - s));
        if (!n) return false;
        s = dot + 1;
    }
    const struct node *rest = n->fwc;
    return rest && !n->pwc && np_map_count(&n->children) == 0 && rest->nplain == 1 &&
           rest->plain.one == sub && !rest->queues;
}

void
nb_sublist_fanout(const struct nb_sublist *sl, struct nb_sublist_fanout *out)
{
    uint64_t total = 0;
    out->max = 0;
    for (uint32_t i = 0; i < sl->ncache; i++) {
        const struct nb_result *r = &sl->centries[i]->res;
        uint64_t fanout = (uint64_t)r->npsubs + r->nqgroups;
        total += fanout;
        if (fanout > out->max) out->max = fanout;
    }
    out->avg = sl->ncache ? (double)total / sl->ncache : 0;
}
