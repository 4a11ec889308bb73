/*
 * Unit tests for cmd/cli_check.c: each subject rule named, the control line arithmetic, -H shapes
 * and the max_payload message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli_check.h"

static void
test_subject_problem(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool wild;
        const char *want; /* a prefix of the reason, or NULL */
    } cases[] = {
        {"a.b", false, NULL},
        {"a.*.>", true, NULL},
        {"a*.b>", false, NULL},
        {"", true, "empty subject"},
        {"a..b", true, "empty token"},
        {".a", true, "empty token"},
        {"a.", true, "empty token"},
        {"a b", true, "blank"},
        {"a\tb", true, "blank"},
        {"a.>.b", true, "'>' must be the last token"},
        {"a.*", false, "wildcard token"},
        {">", false, "wildcard token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = cli_subject_problem(cases[i].s, strlen(cases[i].s), cases[i].wild);
        if (!cases[i].want) {
            assert_null(why);
            continue;
        }
        assert_non_null(why);
        assert_memory_equal(why, cases[i].want, strlen(cases[i].want));
    }
}

static void
test_subject_check(void **state)
{
    (void)state;
    char msg[160], subj[5001];
    memset(subj, 'a', 5000);
    subj[5000] = '\0';
    assert_false(cli_subject_check("subject", subj, false, 2, msg, sizeof msg));
    assert_string_equal(msg,
                        "subject too long (5000 > 4094 bytes: the control line limit is 4096)");
    subj[4094] = '\0';
    assert_true(cli_subject_check("subject", subj, false, 2, msg, sizeof msg));
    assert_false(cli_subject_check("subject", subj, false, 3, msg, sizeof msg));
    assert_false(cli_subject_check("reply subject", "r s", false, 0, msg, sizeof msg));
    assert_string_equal(msg,
                        "invalid reply subject 'r s': blank character (space, tab or line break)");
    subj[200] = ' ';
    assert_false(cli_subject_check("subject", subj, false, 0, msg, sizeof msg));
    assert_int_equal(strncmp(msg, "invalid subject 'aaa", 20), 0);
    assert_non_null(strstr(msg, "...': blank"));
}

static void
test_pub_args(void **state)
{
    (void)state;
    assert_int_equal(cli_digits(0), 1);
    assert_int_equal(cli_digits(9), 1);
    assert_int_equal(cli_digits(10), 2);
    assert_int_equal(cli_digits(UINT32_MAX), 10);
    assert_int_equal(cli_pub_args(0, 0, 5), 2);            /* "PUB s 5" */
    assert_int_equal(cli_pub_args(3, 0, 10), 4 + 3);       /* "PUB s rep 10" */
    assert_int_equal(cli_pub_args(0, 12, 100), 3 + 4);     /* "HPUB s 12 100" */
    assert_int_equal(cli_pub_args(1, 12, 100), 2 + 3 + 4); /* "HPUB s r 12 100" */
}

static void
test_header_add(void **state)
{
    (void)state;
    struct cli_msg m = {0};
    assert_null(cli_header_add(&m, "K:v"));
    assert_null(cli_header_add(&m, " K : v "));
    assert_non_null(strstr(cli_header_add(&m, "novalue"), "KEY:VALUE"));
    assert_non_null(strstr(cli_header_add(&m, ":v"), "KEY:VALUE"));
    assert_non_null(strstr(cli_header_add(&m, "a b:v"), "KEY:VALUE"));
    while (m.nheaders < CLI_MSG_MAX_HEADERS)
        assert_null(cli_header_add(&m, "K:v"));
    assert_string_equal(cli_header_add(&m, "K:v"), "too many headers (at most 64)");
    cli_msg_release(&m);
}

static void
test_payload_problem(void **state)
{
    (void)state;
    char msg[160];
    cli_payload_problem(NULL, 0, 2000, msg, sizeof msg);
    assert_string_equal(msg, "payload 2000 bytes > max_payload 1048576");
    cli_payload_problem(NULL, 20, 2000, msg, sizeof msg);
    assert_string_equal(msg, "payload 2020 bytes (headers included) > max_payload 1048576");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subject_problem), cmocka_unit_test(test_subject_check),
        cmocka_unit_test(test_pub_args),        cmocka_unit_test(test_header_add),
        cmocka_unit_test(test_payload_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
