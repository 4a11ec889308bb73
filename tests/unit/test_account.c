/*
 * Unit tests for the account table (nb_account.c): which accounts a configuration makes, their
 * order, the system account, and that each has a sublist of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nb_account.h"

#include <string.h>

static struct nb_accounts *
make(char **names, size_t n, const char *sys)
{
    /* only the accounts and the system account are read: no strings to release */
    struct nb_config cfg = {.accounts = names};
    cfg.naccounts = n;
    cfg.system_account = (char *)sys;
    struct nb_accounts *as = NULL;
    assert_int_equal(nb__accounts_new(&cfg, &as), 0);
    return as;
}

static void
test_defaults(void **state)
{
    (void)state;
    struct nb_accounts *as = make(NULL, 0, NULL);
    assert_int_equal(nb__accounts_count(as), 2);
    assert_string_equal(nb__account_name(nb__accounts_at(as, 0)), "$G");
    assert_string_equal(nb__account_name(nb__accounts_at(as, 1)), "$SYS");
    assert_null(nb__accounts_at(as, 2));
    assert_ptr_equal(nb__accounts_global(as), nb__accounts_at(as, 0));
    assert_ptr_equal(nb__accounts_system(as), nb__accounts_at(as, 1));
    assert_true(nb__account_is_system(nb__accounts_system(as)));
    assert_false(nb__account_is_system(nb__accounts_global(as)));
    nb__accounts_free(as);
}

static void
test_configured(void **state)
{
    (void)state;
    char *names[] = {"A", "SYS", "B"};
    struct nb_accounts *as = make(names, 3, "SYS");
    /* $G first, then file order; no $SYS when another account is the system account */
    const char *want[] = {"$G", "A", "SYS", "B"};
    assert_int_equal(nb__accounts_count(as), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(nb__account_name(nb__accounts_at(as, i)), want[i]);
    struct nb_account *sys = nb__accounts_find(as, "SYS", 3);
    assert_ptr_equal(nb__accounts_system(as), sys);
    assert_true(nb__account_is_system(sys));
    assert_null(nb__accounts_find(as, "$SYS", 4));
    assert_int_equal(nb__account_name_len(sys), 3);
    /* lookups take a length: a prefix or a longer name is another account */
    assert_null(nb__accounts_find(as, "SYSX", 4));
    assert_null(nb__accounts_find(as, "SY", 2));
    assert_ptr_equal(nb__accounts_find(as, "A.more", 1), nb__accounts_at(as, 1));
    nb__accounts_free(as);
}

/* A subscription in one account is not matched by a publish in another. */
static void
test_isolated_sublists(void **state)
{
    (void)state;
    char *names[] = {"A", "B"};
    struct nb_accounts *as = make(names, 2, NULL);
    struct nb_account *a = nb__accounts_find(as, "A", 1), *b = nb__accounts_find(as, "B", 1);
    assert_ptr_not_equal(nb__account_sublist(a), nb__account_sublist(b));
    struct nb_sub sub = {.subject = "foo", .subject_len = 3, .sid = "1", .sid_len = 1};
    assert_int_equal(nb_sublist_insert(nb__account_sublist(a), &sub), 0);
    const struct nb_result *r = nb_sublist_match(nb__account_sublist(a), "foo", 3);
    assert_int_equal(r->npsubs, 1);
    r = nb_sublist_match(nb__account_sublist(b), "foo", 3);
    assert_int_equal(r->npsubs, 0);
    r = nb_sublist_match(nb__account_sublist(nb__accounts_global(as)), "foo", 3);
    assert_int_equal(r->npsubs, 0);
    assert_int_equal(nb_sublist_remove(nb__account_sublist(a), &sub), 0);
    nb__accounts_free(as);
}

static void
test_conns(void **state)
{
    (void)state;
    struct nb_accounts *as = make(NULL, 0, NULL);
    struct nb_account *g = nb__accounts_global(as);
    assert_int_equal(nb__account_conns(g), 0);
    nb__account_conn_add(g, 1);
    nb__account_conn_add(g, 1);
    nb__account_conn_add(g, -1);
    assert_int_equal(nb__account_conns(g), 1);
    nb__accounts_free(as);
}

/* system_account that names nothing: the configuration check should have refused it. */
static void
test_missing_system(void **state)
{
    (void)state;
    struct nb_config cfg = {.system_account = "NOPE"};
    struct nb_accounts *as = NULL;
    assert_int_equal(nb__accounts_new(&cfg, &as), NB_ECONFIG);
    assert_null(as);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_configured),
        cmocka_unit_test(test_isolated_sublists), cmocka_unit_test(test_conns),
        cmocka_unit_test(test_missing_system),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
