/*
 * Permission checks (libbroker/nb_perm.c) and the bounded subject cache behind them
 * (nb_scache.c). The expected answers for subscriptions are nats-server 2.9.10's, seen on the
 * wire, except where docs/security.md says natsctl refuses more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nb_perm.h"
#include "nb_scache.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#define LIST(...) ((char *[]){__VA_ARGS__, NULL})

static size_t
count(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* A compiled set from NULL-terminated lists (NULL for none). */
static struct nb_perm_set *
compile(char **pub_allow, char **pub_deny, char **sub_allow, char **sub_deny)
{
    struct nb_permissions p = {
        .publish = {pub_allow, pub_deny, count(pub_allow), count(pub_deny)},
        .subscribe = {sub_allow, sub_deny, count(sub_allow), count(sub_deny)},
    };
    struct nb_perm_set *set = NULL;
    assert_int_equal(nb__perm_set_new(&p, &set), 0);
    return set;
}

static bool
may_sub(const struct nb_perm_set *set, const char *subject, const char *queue)
{
    return nb__perm_may_subscribe(set, (struct np_str){subject, strlen(subject)},
                                  (struct np_str){queue ? queue : "", queue ? strlen(queue) : 0});
}

static bool
may_pub(struct nb_perm_state *st, const char *subject, uint64_t now)
{
    return nb__perm_may_publish(st, subject, strlen(subject), now);
}

struct sub_case {
    const char *subject, *queue;
    bool allowed;
};

static void
check_subs(const struct nb_perm_set *set, const struct sub_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool got = may_sub(set, cases[i].subject, cases[i].queue);
        if (got != cases[i].allowed)
            fail_msg("SUB %s %s: %s", cases[i].subject, cases[i].queue ? cases[i].queue : "",
                     got ? "allowed" : "refused");
    }
}

static void
test_subscribe(void **state)
{
    (void)state;
    /* tests/bats/19-auth.bats sends these to both servers */
    struct nb_perm_set *set = compile(NULL, NULL, LIST("svc.*", "_INBOX.>", "w.* q1", "w.a", "z.>"),
                                      LIST("svc.secret", "w.a q2", "z.* q9"));
    static const struct sub_case cases[] = {
        {"x", NULL, false},
        {"svc.a", NULL, true},
        {"svc.*", NULL, true},
        {"svc.secret", NULL, false},
        {"_INBOX.abc.*", NULL, true},
        {"w.a", "q3", false}, /* "w.* q1" covers w.a: only q1 may queue there */
        {"w.b", "q1", true},
        {"w.b", NULL, false}, /* only queue entries cover w.b */
        {"w.a", NULL, true},
        {"w.a", "q2", false},
        {"w.a", "q1", true},
        {"z.x", "_sys_", false},
        {"z.x", "q9", false},
        {"z.>", "q9", false}, /* a deny entry matches the wildcard as a literal token */
        {"z.x", "q8", true},
        {"foo..x", NULL, false},
        /* nats-server 2.9.10 admits this one (its literal match of '>' against '*') */
        {"svc.>", NULL, false},
        {">", NULL, false},
    };
    check_subs(set, cases, sizeof cases / sizeof cases[0]);
    nb__perm_set_free(set);
}

static void
test_subscribe_queues(void **state)
{
    (void)state;
    /* a wildcard queue name in an entry covers the queues within it */
    struct nb_perm_set *set =
        compile(NULL, NULL, LIST("foo", "foo v1.*", "bar  >"), LIST("foo v1.bad", "deny.me"));
    static const struct sub_case cases[] = {
        {"foo", NULL, true},     {"foo", "v1.a", true}, {"foo", "v1", false},
        {"foo", "v1.*", true},   {"foo", "v2", false},  {"foo", "v1.bad", false},
        {"bar", "any", true},    {"bar", NULL, false},  {"deny.me", NULL, false},
        {"deny.me", "q", false},
    };
    check_subs(set, cases, sizeof cases / sizeof cases[0]);
    nb__perm_set_free(set);
    /* a plain deny entry wins over a queue deny entry for another group */
    set = compile(NULL, NULL, NULL, LIST("foo", "foo q1"));
    assert_false(may_sub(set, "foo", "q2"));
    assert_false(may_sub(set, "foo", NULL));
    assert_true(may_sub(set, "bar", "q1"));
    nb__perm_set_free(set);
    /* deny only: everything else is allowed, invalid subjects are left to the caller */
    set = compile(NULL, NULL, NULL, LIST("secret.>"));
    assert_true(may_sub(set, "foo..x", NULL));
    assert_true(may_sub(set, "secret", NULL));
    assert_false(may_sub(set, "secret.a", NULL));
    nb__perm_set_free(set);
}

static void
test_filters(void **state)
{
    (void)state;
    struct nb_perm_set *set = compile(NULL, NULL, NULL, LIST("foo.no", "*.bar", "q.x grp"));
    struct np_str subjects[] = {NP_STR_LIT("foo.*"), NP_STR_LIT("foo.>"), NP_STR_LIT(">"),
                                NP_STR_LIT("x.*"),   NP_STR_LIT("abc.*"), NP_STR_LIT("foo.yes"),
                                NP_STR_LIT("q.x.*")};
    bool want[] = {true, true, true, true, true, false, false};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (nb__perm_filters(set, subjects[i]) != want[i])
            fail_msg("filters(%.*s)", (int)subjects[i].len, subjects[i].ptr);
    }
    struct nb_perm_state st;
    nb__perm_state_init(&st, set);
    assert_false(nb__perm_may_deliver(&st, "foo.no", 6));
    assert_false(nb__perm_may_deliver(&st, "x.bar", 5));
    assert_true(nb__perm_may_deliver(&st, "foo.yes", 7));
    assert_true(nb__perm_may_deliver(&st, "q.x", 3)); /* queue entries do not filter */
    assert_false(nb__perm_may_deliver(&st, "foo.no", 6));
    assert_int_equal(st.deliver.count, 4);
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
    /* without a plain deny entry nothing is filtered */
    set = compile(NULL, NULL, LIST(">"), LIST("a grp"));
    assert_false(nb__perm_filters(set, (struct np_str)NP_STR_LIT(">")));
    nb__perm_set_free(set);
}

static void
test_publish(void **state)
{
    (void)state;
    struct nb_perm_set *set = compile(LIST("a.>", "b"), LIST("a.secret", "b"), NULL, NULL);
    struct nb_perm_state st;
    nb__perm_state_init(&st, set);
    assert_true(may_pub(&st, "a.x", 0));
    assert_true(may_pub(&st, "a.x.y", 0));
    assert_false(may_pub(&st, "a.secret", 0));
    assert_false(may_pub(&st, "b", 0)); /* deny over allow */
    assert_false(may_pub(&st, "c", 0));
    assert_false(may_pub(&st, "a", 0));
    assert_int_equal(st.pub.count, 6);
    /* answers come from the cache, bounded like nats-server's */
    assert_true(may_pub(&st, "a.x", 0));
    char subject[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(subject, sizeof subject, "a.n%d", i);
        assert_true(may_pub(&st, subject, 0));
    }
    assert_int_equal(st.pub.count, 128);
    assert_false(may_pub(&st, "a.secret", 0));
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
    /* deny only, and no lists at all */
    set = compile(NULL, LIST("x.>"), NULL, NULL);
    nb__perm_state_init(&st, set);
    assert_true(may_pub(&st, "y", 0));
    assert_false(may_pub(&st, "x.y", 0));
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
    set = compile(NULL, NULL, LIST("a"), NULL);
    nb__perm_state_init(&st, set);
    assert_true(may_pub(&st, "anything", 0));
    assert_int_equal(st.pub.count, 0); /* nothing to check, nothing cached */
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
}

/*
 * A warm connection's publish path holds on to the memory it has, while new subjects evict old
 * ones (test_scache shows the key buffers are the same ones throughout).
 */
static void
test_publish_memory_steady(void **state)
{
    (void)state;
    struct nb_perm_set *set = compile(LIST("a.>"), LIST("a.secret"), NULL, NULL);
    struct nb_perm_state st;
    nb__perm_state_init(&st, set);
    char subject[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(subject, sizeof subject, "a.n%04d", i);
        assert_true(may_pub(&st, subject, 0));
    }
    size_t before = mallinfo2().uordblks;
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(subject, sizeof subject, "a.n%04d", i % (round % 2 ? 100 : 1000));
            may_pub(&st, subject, 0);
        }
    }
    assert_int_equal(mallinfo2().uordblks, before);
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
}

static void
test_responses(void **state)
{
    (void)state;
    struct nb_permissions p = {
        .publish = {NULL, LIST("x.>"), 0, 1},
        .allow_responses = true,
        .responses_max = 2,
        .responses_ttl_ms = 1000,
    };
    struct nb_perm_set *set = NULL;
    assert_int_equal(nb__perm_set_new(&p, &set), 0);
    assert_true(set->pub_limited); /* a deny list alone no longer allows the rest */
    struct nb_perm_state st;
    nb__perm_state_init(&st, set);
    assert_false(may_pub(&st, "r1", 0));
    nb__perm_reply_received(&st, "r1", 2, 100);
    nb__perm_reply_received(&st, "x.r", 3, 100);
    assert_true(may_pub(&st, "r1", 200));
    assert_true(may_pub(&st, "r1", 300));
    assert_false(may_pub(&st, "r1", 400)); /* the third reply is one too many */
    assert_false(may_pub(&st, "r1", 500));
    assert_true(may_pub(&st, "x.r", 200)); /* a reply to a denied subject is still a reply */
    nb__perm_reply_received(&st, "r2", 2, 1000);
    assert_false(may_pub(&st, "r2", 2001)); /* expired */
    nb__perm_reply_received(&st, "r3", 2, 1000);
    assert_true(may_pub(&st, "r3", 2000)); /* not more than the ttl yet */
    assert_int_equal(st.pub.count, 0);     /* refusals that replies may lift are not cached */
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
    /* no limits, and replies remembered up to a bound */
    p = (struct nb_permissions){.publish = {LIST("ok"), NULL, 1, 0},
                                .allow_responses = true,
                                .responses_max = -1,
                                .responses_ttl_ms = -1};
    assert_int_equal(nb__perm_set_new(&p, &set), 0);
    nb__perm_state_init(&st, set);
    assert_true(may_pub(&st, "ok", 0));
    nb__perm_reply_received(&st, "r", 1, 0);
    for (int i = 0; i < 100; i++)
        assert_true(may_pub(&st, "r", (uint64_t)i * 1000000));
    char subject[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(subject, sizeof subject, "_INBOX.%d", i);
        nb__perm_reply_received(&st, subject, strlen(subject), 0);
    }
    assert_int_equal(st.replies.count, 4096);
    assert_true(may_pub(&st, "_INBOX.4999", 0));
    assert_false(may_pub(&st, "_INBOX.0", 0)); /* the oldest gave way */
    nb__perm_state_release(&st);
    nb__perm_set_free(set);
}

static void
test_scache(void **state)
{
    (void)state;
    struct nb_scache c = {.max = 3};
    assert_null(nb__scache_get(&c, "a", 1));
    struct nb_scache_entry *e = nb__scache_put(&c, "a", 1);
    e->allowed = true;
    e->count = 7;
    assert_ptr_equal(nb__scache_put(&c, "a", 1), e); /* an existing entry is left as it is */
    assert_int_equal(e->count, 7);
    nb__scache_put(&c, "bb", 2);
    nb__scache_put(&c, "ccc", 3);
    assert_int_equal(c.count, 3);
    char *keys[3];
    for (int i = 0; i < 3; i++)
        keys[i] = c.entries[i].key;
    /* full: the oldest goes, and its key buffer is reused when the new subject fits */
    e = nb__scache_put(&c, "d", 1);
    assert_int_equal(e->count, 0);
    assert_null(nb__scache_get(&c, "a", 1));
    assert_non_null(nb__scache_get(&c, "bb", 2));
    assert_ptr_equal(e->key, keys[0]);
    nb__scache_put(&c, "ee", 2);
    nb__scache_put(&c, "fff", 3);
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(c.entries[i].key, keys[i]);
    assert_null(nb__scache_get(&c, "ccc", 3));
    /* a removed entry's slot is taken by the last one, which stays findable */
    nb__scache_del(&c, nb__scache_get(&c, "d", 1));
    assert_int_equal(c.count, 2);
    assert_null(nb__scache_get(&c, "d", 1));
    assert_non_null(nb__scache_get(&c, "ee", 2));
    assert_non_null(nb__scache_get(&c, "fff", 3));
    assert_non_null(nb__scache_put(&c, "g", 1));
    assert_int_equal(c.count, 3);
    assert_null(nb__scache_put(&c, "", 0));
    nb__scache_release(&c);
    assert_int_equal(c.max, 3);
    assert_int_equal(c.count, 0);
    struct nb_scache none = {0};
    assert_null(nb__scache_put(&none, "a", 1));
    /* a longer subject in the oldest slot: the old key leaves the map before its buffer goes */
    struct nb_scache two = {.max = 2};
    nb__scache_put(&two, "a", 1);
    nb__scache_put(&two, "bb", 2);
    assert_non_null(nb__scache_put(&two, "cccc", 4));
    assert_null(nb__scache_get(&two, "a", 1));
    assert_non_null(nb__scache_get(&two, "bb", 2));
    assert_non_null(nb__scache_get(&two, "cccc", 4));
    assert_non_null(nb__scache_put(&two, "ddddddd", 7));
    assert_null(nb__scache_get(&two, "bb", 2));
    assert_non_null(nb__scache_get(&two, "cccc", 4));
    nb__scache_release(&two);
}

/*
 * The entry found last is tried before the map: it must answer as the map does when its slot has
 * been replaced, removed or released, and compare whole subjects of any length.
 */
static void
test_scache_last(void **state)
{
    (void)state;
    struct nb_scache c = {.max = 2};
    const char *long1 = "orders.eu.west.created", *long2 = "orders.eu.wesT.created";
    const char *long3 = "orders.eu.west.createD";
    struct nb_scache_entry *e = nb__scache_put(&c, long1, strlen(long1));
    assert_ptr_equal(nb__scache_last(&c, long1, strlen(long1)), e);
    assert_null(nb__scache_last(&c, long2, strlen(long2))); /* differs in a middle word */
    assert_null(nb__scache_last(&c, long3, strlen(long3))); /* in the last, overlapping word */
    assert_null(nb__scache_last(&c, long1, strlen(long1) - 1));
    assert_null(nb__scache_get(&c, long2, strlen(long2)));
    nb__scache_put(&c, "short", 5);
    assert_non_null(nb__scache_get(&c, "short", 5));
    assert_null(nb__scache_get(&c, "shorT", 5));
    /* the last one found is replaced by a new subject: its old subject is gone */
    assert_ptr_equal(nb__scache_get(&c, long1, strlen(long1)), e);
    nb__scache_put(&c, "x", 1);
    nb__scache_put(&c, "y", 1);
    assert_null(nb__scache_get(&c, long1, strlen(long1)));
    assert_null(nb__scache_get(&c, "short", 5));
    /* removed, then its slot taken by the entry moved into it */
    e = nb__scache_get(&c, "x", 1);
    nb__scache_del(&c, e);
    assert_null(nb__scache_get(&c, "x", 1));
    assert_null(nb__scache_last(&c, "x", 1));
    assert_non_null(nb__scache_get(&c, "y", 1));
    nb__scache_release(&c);
    assert_null(nb__scache_last(&c, "y", 1));
    assert_null(nb__scache_get(&c, "y", 1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_subscribe_queues),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_publish_memory_steady),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_scache),
        cmocka_unit_test(test_scache_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
