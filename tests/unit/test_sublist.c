/*
 * The subscription trie and its result cache (libbroker/nb_sublist.c): matching of plain, wildcard
 * and queue subscriptions, cache hits and invalidation, pruning, error codes, and a long random run
 * of inserts, removes and matches checked against a brute-force scan with np_subject_match().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb_sublist.h"
#include "np.h"

static struct nb_sub
mksub(const char *subject, const char *queue)
{
    struct nb_sub s = {0};
    s.subject = subject;
    s.subject_len = (uint32_t)strlen(subject);
    s.queue = queue;
    s.queue_len = queue ? (uint32_t)strlen(queue) : 0;
    return s;
}

static const struct nb_result *
match(struct nb_sublist *sl, const char *subject)
{
    const struct nb_result *r = nb_sublist_match(sl, subject, strlen(subject));
    assert_non_null(r);
    return r;
}

static struct nb_sublist_stats
stats(const struct nb_sublist *sl)
{
    struct nb_sublist_stats st;
    nb_sublist_stats(sl, &st);
    return st;
}

/* How many times sub appears among the plain subscriptions of r. */
static int
plain_count(const struct nb_result *r, const struct nb_sub *sub)
{
    int n = 0;
    for (uint32_t i = 0; i < r->npsubs; i++)
        n += r->psubs[i] == sub;
    return n;
}

static const struct nb_qgroup *
group(const struct nb_result *r, const char *name)
{
    const struct nb_qgroup *found = NULL;
    for (uint32_t i = 0; i < r->nqgroups; i++) {
        const struct nb_qgroup *g = &r->qgroups[i];
        if (g->name_len == strlen(name) && memcmp(g->name, name, g->name_len) == 0) {
            assert_null(found); /* one group per name */
            found = g;
        }
    }
    return found;
}

static bool
in_group(const struct nb_qgroup *g, const struct nb_sub *sub)
{
    int n = 0;
    for (uint32_t i = 0; g && i < g->n; i++)
        n += g->members[i] == sub;
    assert_true(n <= 1);
    return n == 1;
}

static void
test_new_is_empty(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    assert_non_null(sl);
    struct nb_sublist_stats st = stats(sl);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.inserts, 0);
    assert_int_equal(st.matches, 0);
    assert_int_equal(st.cache_entries, 0);
    const struct nb_result *r = match(sl, "foo");
    assert_int_equal(r->npsubs, 0);
    assert_int_equal(r->nqgroups, 0);
    nb_sublist_free(sl);
    nb_sublist_free(NULL);
}

static void
test_plain_literal(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub a = mksub("foo.bar", NULL), b = mksub("foo.bar", NULL), c = mksub("foo", NULL);
    assert_int_equal(nb_sublist_insert(sl, &a), 0);
    assert_int_equal(nb_sublist_insert(sl, &b), 0);
    assert_int_equal(nb_sublist_insert(sl, &c), 0);
    assert_int_equal(stats(sl).count, 3);
    assert_int_equal(stats(sl).inserts, 3);

    const struct nb_result *r = match(sl, "foo.bar");
    assert_int_equal(r->npsubs, 2);
    assert_int_equal(r->nqgroups, 0);
    assert_int_equal(plain_count(r, &a), 1);
    assert_int_equal(plain_count(r, &b), 1);
    r = match(sl, "foo");
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], &c);
    assert_int_equal(match(sl, "foo.baz")->npsubs, 0);
    assert_int_equal(match(sl, "foo.bar.baz")->npsubs, 0);
    assert_int_equal(match(sl, "bar")->npsubs, 0);

    assert_int_equal(nb_sublist_remove(sl, &a), 0);
    r = match(sl, "foo.bar");
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], &b);
    assert_int_equal(stats(sl).count, 2);
    assert_int_equal(stats(sl).removes, 1);
    nb_sublist_free(sl);
}

static void
test_wildcards(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub star = mksub("foo.*", NULL), full = mksub("foo.>", NULL), all = mksub(">", NULL),
                  one = mksub("*", NULL), mid = mksub("foo.*.baz", NULL),
                  lit = mksub("foo.bar", NULL), two = mksub("*.*", NULL), tail = mksub("*.>", NULL);
    struct nb_sub *subs[] = {&star, &full, &all, &one, &mid, &lit, &two, &tail};
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(nb_sublist_insert(sl, subs[i]), 0);

    const struct nb_result *r = match(sl, "foo");
    assert_int_equal(r->npsubs, 2);
    assert_int_equal(plain_count(r, &all), 1);
    assert_int_equal(plain_count(r, &one), 1);

    r = match(sl, "foo.bar");
    assert_int_equal(r->npsubs, 6);
    assert_int_equal(plain_count(r, &star), 1);
    assert_int_equal(plain_count(r, &full), 1);
    assert_int_equal(plain_count(r, &all), 1);
    assert_int_equal(plain_count(r, &lit), 1);
    assert_int_equal(plain_count(r, &two), 1);
    assert_int_equal(plain_count(r, &tail), 1);

    r = match(sl, "foo.bar.baz");
    assert_int_equal(r->npsubs, 4);
    assert_int_equal(plain_count(r, &full), 1);
    assert_int_equal(plain_count(r, &all), 1);
    assert_int_equal(plain_count(r, &mid), 1);
    assert_int_equal(plain_count(r, &tail), 1);

    r = match(sl, "bar.baz");
    assert_int_equal(r->npsubs, 3);
    assert_int_equal(plain_count(r, &all), 1);
    assert_int_equal(plain_count(r, &two), 1);
    assert_int_equal(plain_count(r, &tail), 1);
    nb_sublist_free(sl);
}

static void
test_wildcard_tokens_in_published_subject(void **state)
{
    (void)state;
    /* Spec 2.1: publishing to "foo.*" reaches "foo.*", "foo.>" and ">" but not "foo.bar". */
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub star = mksub("foo.*", NULL), full = mksub("foo.>", NULL), all = mksub(">", NULL),
                  lit = mksub("foo.bar", NULL), glued = mksub("foo.b*", NULL);
    struct nb_sub *subs[] = {&star, &full, &all, &lit, &glued};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(nb_sublist_insert(sl, subs[i]), 0);
    const struct nb_result *r = match(sl, "foo.*");
    assert_int_equal(r->npsubs, 3);
    assert_int_equal(plain_count(r, &star), 1);
    assert_int_equal(plain_count(r, &full), 1);
    assert_int_equal(plain_count(r, &all), 1);
    /* "b*" is a literal token, matched only by itself or a wildcard. */
    r = match(sl, "foo.b*");
    assert_int_equal(r->npsubs, 4);
    assert_int_equal(plain_count(r, &glued), 1);
    nb_sublist_free(sl);
}

static void
test_queue_groups_merge(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub q1 = mksub("foo.*", "q"), q2 = mksub("foo.bar", "q"), q3 = mksub(">", "q"),
                  q4 = mksub("foo.bar", "q"), r1 = mksub("foo.bar", "r"), r2 = mksub("foo.>", "r"),
                  s1 = mksub("foo.baz", "q"), p = mksub("foo.bar", NULL);
    struct nb_sub *subs[] = {&q1, &q2, &q3, &q4, &r1, &r2, &s1, &p};
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(nb_sublist_insert(sl, subs[i]), 0);

    const struct nb_result *r = match(sl, "foo.bar");
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], &p);
    assert_int_equal(r->nqgroups, 2);
    const struct nb_qgroup *g = group(r, "q");
    assert_non_null(g);
    assert_int_equal(g->n, 4);
    assert_true(in_group(g, &q1) && in_group(g, &q2) && in_group(g, &q3) && in_group(g, &q4));
    assert_false(in_group(g, &s1));
    g = group(r, "r");
    assert_non_null(g);
    assert_int_equal(g->n, 2);
    assert_true(in_group(g, &r1) && in_group(g, &r2));

    /* Removing a member (the one the group's name may come from) keeps the group right. */
    assert_int_equal(nb_sublist_remove(sl, &q2), 0);
    assert_int_equal(nb_sublist_remove(sl, &r1), 0);
    r = match(sl, "foo.bar");
    g = group(r, "q");
    assert_int_equal(g->n, 3);
    assert_false(in_group(g, &q2));
    g = group(r, "r");
    assert_int_equal(g->n, 1);
    assert_ptr_equal(g->members[0], &r2);
    assert_int_equal(g->name_len, 1);
    assert_memory_equal(g->name, "r", 1);

    /* A queue subscription never shows up as a plain one. */
    r = match(sl, "x");
    assert_int_equal(r->npsubs, 0);
    assert_int_equal(r->nqgroups, 1);
    assert_ptr_equal(group(r, "q")->members[0], &q3);
    nb_sublist_free(sl);
}

static void
test_many_members_same_subject(void **state)
{
    (void)state;
    /* Enough members to grow and then shrink the member arrays, with removals in mixed order. */
    enum { N = 300 };
    struct nb_sub plain[N], queued[N];
    struct nb_sublist *sl = nb_sublist_new();
    for (int i = 0; i < N; i++) {
        plain[i] = mksub("hot.subject", NULL);
        queued[i] = mksub("hot.subject", "workers");
        assert_int_equal(nb_sublist_insert(sl, &plain[i]), 0);
        assert_int_equal(nb_sublist_insert(sl, &queued[i]), 0);
    }
    const struct nb_result *r = match(sl, "hot.subject");
    assert_int_equal(r->npsubs, N);
    assert_int_equal(r->nqgroups, 1);
    assert_int_equal(r->qgroups[0].n, N);
    for (int i = 0; i < N; i += 3) {
        assert_int_equal(nb_sublist_remove(sl, &plain[i]), 0);
        assert_int_equal(nb_sublist_remove(sl, &queued[N - 1 - i]), 0);
    }
    r = match(sl, "hot.subject");
    assert_int_equal(r->npsubs, N - 100);
    assert_int_equal(r->qgroups[0].n, N - 100);
    for (int i = 0; i < N; i++) {
        assert_int_equal(plain_count(r, &plain[i]), i % 3 == 0 ? 0 : 1);
        assert_int_equal(in_group(&r->qgroups[0], &queued[N - 1 - i]), i % 3 != 0);
    }
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) continue;
        assert_int_equal(nb_sublist_remove(sl, &plain[i]), 0);
        assert_int_equal(nb_sublist_remove(sl, &queued[N - 1 - i]), 0);
    }
    r = match(sl, "hot.subject");
    assert_int_equal(r->npsubs, 0);
    assert_int_equal(r->nqgroups, 0);
    assert_int_equal(stats(sl).count, 0);
    nb_sublist_free(sl);
}

static void
test_no_duplicates(void **state)
{
    (void)state;
    /* Every pattern below matches "a.b.c"; each subscription must appear exactly once. */
    static const char *const pats[] = {"a.b.c", "*.b.c", "a.*.c", "a.b.*", "*.*.c",
                                       "*.b.*", "a.*.*", "*.*.*", ">",     "a.>",
                                       "a.b.>", "*.>",   "*.*.>", "a.*.>", "*.b.>"};
    enum { NP = sizeof pats / sizeof pats[0] };
    struct nb_sub plain[NP], queued[NP];
    struct nb_sublist *sl = nb_sublist_new();
    for (int i = 0; i < NP; i++) {
        plain[i] = mksub(pats[i], NULL);
        queued[i] = mksub(pats[i], "g");
        assert_int_equal(nb_sublist_insert(sl, &plain[i]), 0);
        assert_int_equal(nb_sublist_insert(sl, &queued[i]), 0);
    }
    for (int pass = 0; pass < 3; pass++) { /* the second caches it, the third is a hit */
        const struct nb_result *r = match(sl, "a.b.c");
        assert_int_equal(r->npsubs, NP);
        assert_int_equal(r->nqgroups, 1);
        assert_int_equal(r->qgroups[0].n, NP);
        for (int i = 0; i < NP; i++) {
            assert_int_equal(plain_count(r, &plain[i]), 1);
            assert_true(in_group(&r->qgroups[0], &queued[i]));
        }
    }
    assert_int_equal(stats(sl).cache_hits, 1);
    nb_sublist_free(sl);
}

static void
test_cache_hits(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub a = mksub("foo.bar", NULL), w = mksub("foo.*", "q");
    assert_int_equal(nb_sublist_insert(sl, &a), 0);
    assert_int_equal(nb_sublist_insert(sl, &w), 0);

    /* A subject is cached at its second miss (the doorkeeper): a subject used once is not. */
    const struct nb_result *r1 = match(sl, "foo.bar");
    assert_int_equal(r1->npsubs, 1);
    assert_int_equal(stats(sl).cache_entries, 0);
    r1 = match(sl, "foo.bar");
    struct nb_sublist_stats st = stats(sl);
    assert_int_equal(st.matches, 2);
    assert_int_equal(st.cache_hits, 0);
    assert_int_equal(st.cache_entries, 1);

    /* The subject view need not be NUL-terminated or the same buffer. */
    char buf[] = "foo.barXYZ";
    const struct nb_result *r2 = nb_sublist_match(sl, buf, 7);
    st = stats(sl);
    assert_int_equal(st.matches, 3);
    assert_int_equal(st.cache_hits, 1);
    assert_int_equal(st.cache_entries, 1);
    assert_ptr_equal(r1, r2);
    assert_int_equal(r2->npsubs, 1);
    assert_ptr_equal(r2->psubs[0], &a);
    assert_int_equal(r2->nqgroups, 1);
    assert_int_equal(r2->qgroups[0].n, 1);
    assert_ptr_equal(r2->qgroups[0].members[0], &w);

    /* A miss on another subject leaves the earlier result valid (no insert or remove between). */
    const struct nb_result *r3 = match(sl, "foo.baz");
    assert_int_equal(r3->npsubs, 0);
    assert_int_equal(r3->nqgroups, 1);
    assert_int_equal(r1->npsubs, 1);
    assert_ptr_equal(r1->psubs[0], &a);
    assert_int_equal(stats(sl).cache_entries, 1);
    r3 = match(sl, "foo.baz");
    assert_int_equal(stats(sl).cache_entries, 2);
    assert_ptr_equal(match(sl, "foo.baz"), r3);
    assert_int_equal(stats(sl).cache_hits, 2);

    /* Empty results are cached too. */
    for (int i = 0; i < 3; i++)
        match(sl, "nothing.here");
    assert_int_equal(stats(sl).cache_hits, 3);
    assert_int_equal(stats(sl).matches, 9);
    nb_sublist_free(sl);
}

static void
test_cache_invalidation_literal(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub a = mksub("foo.bar", NULL), b = mksub("foo.bar", NULL), q = mksub("foo.bar", "q");
    assert_int_equal(nb_sublist_insert(sl, &a), 0);
    for (int pass = 0; pass < 2; pass++) { /* cached at the second miss */
        assert_int_equal(match(sl, "foo.bar")->npsubs, 1);
        assert_int_equal(match(sl, "other")->npsubs, 0);
        assert_int_equal(match(sl, "foo.baz")->npsubs, 0);
    }
    assert_int_equal(stats(sl).cache_entries, 3);

    /* A literal insert drops only its own subject's entry, and the next match sees the new sub. */
    assert_int_equal(nb_sublist_insert(sl, &b), 0);
    assert_int_equal(stats(sl).cache_entries, 2);
    const struct nb_result *r = match(sl, "foo.bar");
    assert_int_equal(r->npsubs, 2);
    assert_int_equal(plain_count(r, &b), 1);

    assert_int_equal(nb_sublist_insert(sl, &q), 0);
    r = match(sl, "foo.bar");
    assert_int_equal(r->nqgroups, 1);
    assert_ptr_equal(r->qgroups[0].members[0], &q);

    uint64_t hits = stats(sl).cache_hits;
    assert_int_equal(match(sl, "other")->npsubs, 0);
    assert_int_equal(stats(sl).cache_hits, hits + 1);

    /* A literal remove: the stale entry must not survive. */
    assert_int_equal(nb_sublist_remove(sl, &a), 0);
    r = match(sl, "foo.bar");
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], &b);
    assert_int_equal(nb_sublist_remove(sl, &q), 0);
    assert_int_equal(match(sl, "foo.bar")->nqgroups, 0);
    assert_int_equal(nb_sublist_remove(sl, &b), 0);
    assert_int_equal(match(sl, "foo.bar")->npsubs, 0);
    /* Unrelated entries stayed cached through all of it. */
    hits = stats(sl).cache_hits;
    match(sl, "foo.baz");
    assert_int_equal(stats(sl).cache_hits, hits + 1);
    nb_sublist_free(sl);
}

static void
test_cache_invalidation_wildcard(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub lit = mksub("foo.bar", NULL), star = mksub("foo.*", NULL), all = mksub(">", "q");
    assert_int_equal(nb_sublist_insert(sl, &lit), 0);
    assert_int_equal(match(sl, "foo.bar")->npsubs, 1);
    assert_int_equal(match(sl, "foo.baz")->npsubs, 0);
    assert_int_equal(match(sl, "x")->npsubs, 0);

    /* A wildcard insert affects other subjects: the whole cache goes. */
    assert_int_equal(nb_sublist_insert(sl, &star), 0);
    assert_int_equal(stats(sl).cache_entries, 0);
    assert_int_equal(match(sl, "foo.bar")->npsubs, 2);
    const struct nb_result *r = match(sl, "foo.baz");
    assert_int_equal(r->npsubs, 1);
    assert_ptr_equal(r->psubs[0], &star);
    assert_int_equal(match(sl, "x")->npsubs, 0);

    assert_int_equal(nb_sublist_insert(sl, &all), 0);
    assert_int_equal(match(sl, "x")->nqgroups, 1);
    assert_int_equal(match(sl, "foo.baz")->nqgroups, 1);

    /* And a wildcard remove. */
    assert_int_equal(nb_sublist_remove(sl, &star), 0);
    assert_int_equal(stats(sl).cache_entries, 0);
    assert_int_equal(match(sl, "foo.baz")->npsubs, 0);
    assert_int_equal(match(sl, "foo.bar")->npsubs, 1);
    assert_int_equal(nb_sublist_remove(sl, &all), 0);
    assert_int_equal(match(sl, "x")->nqgroups, 0);
    assert_int_equal(match(sl, "foo.bar")->nqgroups, 0);
    nb_sublist_free(sl);
}

/* Subjects used once (request replies, JetStream acks) are served from scratch, uncached. */
static void
test_cache_doorkeeper(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub inbox = mksub("_INBOX.>", NULL), hot = mksub("hot", NULL);
    assert_int_equal(nb_sublist_insert(sl, &inbox), 0);
    assert_int_equal(nb_sublist_insert(sl, &hot), 0);
    match(sl, "hot");
    match(sl, "hot");
    char subject[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(subject, sizeof subject, "_INBOX.r.%d", i);
        const struct nb_result *r = match(sl, subject);
        assert_int_equal(r->npsubs, 1);
        assert_ptr_equal(r->psubs[0], &inbox);
    }
    assert_true(stats(sl).cache_entries < 250); /* the doorkeeper's false positives only */
    uint64_t hits = stats(sl).cache_hits;
    assert_ptr_equal(match(sl, "hot")->psubs[0], &hot);
    assert_int_equal(stats(sl).cache_hits, hits + 1);
    nb_sublist_free(sl);
}

static void
test_cache_eviction(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct nb_sublist *sl = nb_sublist_new();
    static char subjects[N][16];
    static struct nb_sub subs[N];
    for (int i = 0; i < N; i++) {
        snprintf(subjects[i], sizeof subjects[i], "s.%d", i);
        subs[i] = mksub(subjects[i], NULL);
        if (i % 2 == 0) assert_int_equal(nb_sublist_insert(sl, &subs[i]), 0);
    }
    struct nb_sub any = mksub("s.*", "q");
    assert_int_equal(nb_sublist_insert(sl, &any), 0);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            const struct nb_result *r = match(sl, subjects[i]);
            assert_int_equal(r->npsubs, i % 2 == 0 ? 1 : 0);
            if (i % 2 == 0) assert_ptr_equal(r->psubs[0], &subs[i]);
            assert_int_equal(r->nqgroups, 1);
            assert_true(stats(sl).cache_entries <= 1024);
        }
    }
    assert_int_equal(stats(sl).cache_entries, 1024);
    /* Some of the last round's subjects were still cached. */
    assert_true(stats(sl).cache_hits > 0);
    assert_true(stats(sl).cache_hits < N);
    nb_sublist_free(sl);
}

static void
test_remove_missing(void **state)
{
    (void)state;
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub a = mksub("foo.bar", NULL), twin = mksub("foo.bar", NULL),
                  other = mksub("foo.baz", NULL), qa = mksub("foo.bar", "q"),
                  qb = mksub("foo.bar", "r"), star = mksub("foo.*", NULL),
                  bad = mksub("foo..bar", NULL), empty = mksub("", NULL);
    assert_int_equal(nb_sublist_remove(sl, &a), -ENOENT);
    assert_int_equal(nb_sublist_insert(sl, &a), 0);
    assert_int_equal(nb_sublist_insert(sl, &qa), 0);
    assert_int_equal(nb_sublist_remove(sl, &twin), -ENOENT);  /* same subject, other sub */
    assert_int_equal(nb_sublist_remove(sl, &other), -ENOENT); /* no such node */
    assert_int_equal(nb_sublist_remove(sl, &star), -ENOENT);
    assert_int_equal(nb_sublist_remove(sl, &qb), -ENOENT); /* no such queue group */
    assert_int_equal(nb_sublist_remove(sl, &bad), -ENOENT);
    assert_int_equal(nb_sublist_remove(sl, &empty), -ENOENT);
    /* A queue sub is not found among plain ones and vice versa. */
    struct nb_sub a_as_queue = a;
    a_as_queue.queue = "q";
    a_as_queue.queue_len = 1;
    assert_int_equal(nb_sublist_remove(sl, &a_as_queue), -ENOENT);
    assert_int_equal(stats(sl).count, 2);
    assert_int_equal(stats(sl).removes, 0);
    assert_int_equal(nb_sublist_remove(sl, &a), 0);
    assert_int_equal(nb_sublist_remove(sl, &a), -ENOENT);
    assert_int_equal(nb_sublist_remove(sl, &qa), 0);
    assert_int_equal(nb_sublist_remove(sl, &qa), -ENOENT);
    assert_int_equal(stats(sl).count, 0);
    assert_int_equal(stats(sl).removes, 2);
    nb_sublist_free(sl);
}

static void
test_invalid_subjects(void **state)
{
    (void)state;
    static const char *const bad[] = {"",    ".",       "foo.",     ".foo", "foo..bar", "foo.>.bar",
                                      ">.x", "foo bar", "foo\tbar", "a.\r", "\n"};
    struct nb_sublist *sl = nb_sublist_new();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct nb_sub s = mksub(bad[i], NULL);
        assert_int_equal(nb_sublist_insert(sl, &s), -EINVAL);
        s.queue = "q";
        s.queue_len = 1;
        assert_int_equal(nb_sublist_insert(sl, &s), -EINVAL);
    }
    assert_int_equal(stats(sl).count, 0);
    assert_int_equal(stats(sl).inserts, 0);

    /* Subjects with empty tokens match nothing, even with a '>' subscription present. */
    struct nb_sub all = mksub(">", NULL);
    assert_int_equal(nb_sublist_insert(sl, &all), 0);
    static const char *const bad_pub[] = {"", ".", "foo.", ".foo", "foo..bar"};
    for (size_t i = 0; i < sizeof bad_pub / sizeof bad_pub[0]; i++) {
        const struct nb_result *r = match(sl, bad_pub[i]);
        assert_int_equal(r->npsubs, 0);
        assert_int_equal(r->nqgroups, 0);
    }
    assert_int_equal(match(sl, "foo")->npsubs, 1);
    assert_int_equal(nb_sublist_match(sl, NULL, 0)->npsubs, 0);
    nb_sublist_free(sl);
}

/* Bytes the allocator has handed out and not taken back; 0 when it cannot tell (sanitizers). */
static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd; /* hblkhd: large blocks the allocator mmapped */
}

static void
test_pruning(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char subjects[N][32];
    static struct nb_sub subs[N];
    struct nb_sublist *sl = nb_sublist_new();
    match(sl, "warm.up"); /* let the cache map and scratch reach a steady size first */
    size_t before = heap_in_use();
    for (int i = 0; i < N; i++) {
        static const char *const forms[] = {"p.%d.a.b", "p.*.%d.>", "%d.x", "q.%d", "q.%d.*"};
        snprintf(subjects[i], sizeof subjects[i], forms[i % 5], i);
        subs[i] = mksub(subjects[i], i % 3 == 0 ? "grp" : NULL);
        assert_int_equal(nb_sublist_insert(sl, &subs[i]), 0);
    }
    assert_int_equal(stats(sl).count, N);
    assert_true(match(sl, "q.3")->nqgroups == 1);
    size_t full = heap_in_use();
    for (int i = N - 1; i >= 0; i -= 2)
        assert_int_equal(nb_sublist_remove(sl, &subs[i]), 0);
    for (int i = 0; i < N; i += 2)
        assert_int_equal(nb_sublist_remove(sl, &subs[i]), 0);

    struct nb_sublist_stats st = stats(sl);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.inserts, N);
    assert_int_equal(st.removes, N);
    assert_int_equal(st.cache_entries, 0);
    for (int i = 0; i < N; i += 97) {
        const struct nb_result *r = match(sl, subjects[i]);
        assert_int_equal(r->npsubs, 0);
        assert_int_equal(r->nqgroups, 0);
    }
    assert_int_equal(match(sl, "p.1.a.b")->npsubs, 0);
    assert_int_equal(match(sl, "q.1.z")->npsubs, 0);
    /*
     * Every trie node is gone: what is left is the cache those few matches just filled, plus the
     * allocator's per-thread cache of freed chunks, which it still counts as in use. Without pruning
     * the 2000 subjects' interior nodes alone would hold well over 100 KiB.
     */
    size_t after = heap_in_use();
    if (before > 0) {
        assert_true(full > before + (size_t)N * 128);
        assert_true(after < before + 32768);
    }
    nb_sublist_free(sl);
}

static void
test_memory_per_subscription(void **state)
{
    (void)state;
    /* The benchmark's shape: 100,000 subscriptions on distinct subjects bench.sub.N. */
    enum { N = 100000 };
    char(*subjects)[24] = calloc(N, sizeof *subjects);
    struct nb_sub *subs = calloc(N, sizeof *subs);
    assert_non_null(subjects);
    assert_non_null(subs);
    struct nb_sublist *sl = nb_sublist_new();
    size_t before = heap_in_use();
    for (int i = 0; i < N; i++) {
        snprintf(subjects[i], sizeof subjects[i], "bench.sub.%d", i);
        subs[i] = mksub(subjects[i], NULL);
        assert_int_equal(nb_sublist_insert(sl, &subs[i]), 0);
    }
    size_t used = heap_in_use() - before;
    if (before > 0) {
        print_message("sublist: %zu bytes per subscription\n", used / N);
        assert_true(used / N <= 128);
    }
    for (int i = 0; i < N; i += 1000) {
        const struct nb_result *r = match(sl, subjects[i]);
        assert_int_equal(r->npsubs, 1);
        assert_ptr_equal(r->psubs[0], &subs[i]);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(nb_sublist_remove(sl, &subs[i]), 0);
    if (before > 0) assert_true(heap_in_use() < before + 65536);
    nb_sublist_free(sl);
    free(subs);
    free(subjects);
}

/* ---- randomized comparison with a brute-force scan --------------------------------------------- */

struct rsub {
    struct nb_sub sub;
    char subject[32];
    bool in;
};

static void
random_subject(char *dst, size_t cap, bool wildcards)
{
    static const char *const lits[] = {"a", "b", "c", "dd"};
    size_t ntok = 1 + (size_t)rand() % 4, len = 0;
    dst[0] = '\0';
    for (size_t t = 0; t < ntok; t++) {
        const char *tok = lits[rand() % 4];
        int r = rand() % 10;
        if (wildcards && r < 2) tok = "*";
        if (wildcards && r == 2 && t == ntok - 1) tok = ">";
        len += (size_t)snprintf(dst + len, cap - len, "%s%s", t ? "." : "", tok);
    }
}

static int
cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return (x > y) - (x < y);
}

/* Checks r against every live subscription that np_subject_match says matches subject. */
static void
check_against_scan(const struct nb_result *r, struct rsub *rs, size_t n, const char *subject)
{
    static const char *const queues[] = {"q1", "q2"};
    size_t slen = strlen(subject);
    struct nb_sub *want[2048], *got[2048];
    size_t nwant = 0;
    for (size_t i = 0; i < n; i++) {
        if (rs[i].in && !rs[i].sub.queue &&
            np_subject_match(rs[i].subject, rs[i].sub.subject_len, subject, slen))
            want[nwant++] = &rs[i].sub;
    }
    assert_int_equal(r->npsubs, nwant);
    memcpy(got, r->psubs, nwant * sizeof got[0]);
    qsort(want, nwant, sizeof want[0], cmp_ptr);
    qsort(got, nwant, sizeof got[0], cmp_ptr);
    assert_memory_equal(want, got, nwant * sizeof got[0]);

    uint32_t groups_seen = 0;
    for (size_t q = 0; q < 2; q++) {
        nwant = 0;
        for (size_t i = 0; i < n; i++) {
            if (rs[i].in && rs[i].sub.queue && strcmp(rs[i].sub.queue, queues[q]) == 0 &&
                np_subject_match(rs[i].subject, rs[i].sub.subject_len, subject, slen))
                want[nwant++] = &rs[i].sub;
        }
        const struct nb_qgroup *g = group(r, queues[q]);
        if (nwant == 0) {
            assert_null(g);
            continue;
        }
        assert_non_null(g);
        groups_seen++;
        assert_int_equal(g->n, nwant);
        memcpy(got, g->members, nwant * sizeof got[0]);
        qsort(want, nwant, sizeof want[0], cmp_ptr);
        qsort(got, nwant, sizeof got[0], cmp_ptr);
        assert_memory_equal(want, got, nwant * sizeof got[0]);
    }
    assert_int_equal(r->nqgroups, groups_seen);
}

static void
test_random_against_brute_force(void **state)
{
    (void)state;
    static const char *const queues[] = {"q1", "q2"};
    enum { N = 1500, STEPS = 30000 };
    static struct rsub rs[N];
    srand(4242);
    for (size_t i = 0; i < N; i++) {
        random_subject(rs[i].subject, sizeof rs[i].subject, true);
        int kind = rand() % 4;
        rs[i].sub = mksub(rs[i].subject, kind < 2 ? NULL : queues[kind - 2]);
        rs[i].in = false;
    }
    struct nb_sublist *sl = nb_sublist_new();
    uint64_t count = 0;
    for (int step = 0; step < STEPS; step++) {
        int op = rand() % 10;
        if (op < 3) {
            struct rsub *x = &rs[(size_t)rand() % N];
            if (x->in) {
                assert_int_equal(nb_sublist_remove(sl, &x->sub), 0);
                count--;
            } else {
                assert_int_equal(nb_sublist_insert(sl, &x->sub), 0);
                count++;
            }
            x->in = !x->in;
            assert_int_equal(stats(sl).count, count);
        } else {
            char subject[32];
            /* Mostly literal subjects; some with wildcard tokens, as a non-pedantic PUB sends. */
            random_subject(subject, sizeof subject, op == 9);
            check_against_scan(match(sl, subject), rs, N, subject);
        }
    }
    struct nb_sublist_stats st = stats(sl);
    assert_true(st.cache_hits > 0);
    assert_true(st.cache_hits < st.matches);
    for (size_t i = 0; i < N; i++) {
        if (rs[i].in) assert_int_equal(nb_sublist_remove(sl, &rs[i].sub), 0);
        rs[i].in = false;
    }
    assert_int_equal(stats(sl).count, 0);
    assert_int_equal(match(sl, "a.b")->npsubs, 0);
    nb_sublist_free(sl);
}

/* Each of these can match some subject under the prefix, so the ack subscription is not alone. */
static void
test_sole_receiver_of_a_prefix(void **state)
{
    (void)state;
    static const char *const rivals[] = {">",         "$JS.>",         "*.ACK.S.C.1",
                                         "$JS.*.S.>", "$JS.ACK.S.C.*", "$JS.ACK.S.C.1.>"};
    static const char prefix[] = "$JS.ACK.S.C.";
    struct nb_sublist *sl = nb_sublist_new();
    struct nb_sub ack = mksub("$JS.ACK.S.C.>", NULL), unrelated = mksub("$JS.ACK.T.C.>", NULL);
    assert_false(nb_sublist_sole(sl, prefix, strlen(prefix), &ack));
    assert_int_equal(nb_sublist_insert(sl, &ack), 0);
    assert_int_equal(nb_sublist_insert(sl, &unrelated), 0);
    assert_true(nb_sublist_sole(sl, prefix, strlen(prefix), &ack));
    assert_false(nb_sublist_sole(sl, prefix, strlen(prefix), &unrelated));
    for (size_t i = 0; i < sizeof rivals / sizeof rivals[0]; i++) {
        struct nb_sub rival = mksub(rivals[i], NULL);
        uint64_t gen = nb_sublist_generation(sl);
        assert_int_equal(nb_sublist_insert(sl, &rival), 0);
        assert_true(nb_sublist_generation(sl) != gen);
        assert_false(nb_sublist_sole(sl, prefix, strlen(prefix), &ack));
        assert_int_equal(nb_sublist_remove(sl, &rival), 0);
        assert_true(nb_sublist_sole(sl, prefix, strlen(prefix), &ack));
    }
    struct nb_sub twin = mksub("$JS.ACK.S.C.>", NULL), member = mksub("$JS.ACK.S.C.>", "q");
    assert_int_equal(nb_sublist_insert(sl, &twin), 0);
    assert_false(nb_sublist_sole(sl, prefix, strlen(prefix), &ack));
    assert_int_equal(nb_sublist_remove(sl, &twin), 0);
    assert_int_equal(nb_sublist_insert(sl, &member), 0);
    assert_false(nb_sublist_sole(sl, prefix, strlen(prefix), &ack));
    nb_sublist_free(sl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_empty),
        cmocka_unit_test(test_plain_literal),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_wildcard_tokens_in_published_subject),
        cmocka_unit_test(test_queue_groups_merge),
        cmocka_unit_test(test_many_members_same_subject),
        cmocka_unit_test(test_no_duplicates),
        cmocka_unit_test(test_cache_hits),
        cmocka_unit_test(test_cache_invalidation_literal),
        cmocka_unit_test(test_cache_invalidation_wildcard),
        cmocka_unit_test(test_cache_doorkeeper),
        cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_remove_missing),
        cmocka_unit_test(test_invalid_subjects),
        cmocka_unit_test(test_pruning),
        cmocka_unit_test(test_memory_per_subscription),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_sole_receiver_of_a_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
