/*
 * The shell's word splitting (cmd/cli_words.c): sh quoting without expansion, command separators
 * and the errors for unclosed quotes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cli_words.h"

/* Splits text into commands; want lists each command's words joined by '|', commands by '/'. */
static void
expect_split(const char *text, const char *want)
{
    char got[512] = "";
    struct cli_words w = {0};
    int rc;
    while ((rc = cli_words_next(&text, &w)) == CLI_WORDS_CMD) {
        if (*got) strcat(got, "/");
        for (int i = 0; i < w.n; i++) {
            if (i) strcat(got, "|");
            strcat(got, w.v[i]);
        }
        assert_null(w.v ? w.v[w.n] : NULL);
    }
    assert_int_equal(rc, CLI_WORDS_END);
    assert_string_equal(got, want);
    cli_words_free(&w);
}

static void
expect_error(const char *text, int want)
{
    struct cli_words w = {0};
    int rc;
    while ((rc = cli_words_next(&text, &w)) == CLI_WORDS_CMD) {
    }
    assert_int_equal(rc, want);
    assert_int_equal(w.n, 0);
}

static void
test_blanks(void **state)
{
    (void)state;
    expect_split("pub  x\thi", "pub|x|hi");
    expect_split("  sub x  ", "sub|x");
    expect_split("", "");
}

static void
test_single_quotes(void **state)
{
    (void)state;
    expect_split("pub x 'a b  c'", "pub|x|a b  c");
    expect_split("sub 'orders.>'", "sub|orders.>");
    expect_split("pub x 'no \\escape \"here\"'", "pub|x|no \\escape \"here\"");
    expect_split("pub x ''", "pub|x|");
    expect_split("pub x 'a'b'c'", "pub|x|abc");
}

static void
test_double_quotes(void **state)
{
    (void)state;
    expect_split("pub x \"a 'b' c\"", "pub|x|a 'b' c");
    expect_split("pub x \"q\\\"q\"", "pub|x|q\"q");
    expect_split("pub x \"back\\\\slash\"", "pub|x|back\\slash");
    expect_split("pub x \"keep\\n\"", "pub|x|keep\\n");
    expect_split("pub x \"$HOME\"", "pub|x|$HOME");
}

static void
test_backslash(void **state)
{
    (void)state;
    expect_split("pub x a\\ b", "pub|x|a b");
    expect_split("pub x \\'", "pub|x|'");
    expect_split("pub x \\;", "pub|x|;");
}

static void
test_separators(void **state)
{
    (void)state;
    expect_split("pub a 1; pub b 2", "pub|a|1/pub|b|2");
    expect_split("pub a 1;pub b 2\npub c 3", "pub|a|1/pub|b|2/pub|c|3");
    expect_split("pub a 'x;y'", "pub|a|x;y");
    expect_split(";", "");
}

static void
test_comments(void **state)
{
    (void)state;
    expect_split("# nothing\npub a 1 # trailing", "pub|a|1");
    expect_split("pub a#b", "pub|a#b");
}

static void
test_no_expansion(void **state)
{
    (void)state;
    expect_split("pub * $X ~ `id` a|b", "pub|*|$X|~|`id`|a|b");
}

static void
test_unterminated(void **state)
{
    (void)state;
    expect_error("pub x 'open", CLI_WORDS_UNTERMINATED);
    expect_error("pub x \"open", CLI_WORDS_UNTERMINATED);
    expect_error("pub x \\", CLI_WORDS_UNTERMINATED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blanks),        cmocka_unit_test(test_single_quotes),
        cmocka_unit_test(test_double_quotes), cmocka_unit_test(test_backslash),
        cmocka_unit_test(test_separators),    cmocka_unit_test(test_comments),
        cmocka_unit_test(test_no_expansion),  cmocka_unit_test(test_unterminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
