#include "np.h"
#include "np_b64.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
test_encode(void **state)
{
    (void)state;
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    struct np_buf b = {NULL, 0, 0};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        b.len = 0;
        assert_int_equal(np_b64_encode(vec[i][0], strlen(vec[i][0]), &b), 0);
        assert_string_equal(b.ptr, vec[i][1]);
        assert_int_equal(b.len, strlen(vec[i][1]));
    }
    b.len = 0;
    assert_int_equal(np_b64_encode("\xff\xfe\xfd\x00", 4, &b), 0);
    assert_string_equal(b.ptr, "//79AA==");
    /* It appends. */
    assert_int_equal(np_b64_encode("f", 1, &b), 0);
    assert_string_equal(b.ptr, "//79AA==Zg==");
    np_buf_release(&b);
}

static void
test_decode(void **state)
{
    (void)state;
    static const char *const vec[][2] = {
        {"", ""},       {"Zg==", "f"},   {"Zg", "f"},
        {"Zm8=", "fo"}, {"Zm9v", "foo"}, {"Zm9vYmFy", "foobar"},
    };
    struct np_buf b = {NULL, 0, 0};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        b.len = 0;
        assert_int_equal(np_b64_decode(vec[i][0], strlen(vec[i][0]), &b), 0);
        assert_int_equal(b.len, strlen(vec[i][1]));
        assert_memory_equal(b.ptr, vec[i][1], b.len);
    }
    b.len = 0;
    assert_int_equal(np_b64_decode("//79AA==", 8, &b), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.ptr, "\xff\xfe\xfd\x00", 4);
    assert_int_equal(np_b64_decode("Zm9v!", 5, &b), NP_EINVAL);
    assert_int_equal(np_b64_decode("Zm9vY", 5, &b), NP_EINVAL);
    np_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
