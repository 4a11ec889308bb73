/*
 * The generator (libproto/np_rand.c): the splitmix64 reference values, determinism per seed, and
 * ids drawn only from their alphabet with every character reachable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "np_rand.h"

static void
test_reference_values(void **state)
{
    (void)state;
    /* splitmix64 from seed 0, as published with the algorithm. */
    struct np_rand r;
    np_rand_seed(&r, 0);
    assert_true(np_rand_next(&r) == 0xE220A8397B1DCDAFu);
    assert_true(np_rand_next(&r) == 0x6E789E6AA1B965F4u);
    assert_true(np_rand_next(&r) == 0x06C45D188009454Fu);
}

static void
test_seeds(void **state)
{
    (void)state;
    struct np_rand a, b;
    np_rand_seed(&a, 42);
    np_rand_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        assert_true(np_rand_next(&a) == np_rand_next(&b));
    np_rand_seed(&b, 43);
    assert_true(np_rand_next(&a) != np_rand_next(&b));
}

static void
test_fill(void **state)
{
    (void)state;
    struct np_rand r;
    np_rand_seed(&r, 7);
    char id[NP_NUID_LEN + 1] = {0}, other[NP_NUID_LEN + 1] = {0};
    np_rand_fill(&r, id, NP_NUID_LEN, NP_RAND_BASE62);
    np_rand_fill(&r, other, NP_NUID_LEN, NP_RAND_BASE62);
    assert_int_equal(strspn(id, NP_RAND_BASE62), NP_NUID_LEN);
    assert_string_not_equal(id, other);
    bool seen[62] = {false};
    char many[4096];
    np_rand_fill(&r, many, sizeof many, NP_RAND_BASE62);
    for (size_t i = 0; i < sizeof many; i++) {
        const char *at = strchr(NP_RAND_BASE62, many[i]);
        assert_non_null(at);
        seen[at - NP_RAND_BASE62] = true;
    }
    for (size_t i = 0; i < 62; i++)
        assert_true(seen[i]);
    char one[3] = "xy";
    np_rand_fill(&r, one, 2, "Q");
    assert_string_equal(one, "QQ");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
