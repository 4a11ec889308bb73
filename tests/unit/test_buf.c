/*
 * The byte buffer (libproto/np_buf.c): empty until used, always NUL-terminated after an add,
 * binary bytes kept, growth that keeps what was there, and reuse after release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "np.h"
#include "np_buf.h"

static void
test_add(void **state)
{
    (void)state;
    struct np_buf b = {0};
    assert_int_equal(np_buf_add(&b, "", 0), 0);
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, "");
    assert_int_equal(np_buf_adds(&b, "hello"), 0);
    assert_int_equal(np_buf_add(&b, ", \0x", 4), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.ptr, "hello, \0x", 10);
    np_buf_release(&b);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(np_buf_adds(&b, "again"), 0);
    assert_string_equal(b.ptr, "again");
    np_buf_release(&b);
}

static void
test_growth(void **state)
{
    (void)state;
    struct np_buf b = {0};
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        assert_int_equal(np_buf_add(&b, &c, 1), 0);
        assert_true(b.cap > b.len);
        assert_int_equal(b.ptr[b.len], '\0');
    }
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.ptr[i], 'a' + i % 26);
    size_t cap = b.cap;
    assert_int_equal(np_buf_reserve(&b, cap - b.len - 1), 0);
    assert_int_equal(b.cap, cap);
    assert_int_equal(np_buf_reserve(&b, SIZE_MAX - 8), NP_ENOMEM);
    assert_int_equal(b.len, 10000);
    np_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
