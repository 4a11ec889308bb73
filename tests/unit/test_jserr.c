/* JetStream API errors (libbroker/nb_jserr.c): codes and texts from the table, safe truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "nb_jserr.h"

static void
test_plain_entry_ignores_arg(void **state)
{
    (void)state;
    struct nb_jserr err;
    nb_jserr_set(&err, NB_JSERR_STREAM_NOT_FOUND, "ignored");
    assert_int_equal(err.code, 404);
    assert_int_equal(err.err_code, 10059);
    assert_string_equal(err.description, "stream not found");
}

static void
test_argument_fills_hole(void **state)
{
    (void)state;
    struct nb_jserr err;
    nb_jserr_set(&err, NB_JSERR_STREAM_INVALID_CONFIG, "roll-ups require the purge permission");
    assert_int_equal(err.code, 500);
    assert_int_equal(err.err_code, 10052);
    assert_string_equal(err.description, "roll-ups require the purge permission");
    nb_jserr_set(&err, NB_JSERR_INVALID_JSON, NULL);
    assert_string_equal(err.description, "invalid JSON: ");
    nb_jserr_setf(&err, NB_JSERR_STREAM_WRONG_LAST_SEQUENCE, "%d", 6);
    assert_int_equal(err.err_code, 10071);
    assert_string_equal(err.description, "wrong last sequence: 6");
}

static void
test_truncation(void **state)
{
    (void)state;
    struct nb_jserr err;
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nb_jserr_set(&err, NB_JSERR_INVALID_JSON, big);
    assert_int_equal(strlen(err.description), sizeof err.description - 1);
    assert_memory_equal(err.description, "invalid JSON: aaa", 17);

    /* "é" is two bytes; a cut must not leave its first byte alone. */
    char accents[300] = "";
    for (int i = 0; i < 140; i++)
        strcat(accents, "\xc3\xa9");
    nb_jserr_setf(&err, NB_JSERR_INVALID_JSON, "%s", accents);
    size_t n = strlen(err.description);
    assert_true(n < sizeof err.description);
    assert_int_equal((n - strlen("invalid JSON: ")) % 2, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_entry_ignores_arg),
        cmocka_unit_test(test_argument_fills_hole),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
